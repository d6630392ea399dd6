"""Main job: train the multi-task A3C on EdgePartition-v0 and compare it in one table.

Trains the multi-task A3C (seed 002, Section 4; ``agents.train.train``, the function behind
``edge-envs train``; 2 workers x 4 env copies) and SB3 PPO (8 env copies in lockstep, its
2048-step rollout split over them) on the same number of env steps, then plays both (argmax
actions) and the seed's baselines (greedy, RPDI = ``random``, APDI) plus the per-slot DP oracle on
the same held-out episodes (seeds 10000, 10001, ...) and prints one Markdown table.

Scenario: the default EdgePartition-v0 (VGG16, M = 6 blocks, N = 4 edge servers, 60 tasks/s,
queues, background load, mobility, fading, energy budget) with one change for speed:
``episode_slots=200`` instead of 600 (every row, training and evaluation, uses the same kwargs).
The DP oracle is exact only without contention; here it is a myopic reference.

    .venv/bin/python -m benchmarks.main_job                 # ~4 min on 2 cores
    .venv/bin/python -m benchmarks.main_job --steps 2000 --episodes 2   # smoke
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from agents.evaluate import EVAL_SEED, compare, display_name, format_mean_ci, summarize

ENV_ID = "EdgePartition-v0"
ENV_KWARGS = {"episode_slots": 200}
BASELINES = ("greedy", "random", "apdi", "dp-oracle")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300_000, help="env steps of each trained agent (default 300000)")
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per policy (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="A3C worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--logdir", default=None, help="run folders (default: a temporary folder)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from agents.train import make_options, train

    torch.set_num_threads(1)
    started = time.perf_counter()
    rows, trained = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for algo, options in (("mtl-a3c", {"workers": args.workers}), ("ppo", {"envs": 8})):
            result = train(ENV_ID, algo, args.steps, seed=args.seed, logdir=args.logdir or tmp, env_kwargs=ENV_KWARGS,
                           options=make_options(algo, ENV_ID, options), progress=True)
            trained[algo] = result
            names = BASELINES if algo == "mtl-a3c" else ()  # the baselines play the same episodes once
            rows.update(compare(result.policy, ENV_ID, ENV_KWARGS, args.episodes, EVAL_SEED, names, label=algo,
                                progress=True))
    print(table(rows, trained, args))
    print(f"\n(main job: {time.perf_counter() - started:.0f} s in all)")
    return 0


def table(rows: dict, trained: dict, args) -> str:
    """Markdown table: return (95% CI), per-episode delay / penalty / energy, training steps and time."""
    summaries = {name: summarize(episodes) for name, episodes in rows.items()}
    greedy = summaries["greedy"]["return"]
    lines = [
        f"EdgePartition-v0 {ENV_KWARGS}: {args.episodes} evaluation episodes (seeds {EVAL_SEED}..), "
        f"agents trained {args.steps} env steps (seed {args.seed}), argmax actions",
        "",
        "| policy | return (95% CI) | vs greedy | delay / episode | penalty / episode | energy J / episode | slots | train s | train steps/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in sorted(summaries.items(), key=lambda item: -item[1]["return"]):
        run = trained.get(name)
        train_cells = [f"{run.wall_s:.0f}", f"{run.steps / run.wall_s:.0f}"] if run else ["-", "-"]
        lines.append(
            f"| {display_name(name)} | {format_mean_ci(s['return'], s['return_ci95'], s['episodes'])} | {(1 - s['return'] / greedy) * 100:+.1f}% | "
            f"{s.get('delay', float('nan')):.4g} | {s.get('penalty', float('nan')):.4g} | {s.get('energy', float('nan')):.4g} | "
            f"{s['length']:.0f} | " + " | ".join(train_cells) + " |"
        )
    lines.append("")
    lines.append("vs greedy: how much higher the return (lower cost) than greedy's, in percent of greedy's cost.")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
