"""Per-layer GPU forward times published by PipeDream, imported onto the 224x224 layer chains.

PipeDream (Narayanan et al., SOSP 2019; github.com/msr-fiddle/pipedream, MIT licence) publishes the
per-module profiles its planner used, ``profiler/image_classification/profiles/<model>/graph.txt``;
copies of the AlexNet and VGG16 ones ship unchanged in ``profiles/pipedream/`` and the licence beside
the imported profiles (``profiles/LICENSE.pipedream.txt``). What is known of them:

- forward times per module in milliseconds for one batch, fp32, ImageNet input 3x224x224, taken with
  ``torch.cuda.synchronize`` around each module during training (train mode), averaged over the
  profiled iterations (100, as PipeDream's profiler code reads);
- the batch is not written, but the ``Input`` node's activation bytes give it: AlexNet 256 images,
  VGG16 128;
- the GPU model is not recorded (the PipeDream papers used NVIDIA V100 and Titan X machines);
- no whole-model time is published (the ``Input`` node's time is data loading).

Mapping onto the layer chains of :mod:`edge_envs.dnn.models` (torchvision's layouts, as PipeDream's):
a convolution or fully connected module and the ReLU after it form one unit, a max pool is its own
unit; ``Size``, ``View`` (the flatten) and ``Dropout`` (the identity at inference, left out of the
chains) are published at 0.000 ms and dropped. The import checks every unit's kind, its parameter
bytes and its output activation (divided by the batch) against the chain. The published value goes to
``median_s``, ``p10_s`` and ``p90_s`` alike (no spread is published); input/output bytes and FLOPs
are this project's, counted on the chain.

Regenerate the shipped ``alexnet_224__gpu.json`` and ``vgg16_224__gpu.json``::

    python -m edge_envs.dnn.pipedream
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from edge_envs.dnn.models import build_model, state_bytes
from edge_envs.dnn.profile import (
    PROFILE_DIR,
    DeviceInfo,
    LatencyStats,
    LayerProfile,
    Profile,
    Source,
    profile_filename,
    save_profile,
)
from edge_envs.dnn.profiler import layer_sizes

RAW_DIR = PROFILE_DIR / "pipedream"
COMMIT = "7db6a1c3e64996d5b319faec6ca38cb31bfea1c4"
GRAPHS = {"alexnet_224": ("alexnet", "alexnet_graph.txt"), "vgg16_224": ("vgg16", "vgg16_graph.txt")}
ITERATIONS = 100  # profiled training iterations averaged by PipeDream's profiler (NUM_STEPS_TO_PROFILE)
UNIT_KIND = {"Conv2d": "conv", "MaxPool2d": "pool", "Linear": "linear"}
FREE = ("Size", "View", "Dropout")  # published at 0.000 ms; not units of the chains
SOURCE_DEVICE = "one NVIDIA GPU, model not recorded (the PipeDream papers used V100 and Titan X machines)"
NOTES = (
    "forward time per layer of one batch in training mode (fp32, torch.cuda.synchronize around each module), "
    f"mean over the profiled iterations ({ITERATIONS} as PipeDream's profiler code reads), stored alike as "
    "median_s, p10_s and p90_s (no spread published); conv or fc + ReLU summed into one unit, Size/View/Dropout "
    "(0.000 ms) dropped; bytes and FLOPs counted by this project on the layer chain; no whole-model time published"
)

_NODE = re.compile(
    r"^(node\d+) -- (.+?) -- forward_compute_time=([\d.]+), backward_compute_time=([\d.]+), "
    r"activation_size=([\d.]+), parameter_size=([\d.]+)$"
)
_EDGE = re.compile(r"^\s*(node\d+) -- (node\d+)$")


@dataclass(frozen=True)
class Node:
    """One module of a PipeDream graph: forward time of a batch (ms), output activation and parameter bytes."""

    name: str
    module: str
    forward_ms: float
    activation_bytes: int
    parameter_bytes: int

    @property
    def op(self) -> str:
        """The module's class name: ``Conv2d(3, 64, ...)`` -> ``Conv2d``."""
        return self.module.split("(", 1)[0]


def parse_graph(text: str) -> list[Node]:
    """The nodes of a ``graph.txt`` in execution order (its edge list read as a DAG; ties by node number)."""
    nodes, edges = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if match := _NODE.match(line):
            name, module, forward, _, activation, parameters = match.groups()
            nodes[name] = Node(name, module, float(forward), int(float(activation)), int(float(parameters)))
        elif match := _EDGE.match(line):
            edges.append(match.groups())
        else:
            raise ValueError(f"graph line {number}: neither a node nor an edge: {line!r}")
    unknown = {n for edge in edges for n in edge} - set(nodes)
    if unknown:
        raise ValueError(f"graph: edges name unknown nodes {sorted(unknown)}")
    waiting = {name: sum(1 for _, b in edges if b == name) for name in nodes}
    order, ready = [], sorted((n for n, count in waiting.items() if count == 0), key=lambda n: int(n[4:]))
    while ready:
        name = ready.pop(0)
        order.append(nodes[name])
        for a, b in edges:
            if a == name:
                waiting[b] -= 1
                if waiting[b] == 0:
                    ready.append(b)
        ready.sort(key=lambda n: int(n[4:]))
    if len(order) != len(nodes):
        raise ValueError("graph: the edges hold a cycle")
    return order


