"""The SM3FL paper's Table 2 on ServiceMigration-v0: cost, wall-clock time to target and final loss per framework.

Runs FedAvg, FedBCD, MFL-NSM, MFL-FR and SM3FL (and MDS, Section 6.2, and ``exact-round``) to the
target on both learning backends, over several seeds, and prints the means beside the paper's figures.
Settings are the env's defaults (Section 6.1, Table 1, with the readings documented in
``edge_envs/service_migration/config.py``; FedBCD and MFL-FR at rho = 0.044, Section 6.4); rho is applied
exactly (``continuous_rho=True``).

Settings: ``default`` (printed noise, capability N(10^6, (3 x 10^5)^2)); ``printed-spread``: the same with
the paper's printed spread 3 x 10^6 (truncated at 10^5), to show what the spread does to the ordering.
Each split-learning row also gives its gap to ``exact-round``: per round (its round's estimate of P2,
Eq. 22, over the exact minimum on the same state; mean over rounds) and per episode (wall clock).

Where the rows depart from the paper's Table 2 (benchmarks/results/fidelity.md gives the figures):

* FedAvg. The paper gives no time model for horizontal FL. Its FedAvg wall-clock is 62% of its summed
  communication and computation cost (its SM3FL's: 38%), so its edges cannot have worked side by side. The
  FedAvg row uses ``horizontal_schedule="shared"`` (``core.round_duration``): the edges take turns on the band
  and the server link and train in parallel. ``FedAvg (parallel edges)`` costs the same rounds (devices moving as
  in that episode) with every edge working at once (``"parallel"``): on the bound backend (Corollary 1's
  rounds for both) it is about as fast as SM3FL (0.88 times SM3FL's wall-clock by default).
  On the real backend FedAvg also needs about 5 times SM3FL's rounds (each edge trains on its own devices'
  eighth of the samples), so no one schedule puts both backends near the paper's ratio.
* MFL-NSM equals FedBCD: without migration Psi^s = 0 and Eq. (31) gives rho* = 2 alpha = 0.04, at which
  Eq. (28a) is only 0.83% below its value at FedBCD's 0.044; the paper's 8.8% cannot come from Eq. (31).

    python -m benchmarks.table2_service_migration                   # 3 seeds, both backends and settings
    python -m benchmarks.table2_service_migration --seeds 1 --backends bound   # seconds
    python -m benchmarks.table2_service_migration --spread-sweep   # the capability spread's effect (minutes)

Writes benchmarks/results/table2_service_migration.md (atomically) and prints it; ``--spread-sweep`` writes
benchmarks/results/table2_service_migration_spread.md instead: the bound backend's ratios to SM3FL over the
edges' capability spread, which the paper prints garbled (N(10^6, 3 x 10^6)) and which sets how much migration
saves. Its row nearest the paper's own computation-cost ratio (FedBCD's over SM3FL's, 1.21) is the spread the
paper's Table 2 implies.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np

import baselines
import edge_envs  # noqa: F401  (registers the ids)
from baselines.service_migration import best_round, round_objective
from benchmarks.files import RESULTS_DIR, publish
from edge_envs.service_migration import core

RESULTS = RESULTS_DIR / "table2_service_migration.md"
SPREAD_RESULTS = RESULTS_DIR / "table2_service_migration_spread.md"
SPREAD_STDS = (0.0, 5e4, 1e5, 1.5e5, 2e5, 2.5e5, 3e5, 3e6)
"""Capability spreads (std of xi_n, cycles/s) of the sweep: none, up to the default 3e5, and the printed 3e6."""
SPREAD_RATIOS = ("MFL-FR", "MFL-NSM", "FedBCD", "FedAvg")
SETTINGS = {"default": {}, "printed-spread": {"capability_std_hz": 3e6}}
# (row, baseline, env overrides, policy kwargs)
FRAMEWORKS = (
    ("FedAvg", "fedavg", {"framework": "horizontal", "horizontal_schedule": "shared"}, {}),
    ("FedBCD", "fedbcd", {}, {"rho": 0.044}),
    ("MFL-NSM", "mfl-nsm", {}, {}),
    ("MFL-FR", "mfl-fr", {}, {"rho": 0.044}),
    ("SM3FL", "sm3fl", {}, {}),
    ("MDS", "mds", {}, {}),
    ("exact-round", "exact-round", {}, {}),
)
PARALLEL_FEDAVG = "FedAvg (parallel edges)"
# Table 2 of the SM3FL paper (CMU-MOSI regression, target MAE 1): comm. cost, comp. cost, wall-clock (s), final MAE
PAPER_TABLE2 = {
    "FedAvg": (241.152, 721.05, 593.28, 0.9253),
    "FedBCD": (178.44, 570.10, 311.45, 0.9319),
    "MFL-NSM": (162.54, 521.68, 284.01, 0.9324),
    "MFL-FR": (163.83, 475.13, 270.38, 0.9307),
    "SM3FL": (189.35, 470.53, 247.57, 0.9185),
}


def run_episode(
    backend: str, setting: str, baseline: str, env_overrides: dict, policy_kwargs: dict, seed: int, max_rounds: int
) -> dict:
    """One episode to the target (or the round limit); the episode's totals and its mean per-round gap."""
    env = gym.make(
        "ServiceMigration-v0",
        backend=backend,
        continuous_rho=True,
        max_rounds=max_rounds,
        **SETTINGS[setting],
        **env_overrides,
    )
    cfg = env.unwrapped.cfg
    policy = baselines.make_policy(baseline, env, **policy_kwargs)
    obs, info = env.reset(seed=seed)
    rhos, gaps, parallel = [], [], 0.0
    while True:
        costs = core.pair_costs(cfg, info["edges"], info["slowest_rates"], info["capability"])
        obs, _, terminated, truncated, info = env.step(policy.act(obs, info))
        rhos.append(info["rho"])
        parallel += core.RoundTimes(info["migration_time"], info["upload_time"], info["computation_time"]).round_time
        if cfg.framework == "split":
            applied = float(round_objective(cfg, costs, info["edges"], info["rho"]))
            gaps.append(applied / best_round(cfg, costs)[2] - 1.0)
        if terminated or truncated:
            break
    return {
        "comm": info["communication_cost"],
        "comp": info["computation_cost"],
        "wall": info["wall_clock"],
        "wall_parallel": parallel,  # the same rounds with every modality or edge working at once
        "rounds": info["round"],
        "loss": info["loss"],
        "accuracy": info["accuracy"],
        "rho": float(np.mean(rhos)),
        "reached": bool(terminated),
        "round_gap": float(np.mean(gaps)) if gaps else None,
    }


