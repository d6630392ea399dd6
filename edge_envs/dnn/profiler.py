"""Measure per-layer latencies of the layer chains; the ``edge-envs profile`` command.

How a profile is measured (``measure``):
- one timed *repeat* runs the whole model once (the whole-model latency) and then the chain layer by
  layer, timing each layer on the output of the previous one, so per-layer and whole-model times
  are taken in the same conditions and the per-layer times add up to a forward pass;
- CPU: ``time.perf_counter_ns`` around each call, one torch thread (the IoT device is one core);
- CUDA: a pair of CUDA events around each call, ``torch.cuda.synchronize`` after each pass, after a
  warm-up that also lets cuDNN and the caching allocator settle;
- statistics over the repeats: median, 10th and 90th percentile;
- per layer also: input and output activation bytes and FLOPs (``FlopCounterMode``) for one image,
  and the bytes of its parameters and buffers.

Defaults follow the project's measurement rules: CPU batch 1 with 10 repeats for the 224x224 models
and 50 for the CIFAR-10 ones; CUDA batch sizes 1 and 32 with 50 repeats; float32 (``--dtype float16``
for a half-precision profile on CUDA). Every profile written here has ``source`` "measured"; ``--show``
prints a profile (a file, or the shipped one of ``--model``) with its source instead of measuring.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from edge_envs.dnn.models import MODELS, LayerChain, build_model, state_bytes
from edge_envs.dnn.profile import (
    SHIPPED_DEVICES,
    DeviceInfo,
    LatencyStats,
    LayerProfile,
    Profile,
    ProfileError,
    load_profile,
    profile_filename,
    save_profile,
    shipped_profile,
)

CPU_REPEATS_224, CPU_REPEATS, CUDA_REPEATS = 10, 50, 50
CPU_BATCH_SIZES, CUDA_BATCH_SIZES = (1,), (1, 32)
DTYPES = ("float32", "float16")


def default_repeats(model: str, device: str) -> int:
    if device == "cuda":
        return CUDA_REPEATS
    return CPU_REPEATS_224 if model.endswith("_224") else CPU_REPEATS


def cpu_name() -> str:
    """The CPU model as /proc/cpuinfo names it (falls back to ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _stats(samples_s: list[float]) -> LatencyStats:
    # Rounded to 1e-12 s (monotone, so p10 <= median <= p90 still holds): keeps the files readable.
    p10, median, p90 = (round(float(v), 12) for v in np.percentile(np.asarray(samples_s), [10, 50, 90]))
    return LatencyStats(median_s=median, p10_s=p10, p90_s=p90, repeats=len(samples_s))


class _CpuTimer:
    """Times calls with perf_counter_ns; a pass's times are ready as soon as it ends."""

    def pass_times(self, calls: list) -> list[float]:
        times = []
        for call in calls:
            start = time.perf_counter_ns()
            call()
            times.append((time.perf_counter_ns() - start) / 1e9)
        return times


class _CudaTimer:
    """Times calls with CUDA events recorded around each call; synchronises once per pass."""

    def pass_times(self, calls: list) -> list[float]:
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in calls]
        for call, (start, end) in zip(calls, events):
            start.record()
            call()
            end.record()
        torch.cuda.synchronize()
        return [start.elapsed_time(end) / 1e3 for start, end in events]


def layer_sizes(chain: LayerChain, image: torch.Tensor) -> list[tuple[int, int, int]]:
    """(input_bytes, output_bytes, flops) per layer for one image (a "meta" chain and image work too)."""
    sizes, x = [], image
    for _, module in chain.layers:
        counter = FlopCounterMode(display=False)
        with counter:
            y = module(x)
        sizes.append((x.numel() * x.element_size(), y.numel() * y.element_size(), int(counter.get_total_flops())))
        x = y
    return sizes


