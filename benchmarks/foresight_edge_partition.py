"""A learned agent (mtl-a3c or priced) against the strongest non-learned baseline on the EdgePartition scenarios
whose slots are coupled.

For each foresight scenario (``benchmarks.baselines_edge_partition.FORESIGHT``: the energy budget,
queue carry-over under bursts, binding deadlines), on ``--episodes`` held-out episodes (seeds
``--eval-seed``, ``--eval-seed`` + 1, ...; never trained on):

* every non-myopic baseline (``baselines.edge_partition.foresight``), exact-slot, GA and greedy play
  them; the strongest is the one with the highest IQM of the returns;
* the reference is, per episode, the tightest of ``baselines.edge_partition.REFERENCES``;
* ``--agent priced`` (agents.priced): its warm start (the candidates listed, the knobs at exact-slot-queue's
  constants) is scored, then the same run resumed to ``--steps`` env steps of evolution strategies;
* mtl-a3c (the leaderboard's warm-start preset, one worker) is trained on ``--seeds`` seeds: the warm
  start imitates ``--teacher`` for ``--imitation-steps`` labelled slots (DAgger), then A3C runs
  ``--steps`` env steps. The warm start alone is the network after ``WARM_STEPS`` A3C steps (the
  imitation's own policy, scored before RL moves it); "after RL" is the same run resumed to ``--steps``.

Statistics as rliable (benchmarks.leaderboard.stats): IQM with a 95% stratified bootstrap interval
over all (seed, episode) returns; the probability that an agent episode beats a baseline episode,
with its interval; the fraction of the headroom closed, ``(baseline cost - agent cost) / (baseline
cost - reference cost)`` on mean costs; decision times (ms per slot) beside GA's.

    python -m benchmarks.foresight_edge_partition                                   # the full configuration
    python -m benchmarks.foresight_edge_partition --seeds 1 --steps 64 --imitation-steps 32 --episodes 2 \\
        --slots 8 --scenarios energy --out /tmp/foresight.md                               # smoke, about a minute
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import edge_envs  # noqa: F401  (registers EdgePartition-v0)
from agents.train import make_options, train
from benchmarks.baselines_edge_partition import FORESIGHT, SCENARIOS
from benchmarks.edge_partition_eval import MTL_OPTIONS, timed_episodes
from benchmarks.files import RESULTS_DIR, publish
from benchmarks.leaderboard import stats

ENV_ID = "EdgePartition-v0"
BASELINES = ("exact-slot-queue", "exact-slot-paced", "rollout", "exact-slot", "ga", "greedy")
"""The non-learned policies every scenario's table holds (the strongest is picked per scenario)."""
WARM_STEPS = 64
"""A3C steps after the warm start at which the imitation's policy is scored (train() takes at least one step)."""
DEFAULT_OUT = RESULTS_DIR / "foresight_edge_partition.md"


def reference_returns(kwargs: dict, episodes: int, seed: int) -> np.ndarray:
    """Per episode, the tightest (least) upper bound on any policy's return among the env's references."""
    from baselines.edge_partition import REFERENCES

    env = gym.make(ENV_ID, **kwargs)
    return np.array([min(fn(env, seed + i) for fn in REFERENCES.values()) for i in range(episodes)])


def interval_text(point_low_high: tuple[float, float, float], digits: int = 4) -> str:
    point, low, high = point_low_high
    return f"{point:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


def agent_rows(kwargs: dict, args, log) -> dict:
    """{"warm start": ..., "after RL": ...}: each {"returns": all seeds' episodes, "decision_s", "train_s"}."""
    if args.agent == "mtl-a3c":
        overrides = {**MTL_OPTIONS, "workers": 1, "imitation_teacher": args.teacher}
        options = make_options(args.agent, ENV_ID, {**overrides, "imitation_steps": args.imitation_steps})
        warm_steps = WARM_STEPS
    else:  # priced: the warm start lists the candidates on warm_episodes episodes, then RL
        options = make_options(args.agent, ENV_ID)
        warm_steps = options.warm_episodes * args.slots
    rows = {"warm start": {"returns": [], "decision_s": [], "train_s": 0.0}}
    rows["after RL"] = {"returns": [], "decision_s": [], "train_s": 0.0}
    eval_env = gym.make(ENV_ID, **kwargs)
    with tempfile.TemporaryDirectory() as logdir:
        for seed in range(args.seeds):
            for label, steps in (("warm start", warm_steps), ("after RL", args.steps)):
                started = time.perf_counter()
                run = train(
                    ENV_ID,
                    args.agent,
                    steps,
                    seed=seed,
                    logdir=logdir,
                    env_kwargs=kwargs if label == "warm start" else None,  # resuming keeps the run's
                    options=options if label == "warm start" else None,
                    resume=label != "warm start",
                    progress=False,
                )
                rows[label]["train_s"] += time.perf_counter() - started
                player = run.policy.on(eval_env) if hasattr(run.policy, "on") else run.policy  # priced reads its env
                played = timed_episodes(player, eval_env, args.episodes, args.eval_seed)
                rows[label]["returns"] += played["returns"]
                rows[label]["decision_s"].append(played["decision_s"])
                log(f"    {args.agent} seed {seed} {label} ({run.steps} steps): {np.mean(played['returns']):.4g}")
    for row in rows.values():
        row["decision_s"] = float(np.mean(row["decision_s"]))
    return rows