def _fmt(values) -> str:
    values = np.asarray([v for v in values if v is not None], dtype=float)
    if values.size == 0:
        return "-"
    mean = values.mean()
    text = f"{mean:.4g}" if abs(mean) < 1e5 else f"{mean:.3e}"
    return text if values.size == 1 else f"{text} ± {values.std(ddof=1):.2g}"


def table(backend: str, setting: str, runs: dict) -> list[str]:
    """Markdown rows for one (backend, setting) block; ``runs`` maps a row name to its per-seed results."""
    fedbcd = np.mean([r["wall"] for r in runs["FedBCD"]])
    exact = np.mean([r["wall"] for r in runs["exact-round"]])
    loss = "final held-out CE" if backend == "real" else "final bound (1 = target)"
    lines = [
        f"### backend `{backend}`, setting `{setting}`",
        "",
        f"| framework | comm. cost (s) | comp. cost (s) | wall-clock (s) | vs FedBCD | round gap to exact-round "
        f"| episode gap to exact-round | rounds | {loss} | accuracy | mean rho | reached | paper: comm. | paper: comp. "
        "| paper: wall-clock | paper: MAE |",
        "| --- | " + " | ".join(["---:"] * 15) + " |",
    ]
    for name, results in runs.items():
        paper_row = PAPER_TABLE2.get(name, ("-",) * 4)
        wall = np.mean([r["wall"] for r in results])
        gaps = [r["round_gap"] for r in results if r["round_gap"] is not None]
        cells = [
            _fmt(r["comm"] for r in results),
            _fmt(r["comp"] for r in results),
            _fmt(r["wall"] for r in results),
            f"{100 * (wall / fedbcd - 1):+.1f}%",
            f"{100 * np.mean(gaps):+.2f}%" if gaps else "-",
            f"{100 * (wall / exact - 1):+.1f}%",
            _fmt(r["rounds"] for r in results),
            _fmt(r["loss"] for r in results),
            _fmt(r["accuracy"] for r in results),
            _fmt(r["rho"] for r in results),
            f"{sum(r['reached'] for r in results)}/{len(results)}",
            *[str(v) for v in paper_row],
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    order = sorted(runs, key=lambda n: np.mean([r["wall"] for r in runs[n]]))
    lines += ["", "Fastest to slowest: " + " < ".join(order) + ".", ""]
    return lines


def paper_comp_ratio() -> float:
    """The paper's FedBCD computation cost over SM3FL's (Table 2: 570.10 / 470.53)."""
    return PAPER_TABLE2["FedBCD"][1] / PAPER_TABLE2["SM3FL"][1]


def spread_sweep(seeds: int, max_rounds: int) -> list[str]:
    """Markdown of the bound backend's ratios to SM3FL (mean over seeds) at each capability spread of SPREAD_STDS,
    and the spread whose computation-cost ratio FedBCD / SM3FL is nearest the paper's."""
    paper_wall = {name: PAPER_TABLE2[name][2] / PAPER_TABLE2["SM3FL"][2] for name in SPREAD_RATIOS}
    lines = [
        "## Capability spread (bound backend)",
        "",
        "| capability std (cycles/s) | comp. cost FedBCD / SM3FL | "
        + " | ".join(f"{n} wall-clock / SM3FL's" for n in SPREAD_RATIOS)
        + " | within 25% of the paper |",
        "| ---: | ---: | " + " | ".join(["---:"] * len(SPREAD_RATIOS)) + " | --- |",
        f"| paper (Table 2) | {paper_comp_ratio():.3f} | "
        + " | ".join(f"{paper_wall[n]:.3f}" for n in SPREAD_RATIOS)
        + " | - |",
    ]
    nearest = None
    for std in SPREAD_STDS:
        means = {}
        for name, baseline, overrides, policy_kwargs in FRAMEWORKS:
            if name not in (*SPREAD_RATIOS, "SM3FL"):
                continue
            runs = [
                run_episode(
                    "bound",
                    "default",
                    baseline,
                    {**overrides, "capability_std_hz": std},
                    policy_kwargs,
                    seed,
                    max_rounds,
                )
                for seed in range(seeds)
            ]
            means[name] = (np.mean([r["wall"] for r in runs]), np.mean([r["comp"] for r in runs]))
        comp = means["FedBCD"][1] / means["SM3FL"][1]
        ratios = {n: means[n][0] / means["SM3FL"][0] for n in SPREAD_RATIOS}
        within = [n for n in SPREAD_RATIOS if abs(ratios[n] / paper_wall[n] - 1) <= 0.25]
        lines.append(
            f"| {std:.3g} | {comp:.3f} | "
            + " | ".join(f"{ratios[n]:.3f}" for n in SPREAD_RATIOS)
            + f" | {', '.join(within) or 'none'} |"
        )
        if nearest is None or abs(comp - paper_comp_ratio()) < abs(nearest[1] - paper_comp_ratio()):
            nearest = (std, comp)
    lines += [
        "",
        f"Nearest the paper's computation-cost ratio ({paper_comp_ratio():.3f}): capability std {nearest[0]:.3g} "
        f"cycles/s (ratio {nearest[1]:.3f}).",
        "",
    ]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="episodes per framework (seeds 0..n-1)")
    parser.add_argument("--backends", nargs="+", default=["bound", "real"], choices=["bound", "real"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--max-rounds", type=int, default=500, help="round limit (truncation)")
    parser.add_argument("--spread-sweep", action="store_true", help="the bound backend over capability spreads")
    parser.add_argument("--out", type=Path, default=None, help="default: RESULTS/table2_service_migration[_spread].md")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    warnings.simplefilter("ignore", UserWarning)
    start = time.perf_counter()
    if args.spread_sweep:
        lines = [
            "# The SM3FL paper, Table 2 on ServiceMigration-v0: the edges' capability spread",
            "",
            f"{args.seeds} seed(s) per cell; round limit {args.max_rounds}; the env's defaults (capability "
            "N(1e6, std^2) cycles/s redrawn every round, truncated at 1e5) but for the std, FedBCD and MFL-FR at "
            "rho = 0.044, FedAvg on the shared schedule, as in table2_service_migration.md. The paper prints the "
            "spread as 3 x 10^6 (garbled, see the env's config); its own Table 2 has FedBCD spend 1.21 times "
            "SM3FL's computation, which the spread alone sets here (migration picks the faster edges).",
            "",
            *spread_sweep(args.seeds, args.max_rounds),
        ]
        publish(args.out or SPREAD_RESULTS, lines, "benchmarks.table2_service_migration", argv, start)
        return 0
    lines = [
        "# The SM3FL paper, Table 2 on ServiceMigration-v0",
        "",
        f"{args.seeds} seed(s) per cell (mean ± sample std); round limit {args.max_rounds}. Env defaults: "
        "Section 6.1 and Table 1 (50 devices, 8 edges, E = 5, alpha = 0.02, beta = 100), Eq. (4)'s noise as "
        "printed, capability N(1e6, (3e5)^2) cycles/s (`printed-spread`: std 3e6, truncated at 1e5); FedBCD and "
        "MFL-FR at rho = 0.044 (Section 6.4); rho applied exactly. Costs are sums over rounds and modalities "
        "(FedAvg: over edges) of T_cm and T_cp; wall-clock is the sum of round times (the slowest modality; "
        "FedAvg: the edges' communication in turn, then the slowest edge's training; FedAvg (parallel "
        "edges): the slowest edge). Real backend: split training on UCI mfeat (minibatches of 256, step 0.025) "
        "to held-out cross-entropy 0.1; bound backend: Corollary 1's rounds. exact-round is exact per round, not "
        "over the episode. The paper's columns are its CMU-MOSI results (target MAE 1).",
        "",
    ]
    for backend in args.backends:
        for setting in args.settings:
            runs = {}
            for name, baseline, overrides, policy_kwargs in FRAMEWORKS:
                runs[name] = [
                    run_episode(backend, setting, baseline, overrides, policy_kwargs, seed, args.max_rounds)
                    for seed in range(args.seeds)
                ]
                if name == "FedAvg":
                    runs[PARALLEL_FEDAVG] = [dict(r, wall=r["wall_parallel"]) for r in runs[name]]
            lines += table(backend, setting, runs)
    publish(args.out or RESULTS, lines, "benchmarks.table2_service_migration", argv, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
