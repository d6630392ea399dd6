"""Latency profiles of the layer chains: schema, loader, writer and the shipped files.

A profile file is JSON, schema version 1:

```
{"schema": 1, "model": "vgg16", "input_shape": [3, 32, 32],
 "device": {"kind": "cpu"|"cuda", "name": str, "torch_version": str, "dtype": "float32",
            "threads": int, "date": ISO 8601, "host": str},
 "batch_sizes": [1, ...],
 "layers": [{"name": str, "kind": str,
             "latency": {"<batch>": {"median_s": s, "p10_s": s, "p90_s": s, "repeats": int}, ...},
             "input_bytes": int, "output_bytes": int, "param_bytes": int, "flops": int}, ...],
 "model_latency": {"<batch>": {"median_s": ..., "p10_s": ..., "p90_s": ..., "repeats": ...}}}
```

Latencies are per forward pass of a batch of ``<batch>`` images, in seconds. Bytes and FLOPs are for
one image (batch 1): ``input_bytes``/``output_bytes`` are the activations entering and leaving the
layer, ``param_bytes`` its parameters and buffers, ``flops`` what ``torch.utils.flop_counter``
counts (2 per multiply-accumulate of convolutions and matrix products).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from edge_envs.dnn.models import KINDS, MODELS, build_model, state_bytes
from edge_envs.io import write_atomically

SCHEMA_VERSION = 1
PROFILE_DIR = Path(__file__).with_name("profiles")
DEVICE_KINDS = ("cpu", "cuda")
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
SHIPPED_DEVICES = ("cpu", "gpu")  # file suffix: <model>__cpu.json (IoT device), <model>__gpu.json (edge server)


class ProfileError(ValueError):
    """A profile file is malformed or does not match its model; the message names the field."""


@dataclass(frozen=True)
class LatencyStats:
    """Latency of one forward pass over ``repeats`` timed repeats, in seconds."""

    median_s: float
    p10_s: float
    p90_s: float
    repeats: int


@dataclass(frozen=True)
class LayerProfile:
    name: str
    kind: str
    latency: dict[int, LatencyStats]  # batch size -> stats
    input_bytes: int
    output_bytes: int
    param_bytes: int
    flops: int


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cpu" or "cuda"
    name: str  # e.g. the CPU model from /proc/cpuinfo, or the CUDA device name
    torch_version: str
    dtype: str
    threads: int  # torch intra-op threads during the measurement
    date: str  # ISO 8601
    host: str


@dataclass(frozen=True)
class Profile:
    model: str
    input_shape: tuple[int, int, int]
    device: DeviceInfo
    batch_sizes: tuple[int, ...]
    layers: tuple[LayerProfile, ...]
    model_latency: dict[int, LatencyStats]  # whole-model forward, batch size -> stats
    schema: int = SCHEMA_VERSION

    def layer_latency(self, batch: int = 1, stat: str = "median_s") -> np.ndarray:
        """Per-layer latency (seconds) at ``batch`` as a float64 array."""
        if batch not in self.batch_sizes:
            raise ValueError(f"batch: {batch} was not measured in this profile; measured: {list(self.batch_sizes)}")
        return np.array([getattr(layer.latency[batch], stat) for layer in self.layers], dtype=np.float64)

    def layer_values(self, field: str) -> np.ndarray:
        """A per-layer integer field (input_bytes, output_bytes, param_bytes, flops) as a float64 array."""
        return np.array([getattr(layer, field) for layer in self.layers], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        def stats(by_batch: dict[int, LatencyStats]) -> dict[str, Any]:
            return {str(b): vars(s).copy() for b, s in sorted(by_batch.items())}

        return {
            "schema": self.schema,
            "model": self.model,
            "input_shape": list(self.input_shape),
            "device": vars(self.device).copy(),
            "batch_sizes": list(self.batch_sizes),
            "layers": [
                {"name": layer.name, "kind": layer.kind, "latency": stats(layer.latency),
                 "input_bytes": layer.input_bytes, "output_bytes": layer.output_bytes,
                 "param_bytes": layer.param_bytes, "flops": layer.flops}
                for layer in self.layers
            ],
            "model_latency": stats(self.model_latency),
        }


# ---------------------------------------------------------------- validation


def _fail(field: str, message: str) -> ProfileError:
    return ProfileError(f"{field}: {message}")


def _keys(data: Any, field: str, required: tuple[str, ...]) -> dict:
    if not isinstance(data, dict):
        raise _fail(field, f"must be an object, got {type(data).__name__}")
    missing = [k for k in required if k not in data]
    if missing:
        raise _fail(field, f"missing key(s) {missing}")
    extra = sorted(set(data) - set(required))
    if extra:
        raise _fail(field, f"unknown key(s) {extra}; allowed {list(required)}")
    return data


def _int(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"must be an integer, got {value!r}")
    if value < minimum:
        raise _fail(field, f"must be >= {minimum}, got {value}")
    return value


def _seconds(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(field, f"must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise _fail(field, f"must be finite and >= 0, got {value}")
    return float(value)


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(field, f"must be a non-empty string, got {value!r}")
    return value


def _stats(data: Any, field: str) -> LatencyStats:
    data = _keys(data, field, ("median_s", "p10_s", "p90_s", "repeats"))
    median, p10, p90 = (_seconds(data[k], f"{field}.{k}") for k in ("median_s", "p10_s", "p90_s"))
    if not p10 <= median <= p90:
        raise _fail(field, f"must satisfy p10_s <= median_s <= p90_s, got {p10} / {median} / {p90}")
    return LatencyStats(median, p10, p90, _int(data["repeats"], f"{field}.repeats", minimum=1))


def _by_batch(data: Any, field: str, batch_sizes: tuple[int, ...]) -> dict[int, LatencyStats]:
    if not isinstance(data, dict):
        raise _fail(field, f"must be an object keyed by batch size, got {type(data).__name__}")
    expected = sorted(str(b) for b in batch_sizes)
    if sorted(data) != expected:
        raise _fail(field, f"keys must be the batch sizes {expected}, got {sorted(data)}")
    return {b: _stats(data[str(b)], f"{field}['{b}']") for b in batch_sizes}


def _device(data: Any) -> DeviceInfo:
    data = _keys(data, "device", tuple(DeviceInfo.__dataclass_fields__))
    kind = _str(data["kind"], "device.kind")
    if kind not in DEVICE_KINDS:
        raise _fail("device.kind", f"must be one of {DEVICE_KINDS}, got {kind!r}")
    dtype = _str(data["dtype"], "device.dtype")
    if dtype not in DTYPE_BYTES:
        raise _fail("device.dtype", f"must be one of {tuple(DTYPE_BYTES)}, got {dtype!r}")
    date = _str(data["date"], "device.date")
    try:
        datetime.fromisoformat(date)
    except ValueError:
        raise _fail("device.date", f"must be an ISO 8601 date, got {date!r}") from None
    return DeviceInfo(kind=kind, name=_str(data["name"], "device.name"),
                      torch_version=_str(data["torch_version"], "device.torch_version"), dtype=dtype,
                      threads=_int(data["threads"], "device.threads", minimum=1), date=date,
                      host=_str(data["host"], "device.host"))


def _layer(data: Any, index: int, batch_sizes: tuple[int, ...]) -> LayerProfile:
    field = f"layers[{index}]"
    data = _keys(data, field, ("name", "kind", "latency", "input_bytes", "output_bytes", "param_bytes", "flops"))
    kind = _str(data["kind"], f"{field}.kind")
    if kind not in KINDS:
        raise _fail(f"{field}.kind", f"must be one of {KINDS}, got {kind!r}")
    return LayerProfile(
        name=_str(data["name"], f"{field}.name"), kind=kind,
        latency=_by_batch(data["latency"], f"{field}.latency", batch_sizes),
        **{k: _int(data[k], f"{field}.{k}") for k in ("input_bytes", "output_bytes", "param_bytes", "flops")},
    )


@functools.lru_cache(maxsize=None)
def _model_signature(model: str, dtype: str) -> tuple[tuple[int, ...], tuple[tuple[str, str, int], ...]]:
    """Input shape and (name, kind, param_bytes) per layer of a known model, built without weights."""
    import torch

    chain = build_model(model, device="meta").to(getattr(torch, dtype))
    return chain.input_shape, tuple(
        (name, kind, state_bytes(module)) for (name, module), kind in zip(chain.layers, chain.kinds))


def _check_against_model(profile: Profile) -> None:
    input_shape, layers = _model_signature(profile.model, profile.device.dtype)
    if profile.input_shape != input_shape:
        raise _fail("input_shape", f"{profile.model} takes {list(input_shape)}, got {list(profile.input_shape)}")
    if len(profile.layers) != len(layers):
        raise _fail("layers", f"{profile.model} has {len(layers)} layers, the profile has {len(profile.layers)}")
    for index, (layer, (name, kind, param_bytes)) in enumerate(zip(profile.layers, layers)):
        for field, want in (("name", name), ("kind", kind), ("param_bytes", param_bytes)):
            if getattr(layer, field) != want:
                raise _fail(f"layers[{index}].{field}",
                            f"{profile.model} layer {index} has {field} {want!r}, got {getattr(layer, field)!r}")


def profile_from_dict(data: Any) -> Profile:
    """Validate a decoded profile against schema 1 (and against its model, when the model is one of
    ``MODELS``); raise :class:`ProfileError` naming the first bad field."""
    data = _keys(data, "profile", tuple(f for f in Profile.__dataclass_fields__))
    if data["schema"] != SCHEMA_VERSION:
        raise _fail("schema", f"unsupported schema version {data['schema']!r}; this loader reads {SCHEMA_VERSION}")
    model = _str(data["model"], "model")
    shape = data["input_shape"]
    if not isinstance(shape, list) or len(shape) != 3:
        raise _fail("input_shape", f"must be [channels, height, width], got {shape!r}")
    input_shape = tuple(_int(v, f"input_shape[{i}]", minimum=1) for i, v in enumerate(shape))
    device = _device(data["device"])
    sizes = data["batch_sizes"]
    if not isinstance(sizes, list) or not sizes:
        raise _fail("batch_sizes", f"must be a non-empty list of batch sizes, got {sizes!r}")
    batch_sizes = tuple(_int(b, f"batch_sizes[{i}]", minimum=1) for i, b in enumerate(sizes))
    if list(batch_sizes) != sorted(set(batch_sizes)):
        raise _fail("batch_sizes", f"must be strictly increasing, got {list(batch_sizes)}")
    if not isinstance(data["layers"], list) or not data["layers"]:
        raise _fail("layers", "must be a non-empty list")
    layers = tuple(_layer(layer, i, batch_sizes) for i, layer in enumerate(data["layers"]))
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise _fail("layers", "layer names must be unique")
    image_bytes = math.prod(input_shape) * DTYPE_BYTES[device.dtype]
    if layers[0].input_bytes != image_bytes:
        raise _fail("layers[0].input_bytes", f"must equal the input image's {image_bytes} bytes, got {layers[0].input_bytes}")
    for i in range(1, len(layers)):
        if layers[i].input_bytes != layers[i - 1].output_bytes:
            raise _fail(f"layers[{i}].input_bytes",
                        f"must equal layers[{i - 1}].output_bytes ({layers[i - 1].output_bytes}), got {layers[i].input_bytes}")
    profile = Profile(model=model, input_shape=input_shape, device=device, batch_sizes=batch_sizes, layers=layers,
                      model_latency=_by_batch(data["model_latency"], "model_latency", batch_sizes))
    if model in MODELS:
        _check_against_model(profile)
    return profile


def load_profile(path: str | os.PathLike) -> Profile:
    """Read and validate a profile file; :class:`ProfileError` names the file and the bad field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ProfileError(f"{path}: not valid JSON ({error})") from None
    try:
        return profile_from_dict(data)
    except ProfileError as error:
        raise ProfileError(f"{path}: {error}") from None


