"""Main job: train the multi-task A3C on EdgePartition-v0 and compare it with every strong reference in one table.

Trains the multi-task A3C (the TMC 2024 paper, Section 4; ``agents.train.train``, the function behind
``edge-envs train``; 2 workers x 4 env copies; warm-started by imitation of ``exact-slot``,
``MTL_OPTIONS``) and SB3 PPO (8 env copies in lockstep, its 2048-step rollout split over them) on
the same number of env steps, then plays both (argmax actions) and the baselines (exact-slot, GA,
PSO, greedy, LPT, APDI, the chain DP, RPDI = ``random``) on the same held-out episodes (seeds 10000,
10001, ...), beside the bound on any policy's return in those episodes
(``baselines.edge_partition.REFERENCES``), and prints one Markdown table with gaps to the bound
and to exact-slot and each policy's decision time. Progress goes to stderr as it runs.

Scenario: the default EdgePartition-v0 (VGG16, M = 6 blocks, N = 4 edge servers, 60 tasks/s,
queues, background load, mobility, fading, energy budget) with one change for speed:
``episode_slots=200`` instead of 600 (every row, training and evaluation, uses the same kwargs).

    python -m benchmarks.main_job                                  # ~8 min on 2 cores
    python -m benchmarks.main_job --out benchmarks/results/main_job.md
    python -m benchmarks.main_job --steps 2000 --episodes 2 --imitation-steps 400   # smoke
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from agents.evaluate import EVAL_SEED
from benchmarks.edge_partition_eval import MTL_OPTIONS, baseline_rows, table, timed_episodes
from benchmarks.files import write_atomically

ENV_ID = "EdgePartition-v0"
ENV_KWARGS = {"episode_slots": 200}


COLUMNS = [
    "Columns, per episode (mean over the evaluation episodes):",
    "- return: minus the cost of Eq. (14) summed over the slots (higher is better), ± std over the episodes;",
    "- gap to bound / vs exact-slot: the policy's extra cost in percent of the bound's / exact-slot's cost "
    "(the bound, baselines.edge_partition.references, is an upper bound on any policy's return in each episode);",
    "- ms / decision: wall time of one act() call, i.e. one slot's placement of every block;",
    "- proved optimal: the share of exact-slot's decisions its branch and bound proved optimal within its node "
    "limit (the others return their best placement found);",
    "- delay s: the tasks' inference delay summed over the slots (transfers, compute and queueing, Eqs. 3-9);",
    "- penalty s: the delay beyond the blocks' deadlines, which the reward weighs by penalty_weight;",
    "- energy J: what the device drew from its battery (local compute, kappa f^2 per cycle, Eq. 4, and radio "
    "uplink, Eq. 7); it follows the blocks on device column, since a block computed on the device costs far "
    "more energy than sending its input;",
    "- blocks on device: the share of block placements on the IoT device rather than an edge server;",
    "- train s: training wall time (agents only).",
]
"""The notes printed under the main job's table: what each column means."""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300_000, help="env steps of each trained agent (default 300000)")
    parser.add_argument(
        "--imitation-steps",
        type=int,
        default=32_000,
        help="slots of exact-slot demonstrations warm-starting mtl-a3c (default 32000; 0: none)",
    )
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per policy (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="A3C worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--logdir", default=None, help="run folders (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from agents.envs import make_env
    from agents.train import make_options, train

    torch.set_num_threads(1)
    started = time.perf_counter()
    log(f"main job: {ENV_ID} {ENV_KWARGS}, {args.episodes} evaluation episodes (seeds {EVAL_SEED}..)")
    log("  baselines and the bound:")
    rows = baseline_rows(lambda: make_env(ENV_ID, ENV_KWARGS), args.episodes, EVAL_SEED, log=log)
    trained = {}
    mtl = {**MTL_OPTIONS, "workers": args.workers, "imitation_steps": args.imitation_steps}
    if not args.imitation_steps:
        mtl.pop("imitation_teacher")
    with tempfile.TemporaryDirectory() as tmp:
        for algo, options in (("mtl-a3c", mtl), ("ppo", {"envs": 8})):
            log(f"  training {algo} for {args.steps} env steps ({time.perf_counter() - started:.0f} s so far) ...")
            result = train(
                ENV_ID,
                algo,
                args.steps,
                seed=args.seed,
                logdir=args.logdir or tmp,
                env_kwargs=ENV_KWARGS,
                options=make_options(algo, ENV_ID, options),
                progress=True,  # the warm start's and the training's bars (stderr)
            )
            trained[algo] = result
            rows[algo] = timed_episodes(result.policy, make_env(ENV_ID, ENV_KWARGS), args.episodes, EVAL_SEED)
            mean = sum(rows[algo]["returns"]) / args.episodes
            log(f"    {algo}: trained in {result.wall_s:.0f} s, evaluation return {mean:.4g}")
    extra = {"header": ["delay s", "penalty s", "energy J", "blocks on device", "train s"]}
    for name, row in rows.items():
        if "delay" in row:
            run = trained.get(name)
            extra[name] = [f"{sum(row[key]) / len(row[key]):.2f}" for key in ("delay", "penalty", "energy")]
            extra[name] += [f"{100 * row['on_device']:.1f}%", f"{run.wall_s:.0f}" if run else "-"]
    warm = f", mtl-a3c warm-started on {args.imitation_steps} exact-slot-labelled slots" if args.imitation_steps else ""
    lines = [
        f"{ENV_ID} {ENV_KWARGS}: {args.episodes} evaluation episodes (seeds {EVAL_SEED}..), agents trained "
        f"{args.steps} env steps (seed {args.seed}{warm}), argmax actions",
        "",
        *table(rows, extra),
        "",
        *COLUMNS,
    ]
    lines.append(f"\n(main job: {time.perf_counter() - started:.0f} s in all)")
    print("\n".join(lines))
    if args.out:
        write_atomically(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
