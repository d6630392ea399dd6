"""Agents trained on ServiceMigration-v0 by the training script, against SM3FL, exact-round and the other baselines.

Each seed trains every ``--algos`` agent (``agents.train.train``, the function behind ``edge-envs
train``): the multi-task A3C (``mtl-a3c``: one softmax branch per modality over the N edges and one for
the rho choice, MultiDiscrete([8, 8, 8, 23]), chained) and SB3's PPO, for ``--steps`` rounds, each first
warm-started by imitation of ``exact-round`` (``--imitation-steps`` labelled rounds, DAgger; agents.imitation).
Then the agents (argmax actions) and the baselines play the same held-out episodes (seeds 10000, 10001, ...). The
return of an episode is minus its wall-clock time to the target, scaled by the env's reward_scale.

The scenario is the env's default on the bound backend (Corollary 1's rounds to target: the real
backend trains a model every round, too slow for RL training here), with ``reward_scale=0.01`` so
returns are in hundreds of seconds. The target (issue 15): within 5% of SM3FL's wall clock.

    python -m benchmarks.agents_service_migration --steps 4096 --episodes 3   # 2 seeds, warm-started, ~12 min
    python -m benchmarks.agents_service_migration --seeds 1 --steps 256 --episodes 1 --imitation-steps 64  # smoke

Writes benchmarks/results/agents_service_migration.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from agents.evaluate import EVAL_SEED, compare, summarize
from agents.presets import preset
from agents.train import make_options, train
from benchmarks.files import RESULTS_DIR, publish

ENV_ID = "ServiceMigration-v0"
REWARD_SCALE = 0.01
ENV_KWARGS = {"backend": "bound", "reward_scale": REWARD_SCALE}
ALGOS = ("mtl-a3c", "ppo")
WARM_START = {
    name: value for name, value in preset(ENV_ID, "ppo", "warm-start").options.items() if name != "imitation_steps"
}
"""The imitation warm start of both agents (agents.imitation; plus ``imitation_steps``): the preset
``ServiceMigration-v0/*/warm-start``'s, exact-round's labels over DAgger rounds (``--imitation-steps 0`` runs the
agents without it)."""
OPTIONS = {"mtl-a3c": {"workers": 1}, "ppo": {}}
"""Over the env x algo presets (agents.presets: mtl-a3c's chained branches, slow actor)."""
BASELINES = ("sm3fl", "exact-round", "mfl-fr", "mfl-nsm", "fedbcd", "mds")
RESULTS = RESULTS_DIR / "agents_service_migration.md"


def options(algo: str, imitation_steps: int) -> dict:
    """The options of ``algo`` in this benchmark, warm-started on ``imitation_steps`` labelled rounds (0: none)."""
    warm = {**WARM_START, "imitation_steps": imitation_steps} if imitation_steps else {}
    return {**OPTIONS[algo], **warm}


def run(algos, seeds: int, steps: int, episodes: int, logdir: Path, imitation_steps: int = 0) -> tuple[dict, dict]:
    """Per policy, the mean evaluation wall clock (s) of each training seed, and each agent's training time (s)."""
    walls: dict[str, list[float]] = {}
    train_s: dict[str, list[float]] = {}
    for seed in range(seeds):
        for algo in algos:
            result = train(
                ENV_ID,
                algo,
                steps,
                seed=seed,
                logdir=logdir,
                env_kwargs=ENV_KWARGS,
                options=make_options(algo, ENV_ID, options(algo, imitation_steps)),
                progress=False,
            )
            baseline_names = BASELINES if not walls else ()
            rows = compare(
                result.policy, ENV_ID, ENV_KWARGS, episodes, EVAL_SEED, baseline_names, label=algo, references=False
            )  # exact-round plays as a baseline
            for name, played in rows.items():
                walls.setdefault(name, []).append(-summarize(played)["return"] / REWARD_SCALE)
            train_s.setdefault(algo, []).append(result.wall_s)
    return walls, train_s


def table(walls: dict, train_s: dict, seeds: int, steps: int, episodes: int, imitation_steps: int = 0) -> list[str]:
    sm3fl, exact = walls["sm3fl"][0], walls["exact-round"][0]
    lines = [
        "| policy | wall-clock to target (s) | vs SM3FL | vs exact-round | training (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, values in sorted(walls.items(), key=lambda item: np.mean(item[1])):
        wall = np.array(values)
        spread = f" ± {wall.std(ddof=1):.3g} (over {len(wall)} training seeds)" if len(wall) > 1 else ""
        trained = f"{np.mean(train_s[name]):.0f}" if name in train_s else "-"
        lines.append(
            f"| {name} | {wall.mean():.4g}{spread} | {(wall.mean() / sm3fl - 1) * 100:+.1f}% "
            f"| {(wall.mean() / exact - 1) * 100:+.1f}% | {trained} |"
        )
    met = {a: np.mean(walls[a]) <= 1.05 * sm3fl for a in train_s}
    verdict = ", ".join(f"{a}: {'met' if ok else 'missed'}" for a, ok in met.items())
    return [
        "# Agents against SM3FL on ServiceMigration-v0",
        "",
        f"Agents trained by `edge-envs train`'s function for {steps} rounds per seed ({seeds} seed(s); mtl-a3c "
        f"with one worker and its preset {preset(ENV_ID, 'mtl-a3c').options}, PPO with SB3 defaults, gamma 0.95)"
        + (
            f", both first warm-started on {imitation_steps} labelled rounds ({WARM_START}; not counted in the "
            "rounds; its time is in the training time)"
            if imitation_steps
            else ""
        )
        + "; every policy evaluated on the same "
        f"{episodes} episodes (seeds {EVAL_SEED}..). Env: `{ENV_KWARGS}` (the defaults otherwise). exact-round is "
        "exact per round, not over the episode.",
        "",
        *lines,
        "",
        f"Target: within 5% of SM3FL's wall clock. {verdict}.",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=list(ALGOS))
    parser.add_argument("--seeds", type=int, default=2, help="training seeds (0..n-1)")
    parser.add_argument("--steps", type=int, default=40_000, help="env steps (rounds) of training per agent and seed")
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per policy")
    parser.add_argument(
        "--imitation-steps", type=int, default=16_000, help="rounds of the exact-round warm start (0: none)"
    )
    parser.add_argument("--logdir", type=Path, default=None, help="TensorBoard run folders (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.steps < 1 or args.episodes < 1 or args.imitation_steps < 0:
        parser.error("--seeds, --steps and --episodes must be >= 1, --imitation-steps >= 0")
    warnings.simplefilter("ignore", UserWarning)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        logdir = args.logdir or Path(scratch)
        walls, train_s = run(args.algos, args.seeds, args.steps, args.episodes, logdir, args.imitation_steps)
    lines = table(walls, train_s, args.seeds, args.steps, args.episodes, args.imitation_steps)
    publish(args.out, lines, "benchmarks.agents_service_migration", argv, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
