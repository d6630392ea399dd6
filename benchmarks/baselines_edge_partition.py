"""Every EdgePartition-v0 baseline's mean episode return, 95% confidence interval and gap to the DP oracle.

Three scenarios (issue 3): VGG16 in M=6 blocks over N=4 servers at lambda=60 tasks/s (the default),
ResNet32 in M=9 blocks over N=7 servers at lambda=110, and the contention-free configuration (at
the default sizes), where the DP oracle is exact. Episode i of a scenario is the env reset with
seed ``seed + i``; all of a scenario's episodes run together in the batched vector env (row i of
``EdgePartitionVectorEnv`` equals the single env with that seed), and each policy is seeded once per
scenario with ``seed``. An episode's return is the sum of its slot rewards up to its end; the 95%
interval is Student's t over the episodes. The gap to the oracle compares mean costs (minus the
mean returns): ``(cost - cost_oracle) / cost_oracle``, so a negative gap beats the oracle (possible
outside the contention-free scenario, where the oracle is myopic).

    python -m benchmarks.baselines_edge_partition --episodes 8 --slots 100
    python -m benchmarks.baselines_edge_partition --episodes 3 --slots 20      # about a minute

The Markdown table is printed and written (atomically) to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import baselines
from agents.evaluate import mean_ci95, t_quantile_975  # noqa: F401  (the one 95% CI; tests reach it here)
from benchmarks.files import write_atomically
import edge_envs  # noqa: F401  (registers EdgePartition-v0)

SCENARIOS = {
    "vgg16-M6-N4-lambda60": {},
    "resnet32-M9-N7-lambda110": {"model": "resnet32", "num_blocks": 9, "num_servers": 7, "task_rate": 110.0},
    "contention-free": {"contention_free": True},
}
"""Scenario name -> EdgePartitionConfig overrides (on top of the defaults: VGG16, M=6, N=4, lambda=60)."""

ORACLE = "dp-oracle"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "baselines_edge_partition.md"

def episode_returns(env_kwargs: dict, policy_name: str, episodes: int, seed: int) -> tuple[np.ndarray, float]:
    """Return of each episode (seeds seed .. seed+episodes-1) under ``policy_name``, and the policy's
    mean wall time per decision (seconds)."""
    envs = gym.make_vec("EdgePartition-v0", num_envs=episodes, vectorization_mode="vector_entry_point", **env_kwargs)
    policy = baselines.make_policy(policy_name, envs)
    policy.reset(seed=seed)
    observations, info = envs.reset(seed=seed)
    returns = np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    thinking, decisions = 0.0, 0
    while running.any():
        start = time.perf_counter()
        actions = policy.act(observations, info)
        thinking += time.perf_counter() - start
        decisions += int(running.sum())
        observations, rewards, terminated, truncated, info = envs.step(actions)
        returns += np.where(running, rewards, 0.0)
        running &= ~(terminated | truncated)
    envs.close()
    return returns, thinking / decisions


def cost_gap(mean_return: float, oracle_return: float) -> float:
    """Percent by which a mean return's cost (minus the return) exceeds the oracle's."""
    oracle_cost = -oracle_return
    return 100.0 * (-mean_return - oracle_cost) / oracle_cost


def run(scenarios: list[str], policies: list[str], episodes: int, slots: int, seed: int, log=print) -> dict:
    """{scenario: {policy: (mean, ci95 half-width, gap to the oracle in %, s per decision)}}."""
    results = {}
    for scenario in scenarios:
        kwargs = {**SCENARIOS[scenario], "episode_slots": slots}
        rows = {}
        for name in policies:
            start = time.perf_counter()
            returns, per_decision = episode_returns(kwargs, name, episodes, seed)
            rows[name] = (*mean_ci95(returns), per_decision)
            log(f"  {scenario:<26} {name:<20} {rows[name][0]:12.4g} ± {rows[name][1]:.3g}  "
                f"({time.perf_counter() - start:.1f} s)")
        oracle = rows[ORACLE][0] if ORACLE in rows else float("nan")
        results[scenario] = {name: (mean, ci, cost_gap(mean, oracle), per_decision)
                             for name, (mean, ci, per_decision) in rows.items()}
    return results


def markdown(results: dict, episodes: int, slots: int, seed: int) -> str:
    lines = [f"# EdgePartition-v0 baselines: mean episode return (95% CI, Student t over {episodes} episodes "
             f"of {slots} slots, seeds {seed}..{seed + episodes - 1})", "",
             "Return = sum over the episode's slots of Eq. (14)'s reward (minus seconds of delay + penalty per task). "
             "Gap = (cost - oracle cost) / oracle cost on mean costs; negative beats the DP oracle (myopic unless "
             "contention-free). Time = the policy's wall time per decision, amortised over the episodes (one call "
             "decides a slot for all of them).", ""]
    for scenario, rows in results.items():
        lines += [f"## {scenario}", "", "| policy | mean return | 95% CI ± | gap to dp-oracle | ms / decision |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for name, (mean, ci, gap, per_decision) in sorted(rows.items(), key=lambda item: -item[1][0]):
            width = f"{ci:.3g}" if ci > 1e-9 * abs(mean) else "0"  # a policy the episodes cannot move
            lines.append(f"| {name} | {mean:.4g} | {width} | {gap:+.1f}% | {1e3 * per_decision:.3g} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--episodes", type=int, default=8, help="episodes (seeds) per scenario and policy (>= 2)")
    parser.add_argument("--slots", type=int, default=600, help="slots per episode (the seed's T = 600)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode and of the policies")
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--policies", nargs="+", default=None, help="default: every baseline (the oracle included)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    if args.episodes < 2 or args.slots < 1:
        parser.error("--episodes must be >= 2 and --slots >= 1")
    known = baselines.available("EdgePartition-v0")
    policies = [p for p in known if p != "rpdi"] if args.policies is None else args.policies  # rpdi = random
    unknown = sorted(set(policies) - set(known))
    if unknown:
        parser.error(f"unknown policies {unknown}; available: {known}")
    results = run(args.scenarios, policies, args.episodes, args.slots, args.seed,
                  log=lambda line: print(line, file=sys.stderr))
    table = markdown(results, args.episodes, args.slots, args.seed)
    print(table)
    write_atomically(args.out, table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
