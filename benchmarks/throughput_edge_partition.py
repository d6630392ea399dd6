"""Throughput of EdgePartition-v0 against CartPole-v1, single envs and 1024-wide numpy vector envs, and of
edge_partition_multi_v0 (4 agents) against EdgePartition-v0's single env.

    python -m benchmarks.throughput_edge_partition [--steps 20000] [--vector-steps 1200] [--num-envs 1024]
        [--multi-steps 10000] [--multi-num-envs 256] [--out FILE]

Single envs are made with ``gym.make`` (default wrappers included) and stepped with actions sampled
up front; vector envs with ``gym.make_vec(..., vectorization_mode="vector_entry_point")``. Targets
(issue 3): the single env at least 0.5x CartPole's steps/s, the vector env at least 0.3x the batched
CartPole's env-steps/s, checked on the env's default of one thread. Our vector env is also measured
with every numba thread opted in (``num_threads``), and both of its settings again beside a
concurrent CPU-busy process (one Python loop, as a learner beside the env would be), because a
parallel step that waits for its slowest thread collapses when a core is taken (issue 13, item 17).
The multi-agent env (issue 26, item 4): its PettingZoo parallel env (dict actions for the live agents)
and its batched vector form (EdgePartitionMultiVectorEnv) in agent-steps/s, target at least 20k on one
core, with the ratio to the single env's steps/s measured in the same rounds.
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
import numpy as np

import edge_envs  # noqa: F401  (registers EdgePartition-v0)
from benchmarks.files import RESULTS_DIR, publish
from edge_envs import edge_partition_multi_v0

SINGLE_TARGET, VECTOR_TARGET = 0.5, 0.3
MULTI_TARGET = 20_000  # agent-steps/s of the multi-agent env on one core (issue 26, item 4)
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


def multi_rate(steps: int, seed: int = 0, **kwargs) -> float:
    """Parallel steps per second of edge_partition_multi_v0's parallel env: a dict of actions for the
    live agents each step, reset when every agent is done (resets timed); actions sampled up front."""
    env = edge_partition_multi_v0.parallel_env(**kwargs)
    rng = np.random.default_rng(seed)
    shape = (len(env.possible_agents), env.cfg.num_blocks)
    pool = [dict(zip(env.possible_agents, rng.integers(0, env.cfg.num_servers + 1, shape))) for _ in range(64)]
    env.reset(seed=seed)
    start = time.perf_counter()
    for i in range(steps):
        if not env.agents:
            env.reset()
        actions = pool[i % len(pool)]
        env.step({agent: actions[agent] for agent in env.agents})
    return steps / (time.perf_counter() - start)


def multi_vector_rate(num_envs: int, steps: int, seed: int = 0, **kwargs) -> float:
    """Copy-steps per second of the multi-agent env's batched vector form (autoresets included)."""
    env = edge_partition_multi_v0.EdgePartitionMultiVectorEnv(num_envs=num_envs, **kwargs)
    rng = np.random.default_rng(seed)
    shape = (num_envs, len(env.possible_agents), env.cfg.num_blocks)
    pool = [rng.integers(0, env.cfg.num_servers + 1, shape) for _ in range(16)]
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
    parser.add_argument("--multi-steps", type=int, default=10_000, help="parallel steps of the multi-agent env")
    parser.add_argument("--multi-num-envs", type=int, default=256, help="copies in the multi-agent vector form")
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
            "multi": lambda: multi_rate(args.multi_steps, **kwargs),
            "multi_vec": lambda: multi_vector_rate(args.multi_num_envs, args.vector_steps, **kwargs),
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
    agents = len(edge_partition_multi_v0.DEFAULT_MODELS)
    multi_rows = [
        ("parallel env, agent-steps/s", agents * best["multi"], MULTI_TARGET),
        ("parallel env, parallel steps/s", best["multi"], None),
        (f"vector form x{args.multi_num_envs}, agent-steps/s (1 thread)", agents * best["multi_vec"], MULTI_TARGET),
        (f"vector form x{args.multi_num_envs}, copy-steps/s (1 thread)", best["multi_vec"], None),
    ]
    lines += [
        "",
        f"Beside a busy process, the default keeps {busy['default'] / best['default']:.0%} of its rate, "
        f"{threads} threads keep {busy['threads'] / best['threads']:.0%}.",
        "",
        f"## edge_partition_multi_v0 ({agents} agents) against EdgePartition-v0's single env",
        "",
        "Measured in the same rounds as the single env above (one thread; its steps/s is the ratio's "
        "denominator). An agent-step is one agent's placement for one slot.",
        "",
        "| | edge_partition_multi_v0 | EdgePartition-v0 single env, steps/s | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, rate, target in multi_rows:
        verdict = "" if target is None else f"{target:,} {'met' if rate >= target else 'MISSED'}"
        lines.append(f"| {name} | {rate:,.0f} | {best['ours']:,.0f} | {rate / best['ours']:.2f} | {verdict} |")
    lines.append("")
    publish(args.out, lines, "benchmarks.throughput_edge_partition", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
