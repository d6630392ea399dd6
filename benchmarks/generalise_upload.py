"""Generalisation benchmark on EdgeUpload-v0 (issue 31): one generalist checkpoint per seed, trained on the instance
distribution ``TRAIN`` (edge_envs.edge_upload.distribution), played on held-out instances it never saw
(``HELD_OUT``: the leaderboard's ``default``, ``nin`` and ``lossy``; TRAIN draws neither of their models).

Per held-out instance the table holds the generalist (mean over its seeds, ± std over the seeds' gaps), the
leaderboard's per-instance maskable-ppo where its network fits the instance's sizes, the strongest baselines
(exact-order, recursive-efficiency, ionn) and the reference (exact-order's optimal expected return), each with its
decision time; gaps are of expected areas (what the upload order decides, without the transmission failures' luck)
to the reference.

Each seed is trained as ``edge-envs train --env EdgeUpload-v0 --algo generalist --steps STEPS --seed SEED``
(DAgger from recursive-efficiency, GeneralistOptions' defaults), or loaded with ``--checkpoint`` (one per seed, in
the order of ``--seeds``).
Writes ``generalise_upload.md`` and ``.json`` into ``--out`` (default benchmarks/results/), atomically.

    python -m benchmarks.generalise_upload --steps 4000 --seeds 0 1 2
    python -m benchmarks.generalise_upload --steps 16 --seeds 0 --episodes 1 --instances nin \\
        --baselines efficiency --out /tmp/smoke                                                 # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import baselines
from agents.checkpoint import load_checkpoint
from agents.envs import env_spaces, make_env
from agents.evaluate import EVAL_SEED, reference_rows
from agents.generalist import GENERALIST, UPLOAD_ENV_ID, GeneralistOptions
from agents.policy import policy_from_payload
from agents.train import train
from benchmarks.baselines_edge_upload import run_episode
from benchmarks.files import RESULTS_DIR, publish
from edge_envs.edge_upload.distribution import HELD_OUT
from edge_envs.io import write_atomically

ENV_ID = UPLOAD_ENV_ID
PER_INSTANCE = Path("benchmarks", "leaderboard", "agents")
"""The leaderboard's per-instance checkpoints: ``EdgeUpload-v0__maskable-ppo__{default,nin}.pt``."""
PER_INSTANCE_RUNS = (("maskable-ppo", "default"), ("maskable-ppo", "nin"))
REFERENCE = "exact-order (reference)"


def _policies(args) -> list:
    """One generalist policy per seed: loaded from ``--checkpoint`` or trained now."""
    if args.checkpoint:
        if len(args.checkpoint) != len(args.seeds):
            raise ValueError(f"--checkpoint: give one per seed ({len(args.seeds)}), got {len(args.checkpoint)}")
        return [policy_from_payload(load_checkpoint(path)) for path in args.checkpoint]
    options = GeneralistOptions()  # the teacher: recursive-efficiency (agents.generalist_options.TEACHERS)
    policies = []
    for seed in args.seeds:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as logdir:
            result = train(ENV_ID, GENERALIST, args.steps, seed, logdir, {}, options, progress=False)
        print(f"trained seed {seed}: {args.steps} steps, {time.perf_counter() - started:.0f} s", flush=True)
        policies.append(result.policy)
    return policies


def _row(policy, env, episodes: int) -> dict:
    """``episodes`` episodes (seeds EVAL_SEED, ...): realised returns, expected areas of the partitions sent (the
    order's cost without the transmission failures' luck; benchmarks.baselines_edge_upload) and s per decision."""
    runs = [run_episode(env, policy, EVAL_SEED + i) for i in range(episodes)]
    return {
        "returns": [r["return"] for r in runs],
        "expected_areas": [r["expected_area"] for r in runs],
        "decision_s": sum(r["decide_s"] for r in runs) / sum(r["decisions"] for r in runs),
    }


def _per_instance(kwargs: dict, episodes: int) -> dict:
    """Rows of the leaderboard's per-instance agents whose observation and action sizes fit the instance."""
    rows = {}
    for algo, trained_on in PER_INSTANCE_RUNS:
        path = PER_INSTANCE / f"{ENV_ID}__{algo}__{trained_on}.pt"
        if not path.exists():
            continue
        payload, env = load_checkpoint(path), make_env(ENV_ID, kwargs)
        obs_dim, nvec = env_spaces(env)
        if payload["obs_dim"] == obs_dim and list(payload["nvec"]) == list(nvec):
            rows[f"{algo} (trained on {trained_on})"] = _row(policy_from_payload(payload, env), env, episodes)
    return rows


def _gap(areas: list[float], reference: list[float]) -> float:
    """Mean per-episode gap of expected areas to the reference's, in percent (0: optimal in expectation)."""
    return float(np.mean([100.0 * (a - r) / r for a, r in zip(areas, reference)]))


