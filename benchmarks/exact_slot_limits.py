"""exact-slot's decision times on many states of the M = 12, N = 9 scenario of issue 34, under its node limit.

Scenario: EdgePartition-v0 with ResNet32 in M = 12 blocks over N = 9 edge servers, 110 Poisson tasks
per second and a device walking at 10-30 m/s (``SCENARIO``), where an unlimited branch and bound once
took 27.5 minutes on one slot. The states are the slots that behaviour policies visit (``BEHAVIOURS``,
an equal share each, episodes reset with seeds ``seed, seed + 1, ...`` as they end): random placements,
greedy, exact-slot itself, chain-dp (which piles the blocks on one server and builds queues) and
all-local (which spends the energy budget, so its episodes end in the slots where the energy runs
out: the kind of slot that made the search hang). On each state, exact-slot decides as its policy
does (``exact.solve`` with the default ``NODE_LIMIT``), timed by wall clock; the table gives the
median, 99th percentile and worst decision time, the most nodes expanded and the share of decisions
proved optimal, per behaviour and in all.

    python -m benchmarks.exact_slot_limits                       # 10,000 states; about 20 min on a busy core
    python -m benchmarks.exact_slot_limits --states 100 --out /tmp/limits.md   # smoke
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import baselines
import edge_envs  # noqa: F401  (registers EdgePartition-v0)
from baselines.edge_partition import exact
from benchmarks.files import RESULTS_DIR, publish
from edge_envs.edge_partition import core

SCENARIO = {
    "model": "resnet32",
    "num_blocks": 12,
    "num_servers": 9,
    "task_rate": 110.0,
    "poisson_tasks": True,
    "walk_speed_mps": (10.0, 30.0),
}
"""EdgePartitionConfig overrides of the scenario (other fields: the defaults)."""
BEHAVIOURS = ("random", "greedy", "exact-slot", "chain-dp", "all-local")
"""Policies whose visited states exact-slot decides."""
DEFAULT_OUT = RESULTS_DIR / "exact_slot_limits.md"
KEYS = {"seconds": float, "nodes": np.int64, "proved": bool, "critical": bool}


def decisions(behaviour: str, states: int, seed: int) -> dict:
    """{"seconds", "nodes", "proved", "critical"}: exact-slot's decision on each of ``states`` slots that
    ``behaviour`` visits (one env, episodes with seeds seed, seed + 1, ...); critical: all-local would run
    out of energy in that slot (the outage charge is in play)."""
    env = gym.make("EdgePartition-v0", **SCENARIO)
    policy = baselines.make_policy(behaviour, env, seed=seed)
    episode = seed
    obs, info = env.reset(seed=episode)
    out = {key: np.zeros(states, dtype) for key, dtype in KEYS.items()}
    for i in range(states):
        state = env.unwrapped.state
        start = time.perf_counter()
        found = exact.solve(state)
        out["seconds"][i] = time.perf_counter() - start
        out["nodes"][i], out["proved"][i] = found.nodes[0], found.proved[0]
        out["critical"][i] = core.slot_cost(state, np.zeros((1, state.cfg.num_blocks), np.int64)).ran_out[0]
        obs, _, terminated, truncated, info = env.step(policy.act(obs, info))
        if terminated or truncated:
            episode += 1
            obs, info = env.reset(seed=episode)
    env.close()
    return out


def row(name: str, result: dict) -> str:
    ms = 1e3 * result["seconds"]
    cells = [
        name,
        f"{len(ms):,}",
        f"{np.median(ms):.3g}",
        f"{np.percentile(ms, 99):.3g}",
        f"{ms.max():.3g}",
        f"{result['nodes'].max():,}",
        f"{100.0 * result['proved'].mean():.2f}%",
        f"{result['critical'].sum():,}",
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--states", type=int, default=10_000, help="states in all, split over the behaviours")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first episode and of the policies")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    if args.states < len(BEHAVIOURS):
        parser.error(f"--states must be >= {len(BEHAVIOURS)} (one per behaviour), got {args.states}")
    started = time.perf_counter()
    warm_up = gym.make("EdgePartition-v0", **SCENARIO)
    warm_up.reset(seed=0)
    exact.solve(warm_up.unwrapped.state)  # compile before timing
    results = {}
    for k, behaviour in enumerate(BEHAVIOURS):
        share = args.states // len(BEHAVIOURS) + (k < args.states % len(BEHAVIOURS))
        results[behaviour] = decisions(behaviour, share, args.seed)
    merged = {key: np.concatenate([r[key] for r in results.values()]) for key in KEYS}
    lines = [
        f"# exact-slot under its node limit ({exact.NODE_LIMIT:,} expansions): {args.states:,} states of "
        "EdgePartition-v0 with " + ", ".join(f"{k}={v}" for k, v in SCENARIO.items()),
        "",
        "Each state is a slot that the behaviour policy visits; exact-slot decides it (exact.solve, the default "
        "node limit); ms = wall time of that decision on this machine, proved = the search finished (the "
        "placement is the slot optimum), otherwise the best placement found when the limit stopped it; "
        "energy-critical = states where all-local would run out of energy (the outage charge is in play, as in "
        "the slot that once took 27.5 minutes).",
        "",
        "| states visited by | states | median ms | p99 ms | worst ms | most nodes | proved optimal "
        "| energy-critical |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(row(name, result) for name, result in results.items()),
        row("all", merged),
        "",
    ]
    publish(args.out, lines, "benchmarks.exact_slot_limits", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