def scenario_section(name: str, args, log) -> list[str]:
    kwargs = {**SCENARIOS[name], "episode_slots": args.slots}
    started = time.perf_counter()
    reference = reference_returns(kwargs, args.episodes, args.eval_seed)
    log(f"  {name}: reference {reference.mean():.4g} ({time.perf_counter() - started:.0f} s)")
    import baselines

    played = {}
    for baseline in args.baselines:
        started = time.perf_counter()
        env = gym.make(ENV_ID, **kwargs)
        played[baseline] = timed_episodes(baselines.make_policy(baseline, env), env, args.episodes, args.eval_seed)
        log(f"  {name}: {baseline} {np.mean(played[baseline]['returns']):.4g} ({time.perf_counter() - started:.0f} s)")
    agents = agent_rows(kwargs, args, log) if args.seeds > 0 else {}
    strongest = max(args.baselines, key=lambda b: stats.iqm(np.asarray(played[b]["returns"], float)))
    best = np.asarray(played[strongest]["returns"], float)
    ref_cost, best_cost = -reference.mean(), -best.mean()
    lines = [
        f"## {name}: {FORESIGHT[name]}",
        "",
        f"Reference (tightest bound, mean over the episodes): {reference.mean():.4g}. Strongest non-learned "
        f"baseline: {strongest}. Myopic headroom (exact-slot vs reference): "
        f"{100 * (np.mean(played['exact-slot']['returns']) - reference.mean()) / reference.mean():+.1f}%.",
        "",
        "| policy | IQM return [95% CI] | mean return | gap to reference | P(beats "
        f"{strongest}) [95% CI] | headroom closed | ms / decision |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = {**{f"{args.agent}, {label}": row for label, row in agents.items()}, **played}
    for policy, row in rows.items():
        returns = np.asarray(row["returns"], float)
        cost = -returns.mean()
        beats = "-" if policy == strongest else interval_text(stats.interval([returns, best], stats.improvement), 3)
        closed = (best_cost - cost) / (best_cost - ref_cost) if best_cost > ref_cost else float("nan")
        lines.append(
            f"| {policy} | {interval_text(stats.interval([returns], stats.iqm))} | {returns.mean():.4g} | "
            f"{100 * (cost - ref_cost) / ref_cost:+.1f}% | {beats} | {100 * closed:+.1f}% | "
            f"{1e3 * row['decision_s']:.3g} |"
        )
    if agents:
        warm, after = (np.mean(agents[k]["returns"]) for k in ("warm start", "after RL"))
        train_s = agents["after RL"]["train_s"] + agents["warm start"]["train_s"]
        lines += [
            "",
            f"Imitation vs RL: the warm start alone scores {warm:.4g}, RL moves it to {after:.4g} "
            f"({after - warm:+.4g}); training took {train_s:.0f} s "
            f"over {args.seeds} seeds. {args.agent} decides in {1e3 * agents['after RL']['decision_s']:.3g} ms"
            + (f", GA in {1e3 * played['ga']['decision_s']:.3g} ms." if "ga" in played else "."),
        ]
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--scenarios", nargs="+", choices=sorted(FORESIGHT), default=list(FORESIGHT))
    parser.add_argument("--episodes", type=int, default=10, help="held-out episodes per scenario (>= 2)")
    parser.add_argument("--slots", type=int, default=200, help="slots per episode (the leaderboard's 200)")
    parser.add_argument("--eval-seed", type=int, default=900_000, help="seed of the first held-out episode")
    parser.add_argument("--agent", choices=("mtl-a3c", "priced"), default="mtl-a3c", help="the learned agent")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds of the agent (0: baselines only)")
    parser.add_argument(
        "--steps", type=int, default=20_000, help="env steps per seed in all (mtl-a3c: after imitation)"
    )
    parser.add_argument("--imitation-steps", type=int, default=2_000, help="slots the teacher labels (warm start)")
    parser.add_argument("--teacher", default="exact-slot-queue", help="baseline the warm start imitates")
    parser.add_argument(
        "--baselines", nargs="+", default=list(BASELINES), help="non-learned policies (exact-slot among them)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write (atomically)")
    args = parser.parse_args(argv)
    if "exact-slot" not in args.baselines:
        parser.error("--baselines must include exact-slot (the headroom)")
    if args.episodes < 2 or args.slots < 1 or args.seeds < 0 or args.steps <= WARM_STEPS:
        parser.error(f"--episodes must be >= 2, --slots >= 1, --seeds >= 0 and --steps > {WARM_STEPS}")
    started = time.perf_counter()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    lines = [
        f"# EdgePartition-v0 foresight scenarios: {args.agent} vs the strongest non-learned baseline ({args.episodes} "
        f"held-out episodes of {args.slots} slots, seeds {args.eval_seed}..; {args.seeds} training seeds)",
        "",
        (
            f"mtl-a3c: the warm-start preset, imitation of {args.teacher} on {args.imitation_steps} slots, then "
            f"{args.steps} A3C steps, one worker."
            if args.agent == "mtl-a3c"
            else "priced (agents.priced, PricedOptions' defaults): exact-slot-queue's rule over exact-slot's placement "
            "and the candidates its warm start lists on one training episode, its knobs (burst, queue weight) a "
            f"linear function of the state learned by evolution strategies, {args.steps} env steps in all."
        )
        + " IQM and P(beats) over all (seed, episode) returns, 95% stratified "
        "bootstrap intervals. Headroom closed = (strongest baseline cost - cost) / (strongest baseline cost - "
        "reference cost).",
        "",
    ]
    for name in args.scenarios:
        lines += scenario_section(name, args, log)
    publish(args.out, lines, "benchmarks.foresight_edge_partition", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
