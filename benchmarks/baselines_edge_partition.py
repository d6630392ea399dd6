"""Every EdgePartition-v0 baseline's mean episode return, 95% confidence interval, gap to the bound and decision time.

Six scenarios: VGG16 in M=6 blocks over N=4 servers at lambda=60 tasks/s (the default), ResNet32 in
M=9 blocks over N=7 servers at lambda=110, the contention-free configuration (at the default sizes),
where the chain DP and exact-slot are exact, and three whose slots are coupled (``FORESIGHT``), where
exact-slot's myopia shows: ``bursty`` (Poisson tasks at 110 per second: the queues a slot leaves),
``energy`` (a 300 J budget) and ``deadlines`` (backlog carried past binding deadlines). Episode i of a
scenario is the env reset with seed ``seed + i``; all of a scenario's episodes run together in the batched vector env
(row i of ``EdgePartitionVectorEnv`` equals the single env with that seed), and each policy is
seeded once per scenario with ``seed``. An episode's return is the sum of its slot rewards up to its
end; the 95% interval is Student's t over the episodes.

The references (``baselines.edge_partition.REFERENCES``: ``return-bound``, shown as ``bound``, and
``lagrangian-bound``) are upper bounds on any policy's return in each episode, from the episode's
exogenous draws; the tightest reference is the lesser per episode. The gap to it compares mean costs
(minus the mean returns): ``(cost - cost_ref) / cost_ref``, >= 0 for every policy. Each scenario's
myopic headroom is exact-slot's gap: under ``PER_SLOT_HEADROOM`` % the scenario is per-slot. A second
table times exact-slot's two methods per decision by model and size.

    python -m benchmarks.baselines_edge_partition --episodes 8 --slots 100
    python -m benchmarks.baselines_edge_partition --episodes 3 --slots 20      # about a minute

The Markdown table is printed and written (atomically) to ``--out``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import baselines
import edge_envs  # noqa: F401  (registers EdgePartition-v0)
from agents.evaluate import mean_ci95, t_quantile_975  # noqa: F401  (t_quantile_975: re-exported for the tests)
from benchmarks.files import RESULTS_DIR, write_atomically

SCENARIOS = {
    "vgg16-M6-N4-lambda60": {},
    "resnet32-M9-N7-lambda110": {"model": "resnet32", "num_blocks": 9, "num_servers": 7, "task_rate": 110.0},
    "contention-free": {"contention_free": True},
    "bursty": {"task_rate": 110.0, "poisson_tasks": True},
    "energy": {"task_rate": 90.0, "poisson_tasks": True, "energy_budget_j": 300.0},
    "deadlines": {"task_rate": 100.0, "deadline_s": (0.1, 0.5), "penalty_weight": 10.0},
}
"""Scenario name -> EdgePartitionConfig overrides (on top of the defaults: VGG16, M=6, N=4, lambda=60)."""

FORESIGHT = {
    "bursty": "queue carry-over: Poisson bursts at 110 tasks/s fill the queues later slots wait behind",
    "energy": "the energy budget: 300 J for 90 Poisson tasks/s, spent on local compute in one slot, missing later",
    "deadlines": "binding deadlines: at a steady 100 tasks/s, backlog carried over costs 10x its excess over 0.1-0.5 s",
}
"""The scenarios whose slots are coupled by design, each through its own mechanism (the rest are per-slot)."""

POLICY_OPTIONS = {
    "bursty": {"rollout": {"candidates": 8, "samples": 8}},
    "deadlines": {"rollout": {"candidates": 8, "samples": 8}},
}
"""Scenario -> policy -> options it is built with (the rest take their defaults): rollout's wider search pays
where queues carry over (tuned on training seeds 100..105, 200 slots; in ``energy`` it does not)."""

PER_SLOT_HEADROOM = 1.0
"""A scenario whose exact-slot lies within this many percent of the tightest reference is per-slot (a bandit)."""

BOUND = "bound"
TIGHTEST = "tightest reference"
TIMING_SIZES = (("vgg16", 6, 4), ("vgg16", 8, 4), ("vgg16", 12, 4), ("resnet32", 9, 7), ("resnet32", 12, 9))
"""(model, M, N) of the exact-slot timing table."""
DEFAULT_OUT = RESULTS_DIR / "baselines_edge_partition.md"


def episode_returns(
    env_kwargs: dict, policy_name: str, episodes: int, seed: int, options: dict | None = None
) -> tuple[np.ndarray, float, float]:
    """Return of each episode (seeds seed .. seed+episodes-1) under ``policy_name`` built with ``options``, the
    policy's mean wall time per decision (seconds) and the share of its decisions proved optimal (exact-slot;
    NaN for others)."""
    envs = gym.make_vec("EdgePartition-v0", num_envs=episodes, vectorization_mode="vector_entry_point", **env_kwargs)
    policy = baselines.make_policy(policy_name, envs, **(options or {}))
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
    return returns, thinking / decisions, getattr(policy, "proved_share", float("nan"))


def cost_gap(mean_return: float, reference_return: float) -> float:
    """Percent by which a mean return's cost (minus the return) exceeds the reference's."""
    reference_cost = -reference_return
    return 100.0 * (-mean_return - reference_cost) / reference_cost


def reference_returns(env_kwargs: dict, episodes: int, seed: int) -> dict[str, np.ndarray]:
    """Each reference's upper bound on the return of each episode (seeds seed .. seed+episodes-1), under
    BOUND for ``return-bound``, and per episode the least of them under TIGHTEST."""
    from baselines.edge_partition import REFERENCES

    env = gym.make("EdgePartition-v0", **env_kwargs)
    found = {
        BOUND if name == "return-bound" else name: np.array([fn(env, seed + i) for i in range(episodes)])
        for name, fn in REFERENCES.items()
    }
    return found | {TIGHTEST: np.min(np.stack(list(found.values())), axis=0)}


def headroom(rows: dict) -> float:
    """exact-slot's myopic headroom: its gap in % to the tightest reference (rows of :func:`run`)."""
    return rows["exact-slot"][2] if "exact-slot" in rows else float("nan")


