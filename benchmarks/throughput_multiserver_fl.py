"""Rounds per second of multiserver_fl_v0's local training: batched clients against a per-client loop.

A round trains every one of the 50 vehicles (the default shards of one episode, E = 2 epochs,
minibatches of 10) from its server's model. ``batched`` is the env's trainer (stacked parameters,
one batched forward and backward pass per step for all clients); ``per-client loop`` runs the same
plan one client and one minibatch at a time (``train_per_client``). Both on one torch thread. Also
the env's full step rate (training, handovers, evaluations, test metrics) with the default config.

    python -m benchmarks.throughput_multiserver_fl

Writes benchmarks/results/throughput_multiserver_fl.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.files import RESULTS_DIR, publish
from edge_envs import multiserver_fl_v0
from edge_envs.multiserver_fl.clients import minibatch_plan, train_batched, train_per_client
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.generator import RandomGenerator

RESULTS = RESULTS_DIR / "throughput_multiserver_fl.md"


def _rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over at least ``seconds`` (after one warm-up call)."""
    fn()
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        calls += 1
    return calls / (time.perf_counter() - started)


def _alternating_rates(first, second, seconds: float) -> tuple[float, float]:
    """Calls per second of each, timed call by call in alternation (so load from other jobs hits both
    alike) and taken from the median call time."""
    first(), second()
    times = ([], [])
    started = time.perf_counter()
    while time.perf_counter() - started < 2 * seconds:
        for fn, out in zip((first, second), times):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return 1.0 / float(np.median(times[0])), 1.0 / float(np.median(times[1]))


def training_inputs(cfg: MultiServerFLConfig) -> tuple:
    """(instance, the arguments of train_batched / train_per_client) for one round of ``cfg``'s
    vehicles, from seed 0."""
    rng = np.random.default_rng(0)
    instance = RandomGenerator(cfg)(rng)
    start = instance.init_params[None].repeat(cfg.num_vehicles, 1)
    steps, mask = minibatch_plan(instance.shard_sizes, cfg.local_epochs, cfg.batch_size, rng)
    inputs = (
        instance.shape,
        start,
        instance.x_train,
        instance.y_train,
        instance.shards,
        steps,
        mask,
        cfg.learning_rate,
    )
    return instance, inputs


def local_training_rates(inputs: tuple, seconds: float) -> tuple[float, float]:
    """Rounds per second of the batched trainer and of the per-client loop on ``inputs``."""
    return _alternating_rates(lambda: train_batched(*inputs), lambda: train_per_client(*inputs), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="timing window per measurement")
    parser.add_argument("--out", default=str(RESULTS), help="result file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    cfg = MultiServerFLConfig(num_vehicles=args.vehicles)
    instance, inputs = training_inputs(cfg)
    batched, looped = local_training_rates(inputs, args.seconds)
    gap = float((train_batched(*inputs) - train_per_client(*inputs)).abs().max())

    env = multiserver_fl_v0.parallel_env(num_vehicles=args.vehicles, num_rounds=100_000)
    env.reset(seed=0)
    actions = {a: np.ones(cfg.num_servers, np.float32) for a in env.possible_agents}
    env_rate = _rate(lambda: env.step(actions), args.seconds)
    sizes = instance.shard_sizes
    lines = [
        f"# multiserver_fl_v0 throughput ({args.vehicles} vehicles, one torch thread)",
        "",
        f"Shards: {sizes.sum()} samples, {sizes.min()}-{sizes.max()} per vehicle (Dirichlet 0.5); "
        f"E = {cfg.local_epochs}, batch {cfg.batch_size}, MLP {instance.shape.inputs}-{cfg.hidden_units}-10.",
        "",
        "| what | rounds/s (median call, timed alternately) |",
        "| --- | --- |",
        f"| local training, batched clients | {batched:.1f} |",
        f"| local training, per-client loop | {looped:.1f} |",
        f"| speed-up | {batched / looped:.1f}x (target >= 10x) |",
        f"| env step (whole round, default config) | {env_rate:.1f} |",
        "",
        f"Largest parameter difference batched vs loop: {gap:.2e}.",
        "Measured on the shared 2-core machine (other jobs running), nice 10: absolute rates are low; the ratio is "
        "the figure.",
        "",
    ]
    publish(Path(args.out), lines, "benchmarks.throughput_multiserver_fl", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