def group_units(nodes: list[Node]) -> list[list[Node]]:
    """Group the modules after ``Input`` into the chain's units (see the module docstring)."""
    if not nodes or nodes[0].op != "Input":
        raise ValueError("graph: must start at its Input node")
    units: list[list[Node]] = []
    for node in nodes[1:]:
        if node.op in FREE:
            if node.forward_ms != 0.0:
                raise ValueError(
                    f"graph: {node.name} ({node.op}) takes {node.forward_ms} ms; only 0 ms ones are dropped"
                )
        elif node.op == "ReLU":
            if not units or units[-1][0].op not in ("Conv2d", "Linear") or units[-1][-1].op == "ReLU":
                raise ValueError(f"graph: {node.name} (ReLU) follows no convolution or fully connected layer")
            units[-1].append(node)
        elif node.op in UNIT_KIND:
            units.append([node])
        else:
            raise ValueError(f"graph: {node.name} is a {node.op}, which the layer chains do not hold")
    return units


def import_profile(model: str, text: str | None = None) -> Profile:
    """The PipeDream profile of ``model`` ("alexnet_224" or "vgg16_224") in this package's profile format,
    from ``text`` (a ``graph.txt``; default: the copy in ``profiles/pipedream/``)."""
    if model not in GRAPHS:
        raise ValueError(f"model: PipeDream publishes profiles for {tuple(GRAPHS)}, not {model!r}")
    name, filename = GRAPHS[model]
    nodes = parse_graph((RAW_DIR / filename).read_text() if text is None else text)
    chain = build_model(model, device="meta")
    image = torch.empty(1, *chain.input_shape, device="meta")
    sizes = layer_sizes(chain, image)
    image_bytes = sizes[0][0]
    batch, rest = divmod(nodes[0].activation_bytes, image_bytes)
    if rest:
        raise ValueError(f"graph: Input holds {nodes[0].activation_bytes} bytes, not a whole number of images")
    units = group_units(nodes)
    if len(units) != len(chain.layers):
        raise ValueError(f"graph: {len(units)} units, but {model} has {len(chain.layers)} layers")
    layers = []
    for unit, (layer, module), kind, (input_bytes, output_bytes, flops) in zip(units, chain.layers, chain.kinds, sizes):
        where = f"graph: {layer} ({', '.join(node.name for node in unit)})"
        if UNIT_KIND[unit[0].op] != kind:
            raise ValueError(f"{where}: is a {UNIT_KIND[unit[0].op]} unit, the chain has a {kind}")
        if sum(node.parameter_bytes for node in unit) != state_bytes(module):
            raise ValueError(
                f"{where}: {sum(n.parameter_bytes for n in unit)} parameter bytes, the chain has {state_bytes(module)}"
            )
        if unit[-1].activation_bytes != batch * output_bytes:
            raise ValueError(f"{where}: outputs {unit[-1].activation_bytes} bytes, not {batch} x {output_bytes}")
        seconds = round(sum(node.forward_ms for node in unit) / 1e3, 12)
        layers.append(
            LayerProfile(
                name=layer,
                kind=kind,
                latency={batch: LatencyStats(seconds, seconds, seconds, ITERATIONS)},
                input_bytes=input_bytes,
                output_bytes=output_bytes,
                param_bytes=state_bytes(module),
                flops=flops,
            )
        )
    source = Source(
        kind="imported",
        batch=batch,
        device=SOURCE_DEVICE,
        notes=NOTES,
        origin=f"PipeDream (github.com/msr-fiddle/pipedream, commit {COMMIT}), "
        f"profiler/image_classification/profiles/{name}/graph.txt",
        licence="MIT, Copyright (c) 2015 - present Microsoft Corporation; text in "
        "edge_envs/dnn/profiles/LICENSE.pipedream.txt",
    )
    device = DeviceInfo(
        kind="cuda",
        name="NVIDIA GPU (model not recorded)",
        torch_version=None,
        dtype="float32",
        threads=None,
        date=None,
        host=None,
    )
    return Profile(
        model=model,
        input_shape=chain.input_shape,
        device=device,
        batch_sizes=(batch,),
        layers=tuple(layers),
        model_latency=None,
        source=source,
    )


def main(folder: Path = PROFILE_DIR) -> None:
    for model in GRAPHS:
        path = save_profile(import_profile(model), folder / profile_filename(model, "cuda"))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