def kind(scenario: str, rows: dict) -> str:
    """ "per-slot" where exact-slot meets the tightest reference within PER_SLOT_HEADROOM %, else "foresight"."""
    return "per-slot" if headroom(rows) < PER_SLOT_HEADROOM else "foresight"


def run(scenarios: list[str], policies: list[str], episodes: int, slots: int, seed: int, log=print) -> dict:
    """{scenario: {policy or reference: (mean, ci95 half-width, gap to the tightest reference in %, s per
    decision, share of decisions proved optimal or NaN)}}."""
    results = {}
    for scenario in scenarios:
        kwargs = {**SCENARIOS[scenario], "episode_slots": slots}
        start = time.perf_counter()
        rows = {
            name: (*mean_ci95(values), float("nan"), float("nan"))
            for name, values in reference_returns(kwargs, episodes, seed).items()
        }
        log(f"  {scenario:<26} {TIGHTEST:<20} {rows[TIGHTEST][0]:12.4g}  ({time.perf_counter() - start:.1f} s)")
        for name in policies:
            start = time.perf_counter()
            options = POLICY_OPTIONS.get(scenario, {}).get(name)
            returns, per_decision, proved = episode_returns(kwargs, name, episodes, seed, options)
            rows[name] = (*mean_ci95(returns), per_decision, proved)
            log(
                f"  {scenario:<26} {name:<20} {rows[name][0]:12.4g} ± {rows[name][1]:.3g}  "
                f"({time.perf_counter() - start:.1f} s)"
            )
        bound = rows[TIGHTEST][0]
        results[scenario] = {
            name: (mean, ci, cost_gap(mean, bound), per_decision, proved)
            for name, (mean, ci, per_decision, proved) in rows.items()
        }
    return results


def exact_slot_timing(sizes, slots: int, seed: int) -> list[tuple]:
    """[(model, M, N, placements, ms per decision by enumeration or None, by branch and bound, share of the
    branch and bound's decisions proved optimal)]: exact-slot
    deciding ``slots`` slots of the default scenario at each size, one env, after a warm-up call."""
    from baselines.edge_partition import exact

    rows = []
    for model, blocks, servers in sizes:
        env = gym.make("EdgePartition-v0", model=model, num_blocks=blocks, num_servers=servers, episode_slots=slots)
        size = (servers + 1) ** blocks
        times, proved = {}, 0
        for method in ("enumerate", "branch-and-bound"):
            if method == "enumerate" and size > exact.ENUMERATION_MAX:  # refused: "not run"
                times[method] = None
                continue
            env.reset(seed=seed)
            exact.solve(env.unwrapped.state, method)  # compile
            elapsed = 0.0
            for _ in range(slots):
                start = time.perf_counter()
                found = exact.solve(env.unwrapped.state, method)
                elapsed += time.perf_counter() - start
                proved += int(found.proved[0]) if method == "branch-and-bound" else 0
                env.step(found.placement[0])
            times[method] = 1e3 * elapsed / slots
        rows.append((model, blocks, servers, size, times["enumerate"], times["branch-and-bound"], proved / slots))
    return rows


