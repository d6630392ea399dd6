"""PPO trained through the training script on ServiceMigration-v0, against SM3FL and the seed's other baselines.

Issue 5 asks for PPO trained with ``edge-envs train`` and compared with SM3FL's Algorithm 1. Each
seed trains PPO (``agents.train.train``, the function behind ``edge-envs train``) for ``--steps``
rounds and then evaluates it (argmax actions) and the baselines on the same held-out episodes
(seeds 10000, 10001, ...). The return of an episode is minus its wall-clock time to the target.

The scenario is the bound backend (Corollary 1's rounds to target, fast) at the scale of the seed's
own Table 2 (the printed Eq. (4), ``SEED_PRINTED_NOISE_PSD_DBM_PER_HZ``); under the ERRATA noise the
uploads take ~10^8 s per round and swamp every other decision. The action is the default
``MultiDiscrete`` (an edge per modality and one of 20 rho levels).

    python -m benchmarks.ppo_service_migration                      # 3 seeds x 100k steps, ~15 min
    python -m benchmarks.ppo_service_migration --seeds 1 --steps 2048 --episodes 2   # smoke

Writes benchmarks/results/ppo_service_migration.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from agents.evaluate import EVAL_SEED, compare, summarize
from agents.train import train
from benchmarks.files import RESULTS_DIR, publish
from edge_envs.service_migration import SEED_PRINTED_NOISE_PSD_DBM_PER_HZ

ENV_ID = "ServiceMigration-v0"
ENV_KWARGS = {"backend": "bound", "noise_psd_dbm_per_hz": SEED_PRINTED_NOISE_PSD_DBM_PER_HZ}
BASELINES = ("sm3fl", "mfl-fr", "mfl-nsm", "fedbcd", "mds")
RESULTS = RESULTS_DIR / "ppo_service_migration.md"


def run(seeds: int, steps: int, episodes: int, logdir: Path) -> dict[str, list[float]]:
    """Per policy, the mean evaluation return of each training seed (baselines: the same episodes each time)."""
    returns: dict[str, list[float]] = {"ppo": []}
    for seed in range(seeds):
        result = train(ENV_ID, "ppo", steps, seed=seed, logdir=logdir, env_kwargs=ENV_KWARGS, progress=False)
        rows = compare(result.policy, ENV_ID, ENV_KWARGS, episodes, EVAL_SEED, BASELINES if seed == 0 else (),
                       label="ppo")
        for name, episodes_run in rows.items():
            returns.setdefault(name, []).append(summarize(episodes_run)["return"])
    return returns


def table(returns: dict[str, list[float]], seeds: int, steps: int, episodes: int) -> list[str]:
    sm3fl = returns["sm3fl"][0]
    lines = ["| policy | wall-clock to target (s) | vs SM3FL |", "| --- | ---: | ---: |"]
    for name, values in sorted(returns.items(), key=lambda item: -np.mean(item[1])):
        wall = -np.array(values)
        spread = f" ± {wall.std(ddof=1):.3g} (over {len(wall)} training seeds)" if len(wall) > 1 else ""
        lines.append(f"| {name} | {wall.mean():.4g}{spread} | {(wall.mean() / -sm3fl - 1) * 100:+.1f}% |")
    return [
        "# PPO against SM3FL on ServiceMigration-v0",
        "",
        f"PPO (SB3 defaults, gamma 0.95) trained by `edge-envs train` for {steps} rounds per seed ({seeds} seed(s)); "
        f"every policy evaluated on the same {episodes} episodes (seeds {EVAL_SEED}..). Env: `{ENV_KWARGS}`.",
        "",
        *lines,
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="PPO training seeds (0..n-1)")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps (rounds) of PPO training per seed")
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per policy")
    parser.add_argument("--logdir", type=Path, default=None, help="TensorBoard run folders (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.steps < 1 or args.episodes < 1:
        parser.error("--seeds, --steps and --episodes must be >= 1")
    warnings.simplefilter("ignore", UserWarning)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        returns = run(args.seeds, args.steps, args.episodes, args.logdir or Path(scratch))
    lines = table(returns, args.seeds, args.steps, args.episodes)
    publish(args.out, lines, "benchmarks.ppo_service_migration", argv, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
