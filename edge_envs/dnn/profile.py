"""Latency profiles of the layer chains: schema, loader, writer and the shipped files.

A profile file is JSON, schema version 2:

```
{"schema": 2, "model": "vgg16", "input_shape": [3, 32, 32],
 "source": {"kind": "measured", "origin": "edge-envs profile"}
        or {"kind": "imported", "origin": str, "licence": str, "batch": int, "device": str, "notes": str},
 "device": {"kind": "cpu"|"cuda", "name": str, "torch_version": str, "dtype": "float32",
            "threads": int, "date": ISO 8601, "host": str},
 "batch_sizes": [1, ...],
 "layers": [{"name": str, "kind": str,
             "latency": {"<batch>": {"median_s": s, "p10_s": s, "p90_s": s, "repeats": int}, ...},
             "input_bytes": int, "output_bytes": int, "param_bytes": int, "flops": int}, ...],
 "model_latency": {"<batch>": {"median_s": ..., "p10_s": ..., "p90_s": ..., "repeats": ...}} or null}
```

``source`` says where the latencies come from: ``measured`` by this project's profiler
(``edge-envs profile``) on the machine ``device`` describes, or ``imported`` from a publication, with
its origin, licence, the batch its times are for, what is known of its device, and how its values
were mapped onto the layers. An imported profile may leave unknown device fields null
(``torch_version``, ``threads``, ``date``, ``host``) and ``model_latency`` null (no whole-model
timing published). Schema 1 files (written before the ``source`` block) read as measured.

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

SCHEMA_VERSION = 2
SCHEMA_VERSIONS = (1, 2)  # read; written: SCHEMA_VERSION
SOURCE_KINDS = ("measured", "imported")
MEASURED = "edge-envs profile"  # origin of the profiles this project measures
PROFILE_DIR = Path(__file__).with_name("profiles")
DEVICE_KINDS = ("cpu", "cuda")
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
SHIPPED_DEVICES = ("cpu", "gpu")  # file suffix: <model>__cpu.json (IoT device), <model>__gpu.json (edge server)
# A forward pass (one layer or the whole model, any batch) slower than an hour is a unit or typing error,
# not a measurement; the bound also keeps the envs' costs (latency times latency in EdgeUpload) finite.
MAX_LATENCY_S = 3600.0


class ProfileError(ValueError):
    """A profile file is malformed or does not match its model; the message names the field."""


class ProfileNotShipped(FileNotFoundError, ValueError):
    """No profile of this model and device ships with the package; the message lists those that do."""


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
    torch_version: str | None  # None: not recorded (imported profiles only)
    dtype: str
    threads: int | None  # torch intra-op threads during the measurement; None: not recorded (imported only)
    date: str | None  # ISO 8601; None: not recorded (imported only)
    host: str | None  # None: not recorded (imported only)


@dataclass(frozen=True)
class Source:
    """Where a profile's latencies come from: ``measured`` by this project's profiler on the profile's
    ``device``, or ``imported`` from a publication (then every other field is set)."""

    kind: str  # "measured" or "imported"
    origin: str  # measured: "edge-envs profile"; imported: the publication (project, commit, file)
    licence: str | None = None  # imported: the numbers' licence and where its text ships
    batch: int | None = None  # imported: the batch size the published times are for
    device: str | None = None  # imported: what is known of the device
    notes: str | None = None  # imported: what the values are and how they map onto the layers

    def describe(self, device: DeviceInfo) -> str:
        """One line naming the source, for tables and messages."""
        if self.kind == "measured":
            return f"measured by this project ({self.origin}) on {device.name}, {device.date}"
        return (
            f"imported from {self.origin}; licence: {self.licence}; batch {self.batch}; device: {self.device}; "
            f"{self.notes}"
        )


MEASURED_SOURCE = Source(kind="measured", origin=MEASURED)


@dataclass(frozen=True)
class Profile:
    model: str
    input_shape: tuple[int, int, int]
    device: DeviceInfo
    batch_sizes: tuple[int, ...]
    layers: tuple[LayerProfile, ...]
    model_latency: dict[int, LatencyStats] | None  # whole-model forward, batch size -> stats; None: not published
    source: Source = MEASURED_SOURCE
    schema: int = SCHEMA_VERSION

    def describe_source(self) -> str:
        """One line: measured by this project (on which device, when) or imported (from where, licence, batch)."""
        return self.source.describe(self.device)

    def layer_latency(self, batch: int = 1, stat: str = "median_s") -> np.ndarray:
        """Per-layer latency (seconds) at ``batch`` as a float64 array."""
        if batch not in self.batch_sizes:
            raise ValueError(f"batch: {batch} was not measured in this profile; measured: {list(self.batch_sizes)}")
        return np.array([getattr(layer.latency[batch], stat) for layer in self.layers], dtype=np.float64)

    def per_image_latency(self, batch: int) -> np.ndarray:
        """Per-layer latency at ``batch`` divided by ``batch``: seconds per image (at batch 1, the latency)."""
        return self.layer_latency(batch) / batch

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
            **({"source": {k: v for k, v in vars(self.source).items() if v is not None}} if self.schema >= 2 else {}),
            "device": vars(self.device).copy(),
            "batch_sizes": list(self.batch_sizes),
            "layers": [
                {
                    "name": layer.name,
                    "kind": layer.kind,
                    "latency": stats(layer.latency),
                    "input_bytes": layer.input_bytes,
                    "output_bytes": layer.output_bytes,
                    "param_bytes": layer.param_bytes,
                    "flops": layer.flops,
                }
                for layer in self.layers
            ],
            "model_latency": None if self.model_latency is None else stats(self.model_latency),
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
    if not math.isfinite(value) or not 0 <= value <= MAX_LATENCY_S:
        raise _fail(field, f"must be a number of seconds in [0, {MAX_LATENCY_S:g}], got {value}")
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


def _source(data: Any) -> Source:
    if not isinstance(data, dict) or data.get("kind") not in SOURCE_KINDS:
        kind = data.get("kind") if isinstance(data, dict) else data
        raise _fail("source.kind", f"must be one of {SOURCE_KINDS}, got {kind!r}")
    if data["kind"] == "measured":
        data = _keys(data, "source", ("kind", "origin"))
        if data["origin"] != MEASURED:
            raise _fail("source.origin", f"a measured profile comes from {MEASURED!r}, got {data['origin']!r}")
        return MEASURED_SOURCE
    data = _keys(data, "source", tuple(Source.__dataclass_fields__))
    text = {k: _str(data[k], f"source.{k}") for k in ("origin", "licence", "device", "notes")}
    return Source(kind="imported", batch=_int(data["batch"], "source.batch", minimum=1), **text)


def _device(data: Any, imported: bool) -> DeviceInfo:
    """The device block; an imported profile may leave what its publication does not record null."""
    data = _keys(data, "device", tuple(DeviceInfo.__dataclass_fields__))

    def unknown(key: str) -> bool:
        return imported and data[key] is None

    kind = _str(data["kind"], "device.kind")
    if kind not in DEVICE_KINDS:
        raise _fail("device.kind", f"must be one of {DEVICE_KINDS}, got {kind!r}")
    dtype = _str(data["dtype"], "device.dtype")
    if dtype not in DTYPE_BYTES:
        raise _fail("device.dtype", f"must be one of {tuple(DTYPE_BYTES)}, got {dtype!r}")
    date = None if unknown("date") else _str(data["date"], "device.date")
    if date is not None:
        try:
            datetime.fromisoformat(date)
        except ValueError:
            raise _fail("device.date", f"must be an ISO 8601 date, got {date!r}") from None
    return DeviceInfo(
        kind=kind,
        name=_str(data["name"], "device.name"),
        dtype=dtype,
        date=date,
        torch_version=None if unknown("torch_version") else _str(data["torch_version"], "device.torch_version"),
        threads=None if unknown("threads") else _int(data["threads"], "device.threads", minimum=1),
        host=None if unknown("host") else _str(data["host"], "device.host"),
    )


def _layer(data: Any, index: int, batch_sizes: tuple[int, ...]) -> LayerProfile:
    field = f"layers[{index}]"
    data = _keys(data, field, ("name", "kind", "latency", "input_bytes", "output_bytes", "param_bytes", "flops"))
    kind = _str(data["kind"], f"{field}.kind")
    if kind not in KINDS:
        raise _fail(f"{field}.kind", f"must be one of {KINDS}, got {kind!r}")
    return LayerProfile(
        name=_str(data["name"], f"{field}.name"),
        kind=kind,
        latency=_by_batch(data["latency"], f"{field}.latency", batch_sizes),
        **{k: _int(data[k], f"{field}.{k}") for k in ("input_bytes", "output_bytes", "param_bytes", "flops")},
    )


@functools.lru_cache(maxsize=None)
def _model_signature(model: str, dtype: str) -> tuple[tuple[int, ...], tuple[tuple[str, str, int], ...]]:
    """Input shape and (name, kind, param_bytes) per layer of a known model, built without weights."""
    import torch

    chain = build_model(model, device="meta").to(getattr(torch, dtype))
    return chain.input_shape, tuple(
        (name, kind, state_bytes(module)) for (name, module), kind in zip(chain.layers, chain.kinds)
    )


def _check_against_model(profile: Profile) -> None:
    input_shape, layers = _model_signature(profile.model, profile.device.dtype)
    if profile.input_shape != input_shape:
        raise _fail("input_shape", f"{profile.model} takes {list(input_shape)}, got {list(profile.input_shape)}")
    if len(profile.layers) != len(layers):
        raise _fail("layers", f"{profile.model} has {len(layers)} layers, the profile has {len(profile.layers)}")
    for index, (layer, (name, kind, param_bytes)) in enumerate(zip(profile.layers, layers)):
        for field, want in (("name", name), ("kind", kind), ("param_bytes", param_bytes)):
            if getattr(layer, field) != want:
                raise _fail(
                    f"layers[{index}].{field}",
                    f"{profile.model} layer {index} has {field} {want!r}, got {getattr(layer, field)!r}",
                )


def profile_from_dict(data: Any) -> Profile:
    """Validate a decoded profile against its schema (and against its model, when the model is one of
    ``MODELS``); raise :class:`ProfileError` naming the first bad field."""
    if not isinstance(data, dict):
        raise _fail("profile", f"must be an object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema not in SCHEMA_VERSIONS:
        raise _fail("schema", f"unsupported schema version {schema!r}; this loader reads {list(SCHEMA_VERSIONS)}")
    fields = tuple(f for f in Profile.__dataclass_fields__ if schema >= 2 or f != "source")
    data = _keys(data, "profile", fields)
    source = _source(data["source"]) if schema >= 2 else MEASURED_SOURCE
    imported = source.kind == "imported"
    model = _str(data["model"], "model")
    shape = data["input_shape"]
    if not isinstance(shape, list) or len(shape) != 3:
        raise _fail("input_shape", f"must be [channels, height, width], got {shape!r}")
    input_shape = tuple(_int(v, f"input_shape[{i}]", minimum=1) for i, v in enumerate(shape))
    device = _device(data["device"], imported)
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
        raise _fail(
            "layers[0].input_bytes", f"must equal the input image's {image_bytes} bytes, got {layers[0].input_bytes}"
        )
    for i in range(1, len(layers)):
        if layers[i].input_bytes != layers[i - 1].output_bytes:
            raise _fail(
                f"layers[{i}].input_bytes",
                f"must equal layers[{i - 1}].output_bytes ({layers[i - 1].output_bytes}), got {layers[i].input_bytes}",
            )
    if imported and list(batch_sizes) != [source.batch]:
        raise _fail(
            "batch_sizes", f"an imported profile holds its source's batch [{source.batch}], got {list(batch_sizes)}"
        )
    whole = (
        None
        if imported and data["model_latency"] is None
        else _by_batch(data["model_latency"], "model_latency", batch_sizes)
    )
    profile = Profile(
        model=model,
        input_shape=input_shape,
        device=device,
        batch_sizes=batch_sizes,
        layers=layers,
        model_latency=whole,
        source=source,
        schema=schema,
    )
    if model in MODELS:
        _check_against_model(profile)
    return profile


def load_profile(path: str | os.PathLike) -> Profile:
    """Read and validate a profile file; :class:`ProfileError` names the file and the bad field.

    Parsed profiles are cached on the file's path and content: loading the same file again is cheap, and
    a file rewritten on disk is read again. The returned profile is shared: do not mutate it.
    """
    path = Path(path)
    if path.is_dir():
        raise ProfileError(f"{path}: is a folder; a profile is a .json file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    return _parse(str(path), raw)


@functools.lru_cache(maxsize=32)
def _parse(path: str, raw: bytes) -> Profile:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text") from None
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


def shipped_models(device: str) -> tuple[str, ...]:
    """The models with a profile of ``device`` ("cpu" or "gpu") in ``edge_envs/dnn/profiles/``."""
    return tuple(model for model in MODELS if (PROFILE_DIR / profile_filename(model, device)).exists())


def shipped_profile(model: str, device: str = "cpu") -> Profile:
    """The profile of ``model`` shipped in ``edge_envs/dnn/profiles/``: ``device="cpu"`` is one CPU core
    (the IoT device), ``device="gpu"`` an NVIDIA GPU (the edge server; see ``Profile.source``: the
    shipped GPU profiles are imported). Cached on the file's content (see :func:`load_profile`)."""
    if model not in MODELS:
        raise ValueError(f"model: unknown model {model!r}; allowed: {', '.join(MODELS)}")
    if device not in SHIPPED_DEVICES:
        raise ValueError(f"device: must be one of {SHIPPED_DEVICES}, got {device!r}")
    path = PROFILE_DIR / profile_filename(model, device)
    if not path.exists():
        raise ProfileNotShipped(
            f"no {device.upper()} profile of {model} is shipped ({path.name} is missing; {device.upper()} profiles "
            f"ship for: {', '.join(shipped_models(device)) or 'none'}). Measure one on your hardware with "
            f"`edge-envs profile --model {model} --device {'cuda' if device == 'gpu' else 'cpu'} --out FILE` and "
            f"pass that file instead; see edge_envs/dnn/profiles/README.md"
        )
    return load_profile(path)
