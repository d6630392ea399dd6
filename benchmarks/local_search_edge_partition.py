"""Local search on edge_partition_multi_v0: the local-search baseline and a trained agent's argmax improved by it,
against GA, PSO and the rules (issue 26).

    python -m benchmarks.local_search_edge_partition [--episodes 10] [--first-seed 40000] [--slots N] [--out FILE]

Every policy plays the same held-out episodes of each leaderboard scenario of edge_partition_multi_v0
(seeds ``--first-seed`` on: neither the leaderboard's nor 100-109, on which the local-search baseline's
default starts were chosen). ``mtl-a3c`` is the leaderboard's checkpoint of the scenario; ``mtl-a3c+local-search``
starts each slot's search from its argmax (the leaderboard's ``local-search:`` spec). Returns are summed over
the agents; IQM and P(beats GA) with 95% stratified bootstrap intervals (benchmarks.leaderboard.stats);
decision time is the wall time of ``act`` per step; moves: the improving moves per decision of the searches.
``--slots`` shortens the episodes (the tests' smoke run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.files import RESULTS_DIR, publish
from benchmarks.leaderboard import stats
from benchmarks.leaderboard.play import play_episode
from benchmarks.leaderboard.policies import load_policy
from benchmarks.leaderboard.populate import AGENTS
from benchmarks.leaderboard.scenarios import scenario_set

ENV_ID = "edge_partition_multi_v0"
DEFAULT_OUT = RESULTS_DIR / "local_search_edge_partition.md"
ANCHOR = "ga"  # P(beats) is against it


def specs() -> dict[str, str]:
    """Row name -> leaderboard spec."""
    agent = next(a for a in AGENTS if a.env_id == ENV_ID and a.algo == "mtl-a3c")
    return {
        "local-search": "baseline:local-search",
        "mtl-a3c+local-search": f"local-search:{agent.spec()}",
        "mtl-a3c": agent.spec(),
        "ga": "baseline:ga",
        "pso": "baseline:pso",
        "lpt": "baseline:lpt",
        "greedy": "baseline:greedy",
    }


def run(spec: str, env, seeds: list[int]) -> dict:
    """Returns, mean decision ms and (for a search) the moves per decision of one policy over ``seeds``."""
    policy = load_policy(spec, env)
    elapsed, decisions, moves, most = 0.0, 0, 0, 0

    def choose(observation, info):
        nonlocal elapsed, decisions
        started = time.perf_counter()
        action = policy.act(observation, info)
        elapsed += time.perf_counter() - started
        decisions += 1
        return action

    returns = []
    for seed in seeds:
        policy.reset(seed)  # every policy here has reset (a search's counters restart with it)
        returns.append(play_episode(env, seed, choose, {})["return"])
        if hasattr(policy, "searches"):
            moves, most = moves + policy.moves, max(most, policy.most_moves)
    searched = hasattr(policy, "searches")
    moves_column = f"{moves / decisions:.1f}, {most}" if searched else "-"
    return {"returns": np.array(returns), "ms": 1e3 * elapsed / decisions, "moves": moves_column}


def table(rows: dict[str, dict]) -> list[str]:
    anchor = rows[ANCHOR]["returns"]
    lines = [
        "| policy | IQM return [95% CI] | mean return | P(beats GA) [95% CI] | ms / decision | moves (mean, max) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in sorted(rows.items(), key=lambda item: -stats.iqm(item[1]["returns"])):
        point, low, high = stats.interval([row["returns"]], stats.iqm)
        p = "-" if name == ANCHOR else "%.2f [%.2f, %.2f]" % stats.interval([row["returns"], anchor], stats.improvement)
        lines.append(
            f"| {name} | {point:.4g} [{low:.4g}, {high:.4g}] | {row['returns'].mean():.4g} | {p} | {row['ms']:.3g} | "
            f"{row['moves']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    from edge_envs import edge_partition_multi_v0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10, help="episodes per scenario (default 10)")
    parser.add_argument("--first-seed", type=int, default=40_000, help="seed of the first episode (default 40000)")
    parser.add_argument("--slots", type=int, default=None, help="slots per episode (default: the scenario's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="result file")
    args = parser.parse_args(argv)
    if args.episodes < 2:
        parser.error("--episodes must be at least 2 (the intervals resample episodes)")
    if args.slots is not None and args.slots < 1:
        parser.error("--slots must be at least 1")
    started = time.perf_counter()
    seeds = list(range(args.first_seed, args.first_seed + args.episodes))
    lines = [
        "# Local search on edge_partition_multi_v0: the baseline and mtl-a3c's argmax improved by it (issue 26)",
        "",
        f"{args.episodes} held-out episodes per scenario (seeds {seeds[0]}..{seeds[-1]}"
        + ("" if args.slots is None else f", {args.slots} slots each")
        + "); returns summed over the "
        "agents (higher is better); IQM and P(beats GA) with 95% stratified bootstrap intervals; moves: the "
        "searches' improving moves per decision (the baseline's three starts together) and in one search at most.",
    ]
    for instance in scenario_set(ENV_ID).instances:
        slots = {} if args.slots is None else {"episode_slots": args.slots}
        env = edge_partition_multi_v0.parallel_env(**{**instance.kwargs, **slots})
        rows = {}
        for name, spec in specs().items():
            rows[name] = run(spec, env, seeds)
            print(
                f"{instance.name} {name}: mean {rows[name]['returns'].mean():.4g}, {rows[name]['ms']:.3g} ms",
                flush=True,
            )
        lines += ["", f"## {instance.name}: {instance.about}", "", *table(rows)]
    publish(args.out, lines, "benchmarks.local_search_edge_partition", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
