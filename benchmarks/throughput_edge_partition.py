"""Throughput of EdgePartition-v0 against CartPole-v1, single envs and 1024-wide numpy vector envs.

    python -m benchmarks.throughput_edge_partition [--steps 20000] [--vector-steps 1200] [--num-envs 1024] [--out FILE]

Single envs are made with ``gym.make`` (default wrappers included) and stepped with actions sampled
up front; vector envs with ``gym.make_vec(..., vectorization_mode="vector_entry_point")``. Targets
(issue 3): the single env at least 0.5x CartPole's steps/s, the vector env at least 0.3x the batched
CartPole's env-steps/s, checked on the env's default of one thread. Our vector env is also measured
with every numba thread opted in (``num_threads``), and both of its settings again beside a
concurrent CPU-busy process (one Python loop, as a learner beside the env would be), because a
parallel step that waits for its slowest thread collapses when a core is taken (issue 13, item 17).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numba

import edge_envs  # noqa: F401  (registers EdgePartition-v0)
from benchmarks.files import RESULTS_DIR, publish

SINGLE_TARGET, VECTOR_TARGET = 0.5, 0.3
DEFAULT_OUT = RESULTS_DIR / "throughput_edge_partition.md"


def single_rate(env_id: str, steps: int, seed: int = 0, **kwargs) -> float:
    """Steps per second of one env made by gym.make, resetting when an episode ends (resets are
    timed too); actions are sampled before timing."""
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector_rate(env_id: str, num_envs: int, steps: int, seed: int = 0, **kwargs) -> float:
    """Env-steps per second of a vector env (its autoresets included); a pool of sampled batched
    actions is reused."""
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    env.action_space.seed(seed)
    pool = [env.action_space.sample() for _ in range(16)]
    env.reset(seed=seed)
    start = time.perf_counter()
    for i in range(steps):
        env.step(pool[i % len(pool)])
    return steps * num_envs / (time.perf_counter() - start)


class BusyProcess:
    """A child process spinning one CPU core at normal priority for the duration of a ``with`` block."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)  # let it get onto a core
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def best_rates(measures: dict, rounds: int) -> dict:
    """The best rate of each measure over ``rounds`` interleaved rounds (robust to a busy machine)."""
    best = dict.fromkeys(measures, 0.0)
    for _ in range(rounds):
        for name, measure in measures.items():
            best[name] = max(best[name], measure())
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps of each single env")
    parser.add_argument(
        "--vector-steps",
        type=int,
        default=1200,
        help="steps of each vector env (default: two 600-slot episodes, so autoresets count)",
    )
    parser.add_argument("--num-envs", type=int, default=1024, help="width of the vector envs")
    parser.add_argument(
        "--episode-slots", type=int, default=None, help="EdgePartition episode length (default: the registered 600)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each is kept")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    kwargs = {} if args.episode_slots is None else {"episode_slots": args.episode_slots}
    threads = numba.config.NUMBA_NUM_THREADS
    load_before = os.getloadavg()[0]

    def ours_vec(num_threads: int | None = None):
        extra = {} if num_threads is None else {"num_threads": num_threads}
        return lambda: vector_rate("EdgePartition-v0", args.num_envs, args.vector_steps, **kwargs, **extra)

    vec_measures = {"default": ours_vec(), "threads": ours_vec(threads)}
    best = best_rates(
        {
            "ours": lambda: single_rate("EdgePartition-v0", args.steps, **kwargs),
            "cartpole": lambda: single_rate("CartPole-v1", args.steps),
            **vec_measures,
            "cartpole_vec": lambda: vector_rate("CartPole-v1", args.num_envs, args.vector_steps),
        },
        args.rounds,
    )
    with BusyProcess():
        busy = best_rates(vec_measures, args.rounds)
    load_after = os.getloadavg()[0]
    vec = f"vector env x{args.num_envs}, env-steps/s"
    rows = [
        ("single env, steps/s", best["ours"], best["cartpole"], SINGLE_TARGET),
        (f"{vec} (default: 1 thread)", best["default"], best["cartpole_vec"], VECTOR_TARGET),
        (f"{vec} (num_threads={threads}, opted in)", best["threads"], best["cartpole_vec"], None),
        (f"{vec} (default: 1 thread) beside a busy process", busy["default"], best["cartpole_vec"], None),
        (f"{vec} (num_threads={threads}) beside a busy process", busy["threads"], best["cartpole_vec"], None),
    ]
    lines = [
        "# EdgePartition-v0 against CartPole-v1: steps per second",
        "",
        f"Best of {args.rounds} interleaved rounds; random actions sampled up front; resets and autoresets timed. "
        f"{threads} cores for numba (os.cpu_count() {os.cpu_count()}); CartPole is always measured without the "
        f"busy process. The machine's 1-minute load average was {load_before:.1f} before and {load_after:.1f} "
        "after: a load above the core count means other processes shared the cores throughout.",
        "",
        "| | EdgePartition-v0 | CartPole-v1 | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, a, b, target in rows:
        verdict = "reference" if target is None else f"{target:.1f}x {'met' if a / b >= target else 'MISSED'}"
        lines.append(f"| {name} | {a:,.0f} | {b:,.0f} | {a / b:.2f} | {verdict} |")
    lines += [
        "",
        f"Beside a busy process, the default keeps {busy['default'] / best['default']:.0%} of its rate, "
        f"{threads} threads keep {busy['threads'] / best['threads']:.0%}.",
        "",
    ]
    publish(args.out, lines, "benchmarks.throughput_edge_partition", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