def _format(data: dict[str, Any]) -> str:
    """JSON text with one line per top-level field and one line per layer (readable, diff-friendly)."""
    fields = []
    for key, value in data.items():
        if key == "layers":
            rows = ",\n".join(f"  {json.dumps(layer)}" for layer in value)
            fields.append(f' "layers": [\n{rows}\n ]')
        else:
            fields.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def save_profile(profile: Profile, path: str | os.PathLike) -> Path:
    """Validate ``profile`` and write it to ``path`` atomically (temporary file + ``os.replace``)."""
    data = profile.to_dict()
    profile_from_dict(data)  # never write a file the loader would reject
    return write_atomically(path, _format(data))


def profile_filename(model: str, device_kind: str) -> str:
    """File name of a profile in a profiles folder: ``<model>__cpu.json`` or ``<model>__gpu.json``."""
    return f"{model}__{'gpu' if device_kind == 'cuda' else device_kind}.json"


@functools.lru_cache(maxsize=None)
def shipped_profile(model: str, device: str = "cpu") -> Profile:
    """The profile of ``model`` shipped in ``edge_envs/dnn/profiles/``: ``device="cpu"`` is one CPU core
    (the IoT device), ``device="gpu"`` an NVIDIA GPU (the edge server). Cached; do not mutate."""
    if model not in MODELS:
        raise ValueError(f"model: unknown model {model!r}; allowed: {', '.join(MODELS)}")
    if device not in SHIPPED_DEVICES:
        raise ValueError(f"device: must be one of {SHIPPED_DEVICES}, got {device!r}")
    path = PROFILE_DIR / profile_filename(model, device)
    if not path.exists():
        raise FileNotFoundError(
            f"no {device.upper()} profile of {model} is shipped yet ({path.name} is missing). Measure one on "
            f"your hardware with `edge-envs profile --model {model} --device {'cuda' if device == 'gpu' else 'cpu'} "
            f"--out FILE` and pass that file instead; see edge_envs/dnn/profiles/README.md")
    return load_profile(path)