def measure(
    chain: LayerChain,
    device: str = "cpu",
    batch_sizes: tuple[int, ...] = CPU_BATCH_SIZES,
    repeats: int = CPU_REPEATS,
    warmup: int | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> Profile:
    """Profile ``chain`` on ``device`` ("cpu": one torch thread; "cuda": CUDA events) for each batch size."""
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device: must be 'cpu' or 'cuda', got {device!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype: must be one of {DTYPES}, got {dtype!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: 'cuda' requested but torch.cuda.is_available() is False on this machine")
    if repeats < 1:
        raise ValueError(f"repeats: must be >= 1, got {repeats}")
    if not batch_sizes or any(b < 1 for b in batch_sizes):
        raise ValueError(f"batch_sizes: must be positive integers, got {batch_sizes}")
    warmup = (10 if device == "cuda" else max(2, repeats // 10)) if warmup is None else warmup
    threads_before = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)
    try:
        return _measure(chain, device, tuple(sorted(set(batch_sizes))), repeats, warmup, seed, dtype)
    finally:
        torch.set_num_threads(threads_before)


@torch.inference_mode()
def _measure(
    chain: LayerChain, device: str, batch_sizes: tuple[int, ...], repeats: int, warmup: int, seed: int, dtype: str
) -> Profile:
    chain = chain.to(device=device, dtype=getattr(torch, dtype)).eval()
    timer = _CudaTimer() if device == "cuda" else _CpuTimer()
    generator = torch.Generator().manual_seed(seed)
    images = {
        b: torch.randn(b, *chain.input_shape, generator=generator).to(device=device, dtype=getattr(torch, dtype))
        for b in batch_sizes
    }
    sizes = layer_sizes(chain, images[batch_sizes[0]][:1])
    modules = [module for _, module in chain.layers]
    layer_samples = {b: [[] for _ in modules] for b in batch_sizes}
    model_samples = {b: [] for b in batch_sizes}
    for b, image in images.items():
        for repeat in range(warmup + repeats):
            (whole,) = timer.pass_times([lambda: chain(image)])
            # Layer by layer, keeping only the current activation, as the whole-model forward does.
            activation = [image]

            def step(module):
                def call():
                    activation[0] = module(activation[0])

                return call

            per_layer = timer.pass_times([step(module) for module in modules])
            activation.clear()
            if repeat >= warmup:
                model_samples[b].append(whole)
                for samples, t in zip(layer_samples[b], per_layer):
                    samples.append(t)
    layers = tuple(
        LayerProfile(
            name=name,
            kind=kind,
            latency={b: _stats(layer_samples[b][i]) for b in batch_sizes},
            input_bytes=sizes[i][0],
            output_bytes=sizes[i][1],
            param_bytes=state_bytes(module),
            flops=sizes[i][2],
        )
        for i, ((name, module), kind) in enumerate(zip(chain.layers, chain.kinds))
    )
    info = DeviceInfo(
        kind=device,
        name=torch.cuda.get_device_name() if device == "cuda" else cpu_name(),
        torch_version=torch.__version__,
        dtype=dtype,
        threads=torch.get_num_threads(),
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        host=platform.node() or "unknown",
    )
    return Profile(
        model=chain.name,
        input_shape=chain.input_shape,
        device=info,
        batch_sizes=batch_sizes,
        layers=layers,
        model_latency={b: _stats(model_samples[b]) for b in batch_sizes},
    )


def format_table(profile: Profile, batch: int = 1) -> str:
    """A readable per-layer table at ``batch``: the profile's source, latency (median, p10, p90), sizes, FLOPs."""
    threads = "" if profile.device.threads is None else f", {profile.device.threads} thread(s)"
    head = (
        f"{profile.model} on {profile.device.name} ({profile.device.kind}{threads}, {profile.device.dtype}), "
        f"batch {batch}, {profile.layers[0].latency[batch].repeats} repeats"
    )
    rows = [
        head,
        f"source: {profile.describe_source()}",
        f"{'#':>3} {'layer':<9} {'kind':<13} {'median ms':>10} {'p10 ms':>9} {'p90 ms':>9} "
        f"{'out KiB':>9} {'param KiB':>10} {'MFLOP':>9}",
    ]
    for i, layer in enumerate(profile.layers):
        s = layer.latency[batch]
        rows.append(
            f"{i:>3} {layer.name:<9} {layer.kind:<13} {s.median_s * 1e3:>10.3f} {s.p10_s * 1e3:>9.3f} "
            f"{s.p90_s * 1e3:>9.3f} {layer.output_bytes / 1024:>9.1f} {layer.param_bytes / 1024:>10.1f} "
            f"{layer.flops / 1e6:>9.2f}"
        )
    total = float(profile.layer_latency(batch).sum())
    rows.append(
        f"    {'sum of layers':<23} {total * 1e3:>10.3f} {'':>9} {'':>9} {'':>9} "
        f"{sum(layer.param_bytes for layer in profile.layers) / 1024:>10.1f} "
        f"{sum(layer.flops for layer in profile.layers) / 1e6:>9.2f}"
    )
    if profile.model_latency is None:
        rows.append(f"    {'whole model':<23} {'not published':>10}")
    else:
        whole = profile.model_latency[batch]
        rows.append(
            f"    {'whole model':<23} {whole.median_s * 1e3:>10.3f} {whole.p10_s * 1e3:>9.3f} "
            f"{whole.p90_s * 1e3:>9.3f}   (sum of layers / whole model = {total / whole.median_s:.3f})"
        )
    if batch > 1:
        rows.append(f"    {'sum of layers per image':<23} {total / batch * 1e3:>10.4f}")
    return "\n".join(rows)


# ---------------------------------------------------------------- command line


def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes must be >= 1, got {text!r}")
    return sizes


def _integer_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n", 1)[0]
    parser.add_argument("--model", choices=(*MODELS, "all"), help="model to profile, or all six")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to run (default: cpu)")
    parser.add_argument(
        "--out",
        type=Path,
        help="output .json file (one model), or a folder receiving <model>__cpu.json / <model>__gpu.json",
    )
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=DTYPES,
        help="precision of weights and activations (default: float32; float16 is meant for CUDA)",
    )
    parser.add_argument(
        "--show",
        metavar="PROFILE",
        help="print a profile and its source instead of measuring: a .json file, or 'cpu'/'gpu' for "
        "the shipped profile of --model",
    )
    parser.add_argument(
        "--repeats",
        type=_integer_at_least(1),
        default=None,
        help=f"timed repeats (default: CPU {CPU_REPEATS}, {CPU_REPEATS_224} for the 224x224 models; "
        f"CUDA {CUDA_REPEATS})",
    )
    parser.add_argument(
        "--batch-sizes", type=_batch_sizes, default=None, help="comma-separated batch sizes (default: CPU 1; CUDA 1,32)"
    )
    parser.add_argument(
        "--warmup",
        type=_integer_at_least(0),
        default=None,
        help="untimed warm-up passes (default: CUDA 10, CPU repeats/10)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the input images")


def _error(message: str) -> int:
    print(f"edge-envs profile: error: {message}", file=sys.stderr)
    return 2


def show(args: argparse.Namespace) -> int:
    """Print the profile named by ``--show`` (a file, or the shipped one of ``--model``) with its source."""
    try:
        if args.show in SHIPPED_DEVICES:
            if args.model in (None, "all"):
                return _error(f"--show {args.show} needs --model (one of {', '.join(MODELS)})")
            profile = shipped_profile(args.model, args.show)
        else:
            profile = load_profile(args.show)
    except (ProfileError, FileNotFoundError) as error:
        return _error(f"--show: {error}")
    for batch in profile.batch_sizes:
        print(format_table(profile, batch), end="\n\n")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.show is not None:
        return show(args)
    if args.model is None or args.out is None:
        return _error("--model and --out are required to measure (or --show PROFILE to print one)")
    models = MODELS if args.model == "all" else (args.model,)
    if args.device == "cuda" and not torch.cuda.is_available():
        return _error(
            f"--device cuda: no CUDA device is visible to torch {torch.__version__} on this machine "
            f"(torch.cuda.is_available() is False; a CPU-only build, no NVIDIA driver or no GPU)"
        )
    to_folder = len(models) > 1 or args.out.suffix != ".json"
    if to_folder and args.out.exists() and not args.out.is_dir():
        return _error(f"--out {args.out} must be a folder (or a .json file for one model)")
    batch_sizes = args.batch_sizes or (CUDA_BATCH_SIZES if args.device == "cuda" else CPU_BATCH_SIZES)
    for model in models:
        repeats = args.repeats or default_repeats(model, args.device)
        started = time.perf_counter()
        profile = measure(
            build_model(model, seed=args.seed),
            args.device,
            batch_sizes,
            repeats,
            warmup=args.warmup,
            seed=args.seed,
            dtype=args.dtype,
        )
        path = save_profile(profile, args.out / profile_filename(model, args.device) if to_folder else args.out)
        for batch in profile.batch_sizes:
            print(format_table(profile, batch), end="\n\n")
        print(f"wrote {path} ({time.perf_counter() - started:.1f} s)\n", flush=True)
    return 0