def _instance(name: str, policies: list, args) -> dict:
    """Rows of one held-out instance: {label: {"returns", "expected_areas", "decision_s"}}; the generalist's also
    "per_run" (each seed's gap to the reference, %)."""
    kwargs = HELD_OUT[name]
    runs = [_row(policy.on(env), env, args.episodes) for policy in policies for env in [make_env(ENV_ID, kwargs)]]
    rows = {
        GENERALIST: {
            "returns": [r for run in runs for r in run["returns"]],
            "expected_areas": [a for run in runs for a in run["expected_areas"]],
            "decision_s": float(np.mean([run["decision_s"] for run in runs])),
        }
    }
    rows |= _per_instance(kwargs, args.episodes)
    for baseline in args.baselines:
        env = make_env(ENV_ID, kwargs)
        rows[baseline] = _row(baselines.make_policy(baseline, env), env, args.episodes)
    # the reference last: exact-order's decision time above then includes its dynamic programme
    for label, episodes in reference_rows(ENV_ID, kwargs, args.episodes, EVAL_SEED).items():
        returns = [e.episode_return for e in episodes]
        rows[label] = {"returns": returns, "expected_areas": [-r for r in returns], "decision_s": float("nan")}
    rows[GENERALIST]["per_run"] = [_gap(run["expected_areas"], rows[REFERENCE]["expected_areas"]) for run in runs]
    print(f"  {name}: " + ", ".join(f"{k} {np.mean(v['expected_areas']):.4g}" for k, v in rows.items()), flush=True)
    return rows


def _table(rows: dict) -> list[str]:
    """Markdown rows, best first: mean expected area, its gap to the reference (the generalist's: mean ± std over
    its seeds), the mean realised return, ms per decision."""
    reference = rows[REFERENCE]["expected_areas"]
    lines = [
        "| policy | expected area (s*s) | gap to the reference | realised return | ms / decision |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, row in sorted(rows.items(), key=lambda item: np.mean(item[1]["expected_areas"])):
        gaps = np.asarray(row.get("per_run", [_gap(row["expected_areas"], reference)]))
        spread = f" ± {gaps.std(ddof=1):.2f}%" if len(gaps) > 1 else ""
        ms = "-" if np.isnan(row["decision_s"]) else f"{1e3 * row['decision_s']:.3g}"
        lines.append(
            f"| {label} | {np.mean(row['expected_areas']):.4g} | {gaps.mean():+.2f}%{spread} | "
            f"{np.mean(row['returns']):.4g} | {ms} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4000, help="labelled env steps per seed (default 4000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)")
    parser.add_argument("--checkpoint", action="append", help="a trained generalist per seed instead of training")
    parser.add_argument("--episodes", type=int, default=5, help="held-out episodes per instance (default 5)")
    parser.add_argument("--instances", nargs="+", default=list(HELD_OUT), choices=list(HELD_OUT))
    parser.add_argument(
        "--baselines",
        type=lambda s: [n for n in s.split(",") if n],
        default=["exact-order", "recursive-efficiency", "ionn"],
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default benchmarks/results)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.baselines) - set(baselines.available(ENV_ID)))
    if unknown:
        parser.error(f"--baselines: unknown {unknown}; available: {baselines.available(ENV_ID)}")
    started = time.perf_counter()
    policies = _policies(args)
    lines = [
        "# Generalisation on EdgeUpload-v0: one checkpoint, held-out instances (issue 31)",
        "",
        f"The generalist (agents.generalist_upload: DAgger from recursive-efficiency over the instance distribution "
        f"TRAIN: AlexNet, VGG16 and ResNet32 at 32x32, 2-50 MB/s, 0-20% loss) trained for {args.steps} labelled "
        f"steps on each of the seeds {args.seeds}; {args.episodes} held-out episodes per instance (seeds "
        f"{EVAL_SEED}, ...). None of these instances can be drawn from TRAIN, whose models exclude theirs "
        "(tests/edge_upload/test_distribution.py). Returns are minus the area under the query-latency curve until "
        "the upload ends, s * s (higher is better), and move with the sampled transmission failures; a policy is "
        "ranked by the expected area of the partitions it sends (each one's latency before it times its expected "
        "upload time, resends included: what the order decides). The gap is to the reference, exact-order's "
        "optimal expected area of the same instances (exact: tests/baselines), mean over episodes; the "
        "generalist's ± is the std over its seeds' gaps. The per-instance agent is the leaderboard's maskable-ppo "
        "(listed where its network fits the instance's sizes).",
        "",
    ]
    summary, raw = [], {}
    for name in args.instances:
        rows = _instance(name, policies, args)
        raw[name] = {"kwargs": HELD_OUT[name], "rows": rows, "gaps_percent": rows[GENERALIST]["per_run"]}
        lines += [f"## {name}: `{json.dumps(HELD_OUT[name])}`", "", *_table(rows), ""]
        summary.append(f"| {name} | {', '.join(f'{g:+.2f}%' for g in rows[GENERALIST]['per_run'])} |")
    lines += [
        "## The generalist's gap to the reference (exact-order's expected area), per seed",
        "",
        "| instance | generalist, per seed |",
        "| --- | --- |",
        *summary,
        "",
    ]
    load, cores = os.getloadavg()[0], os.cpu_count()
    lines.append(
        f"Decision times are wall-clock on {cores} cores that other jobs shared (load average {load:.1f} at the end)."
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomically(args.out / "generalise_upload.json", json.dumps(raw, indent=1, default=float))
    publish(args.out / "generalise_upload.md", lines, "benchmarks.generalise_upload", argv, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
