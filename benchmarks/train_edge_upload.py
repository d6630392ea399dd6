"""Train MaskablePPO on EdgeUpload-v0 (AlexNet, VGG16 at 224x224) and compare it with the baselines.

For each model, in the single-user setting (the env's defaults), MaskablePPO (``agents.maskable``)
trains for ``--steps`` env steps with seed ``--train-seed`` (the training env draws its own
instances), then acts greedily under the mask on the evaluation seeds ``seed .. seed + episodes - 1``
beside the baselines, with the same figures and exact-order gap as ``benchmarks.baselines_edge_upload``.

    python -m benchmarks.train_edge_upload --steps 30000 --episodes 8
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym

import baselines
import edge_envs  # noqa: F401
from agents.maskable import ALGO, train_maskable
from benchmarks.baselines_edge_upload import RESULTS, TABLE_HEAD, evaluate, table_row
from benchmarks.files import publish, write_atomically

COMPARED = ("exact-order", "recursive-efficiency", "ionn", "direct", "random")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["alexnet_224", "vgg16_224"])
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--train-seed", type=int, default=1000)
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "train_edge_upload.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    seeds = list(range(args.seed, args.seed + args.episodes))
    lines = [
        f"# EdgeUpload-v0: MaskablePPO ({args.steps} steps, training seed {args.train_seed}) against the baselines",
        "",
        f"Single user (one client, one edge server). Evaluation on seeds {seeds[0]}..{seeds[-1]}; columns as in "
        "`baselines_edge_upload.md` (area = minus the return, s * s; gap = expected area against the exact "
        "order's).",
        "",
    ]
    record = {"steps": args.steps, "train_seed": args.train_seed, "seeds": seeds, "models": {}}
    for model in args.models:
        began = time.perf_counter()
        trained = train_maskable("EdgeUpload-v0", args.steps, args.train_seed, {"model": model})
        train_s = time.perf_counter() - began
        env = gym.make("EdgeUpload-v0", model=model)
        policies = {ALGO: trained, **{name: baselines.make_policy(name, env) for name in COMPARED}}
        refs, runs = evaluate(env, policies, seeds, args.seed, reference=True)
        rows = [table_row(name, runs[name], refs, seeds) for name in policies]
        lines += [
            f"## {model}",
            "",
            f"Training: {train_s:.0f} s ({args.steps / train_s:.0f} steps/s).",
            "",
            *TABLE_HEAD,
            *[row for _, row in sorted(rows)],
            "",
        ]
        record["models"][model] = {
            "train_s": train_s,
            "reference_area": {str(s): refs[s] for s in seeds},
            "area": {name: [float(r["area"]) for r in runs[name]] for name in policies},
            "expected_area": {name: [float(r["expected_area"]) for r in runs[name]] for name in policies},
        }
    write_atomically(args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    publish(args.out, lines, "benchmarks.train_edge_upload", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