def options_note(results: dict) -> str:
    """The sentence naming the options (``POLICY_OPTIONS``) the policies of ``results`` were built with, if any."""
    used = [
        f"{name} in {scenario}: {options}"
        for scenario, by_policy in POLICY_OPTIONS.items()
        if scenario in results
        for name, options in by_policy.items()
        if name in results[scenario]
    ]
    return f" Options other than the defaults: {'; '.join(used)}." if used else ""


def markdown(results: dict, episodes: int, slots: int, seed: int, timing: list | None = None) -> str:
    lines = [
        f"# EdgePartition-v0 baselines: mean episode return (95% CI, Student t over {episodes} episodes "
        f"of {slots} slots, seeds {seed}..{seed + episodes - 1})",
        "",
        "Return = sum over the episode's slots of Eq. (14)'s reward (minus seconds of delay + penalty per task). "
        "bound = an upper bound on any policy's return in each episode (sum over slots of the exact slot optimum "
        "with empty queues, capped at the outage charge; baselines.edge_partition.references); lagrangian-bound "
        "= the Lagrangian bound over the energy budget (baselines.edge_partition.hindsight); the tightest "
        "reference is, per episode, the lesser of the two. "
        "Gap = (cost - reference cost) / reference cost on mean costs, against the tightest reference. "
        "Time = the policy's wall time per decision, "
        "amortised over the episodes (one call decides a slot for all of them)." + options_note(results),
        "",
        f"Myopic headroom = exact-slot's gap to the tightest reference: under {PER_SLOT_HEADROOM:g}% the scenario "
        "is per-slot (a contextual bandit: the best an agent can do is imitate exact-slot); above, it needs "
        "foresight.",
        "",
        "| scenario | myopic headroom | kind | slots coupled by |",
        "| --- | ---: | --- | --- |",
    ]
    for scenario, rows in results.items():
        lines.append(
            f"| {scenario} | {headroom(rows):+.2f}% | {kind(scenario, rows)} | {FORESIGHT.get(scenario, '-')} |"
        )
    lines.append("")
    for scenario, rows in results.items():
        lines += [
            f"## {scenario}",
            "",
            "| policy | mean return | 95% CI ± | gap to reference | ms / decision | proved optimal |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, (mean, ci, gap, per_decision, proved) in sorted(rows.items(), key=lambda item: -item[1][0]):
            width = f"{ci:.3g}" if ci > 1e-9 * abs(mean) else "0"  # a policy the episodes cannot move
            time_cell = "-" if math.isnan(per_decision) else f"{1e3 * per_decision:.3g}"
            proved_cell = "-" if math.isnan(proved) else f"{100.0 * proved:.1f}%"
            lines.append(f"| {name} | {mean:.4g} | {width} | {gap:+.2f}% | {time_cell} | {proved_cell} |")
        lines.append("")
    if timing:
        lines += [
            "## exact-slot: ms per decision by model and size (one env, default scenario otherwise)",
            "",
            "| model | M | N | (N+1)^M placements | enumeration | branch and bound | proved optimal |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for model, blocks, servers, size, enum_ms, bb_ms, proved in timing:
            enum_cell = "not run" if enum_ms is None else f"{enum_ms:.3g}"
            lines.append(
                f"| {model} | {blocks} | {servers} | {size:,} | {enum_cell} | {bb_ms:.3g} | {100.0 * proved:.1f}% |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--episodes", type=int, default=8, help="episodes (seeds) per scenario and policy (>= 2)")
    parser.add_argument("--slots", type=int, default=600, help="slots per episode (the paper's T = 600)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode and of the policies")
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--policies", nargs="+", default=None, help="default: every baseline")
    parser.add_argument("--timing-slots", type=int, default=20, help="slots of the exact-slot timing table (0: skip)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    if args.episodes < 2 or args.slots < 1:
        parser.error("--episodes must be >= 2 and --slots >= 1")
    known = baselines.available("EdgePartition-v0")
    policies = [p for p in known if p != "rpdi"] if args.policies is None else args.policies  # rpdi = random
    unknown = sorted(set(policies) - set(known))
    if unknown:
        parser.error(f"unknown policies {unknown}; available: {known}")
    results = run(
        args.scenarios,
        policies,
        args.episodes,
        args.slots,
        args.seed,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    timing = exact_slot_timing(TIMING_SIZES, args.timing_slots, args.seed) if args.timing_slots > 0 else None
    table = markdown(results, args.episodes, args.slots, args.seed, timing)
    print(table)
    write_atomically(args.out, table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
