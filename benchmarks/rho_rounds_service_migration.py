"""Rounds to target against rho on ServiceMigration-v0's real backend, beside Corollary 1 (the SM3FL paper, Eq. 19).

Each episode keeps the initial edges and a fixed rho (``continuous_rho=True``, so rho is applied exactly)
and trains the split model on UCI mfeat to the held-out cross-entropy target. Corollary 1 predicts the
rounds to target R(rho) = beta rho / (rho - alpha): falling with rho, steeply near alpha and towards
beta for large rho. The benchmark fits alpha and beta to the measured rounds (least squares) and
prints both, with the full-batch variant (``batch_size=None``, where rho hardly matters) beside.

    python -m benchmarks.rho_rounds_service_migration                   # 3 seeds, ~5 min
    python -m benchmarks.rho_rounds_service_migration --seeds 1 --rhos 0.03 0.1   # smoke

Writes benchmarks/results/rho_rounds_service_migration.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from scipy.optimize import curve_fit

import edge_envs  # noqa: F401  (registers the ids)
from benchmarks.files import RESULTS_DIR, publish
from edge_envs.service_migration.learning import rounds_to_target

RESULTS = RESULTS_DIR / "rho_rounds_service_migration.md"
RHOS = (0.022, 0.03, 0.044, 0.08, 0.15)


def rounds(rho: float, seed: int, max_rounds: int, **env_kwargs) -> tuple[int, bool]:
    """Rounds one fixed-rho episode takes to the target (or the limit), and whether it reached it."""
    env = gym.make(
        "ServiceMigration-v0", continuous_rho=True, max_rounds=max_rounds, **{"backend": "real", **env_kwargs}
    )
    _, info = env.reset(seed=seed)
    action = env.unwrapped.encode_action(info["edges"], rho)
    while True:
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info["round"], terminated


def fit_corollary1(rhos, measured) -> tuple[float, float, float]:
    """Least-squares (alpha, beta) of R = beta rho / (rho - alpha), alpha below the smallest rho; and R^2."""
    rhos, measured = np.asarray(rhos, float), np.asarray(measured, float)
    model = lambda r, a, b: b * r / (r - a)  # noqa: E731
    (alpha, beta), _ = curve_fit(
        model,
        rhos,
        measured,
        p0=(rhos.min() / 2, measured.min()),
        bounds=([0.0, 0.0], [rhos.min() * (1 - 1e-6), np.inf]),
    )
    residual = measured - model(rhos, alpha, beta)
    total = np.sum((measured - measured.mean()) ** 2)
    r2 = 1.0 - residual @ residual / total if total > 0 else float("nan")
    return float(alpha), float(beta), float(r2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="episodes per rho (seeds 0..n-1)")
    parser.add_argument("--rhos", type=float, nargs="+", default=list(RHOS))
    parser.add_argument("--max-rounds", type=int, default=150)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.seeds < 1 or len(args.rhos) < 2 or args.max_rounds < 1:
        parser.error("--seeds and --max-rounds must be >= 1 and --rhos needs two values or more")
    start = time.perf_counter()
    lines = [
        "# Rounds to target against rho (ServiceMigration-v0, real backend)",
        "",
        f"{args.seeds} seed(s) per rho; initial edges kept; round limit {args.max_rounds}; target held-out "
        "cross-entropy 0.1. `minibatch`: the default (256 draws per SGD step, step 0.025); `full batch`: "
        "`batch_size=None, learning_rate=0.05` (the earlier default). Corollary 1 as used by the bound "
        "backend (alpha 0.02, beta 100) and fitted to the measurements.",
        "",
    ]
    variants = {"minibatch": {}, "full batch": {"batch_size": None, "learning_rate": 0.05}}
    fits = {}
    header = "| rho | " + " | ".join(f"{v}: rounds" for v in variants) + " | Corollary 1 (0.02, 100) |"
    table = [header, "| " + " | ".join(["---:"] * (len(variants) + 2)) + " |"]
    measured = {v: [] for v in variants}
    for rho in args.rhos:
        cells = []
        for name, kwargs in variants.items():
            runs = [rounds(rho, seed, args.max_rounds, **kwargs) for seed in range(args.seeds)]
            mean = float(np.mean([r for r, _ in runs]))
            measured[name].append(mean)
            reached = sum(done for _, done in runs)
            spread = f" ± {np.std([r for r, _ in runs], ddof=1):.2g}" if args.seeds > 1 else ""
            cells.append(f"{mean:.4g}{spread} ({reached}/{args.seeds} reached)")
        table.append(f"| {rho:g} | " + " | ".join(cells) + f" | {float(rounds_to_target(rho, 0.02, 100.0)):.4g} |")
    for name in variants:
        fits[name] = fit_corollary1(args.rhos, measured[name])
    lines += table + ["", "Corollary 1 fitted to the mean rounds, R(rho) = beta rho / (rho - alpha):", ""]
    for name, (alpha, beta, r2) in fits.items():
        means = np.array(measured[name])
        fewest = args.rhos[int(np.argmin(means))]
        lines.append(
            f"- {name}: alpha = {alpha:.4g}, beta = {beta:.4g}, R^2 = {r2:.3f}; the mean rounds at rho = "
            f"{args.rhos[0]:g} are {means[0] / means.min():.2f} times the fewest (at rho = {fewest:g})."
        )
    lines.append("")
    publish(args.out, lines, "benchmarks.rho_rounds_service_migration", argv, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
