"""Training benchmark on EdgePartition-v0: every agent, M = 6 and M = 12 blocks, equal env steps.

Each algorithm (``mtl-a3c``, ``a3c``, ``dqn``, ``ppo``, ``a2c``) is trained through
``agents.train.train`` (the function behind ``edge-envs train``) for the same number of env steps
on each seed, for each number of blocks M (VGG16, N = 4 edge servers, 60 tasks/s, queues,
background load, mobility, fading and the energy budget of the default scenario; episodes
shortened to ``--episode-slots`` for speed). PPO and A2C step ``--sb3-envs`` env copies in
lockstep (DQN one: more copies would change its updates per sample). The single-head A3C and DQN choose among the
(N+1)^M joint placements: at M = 12 that is 5^12 = 244M actions, which they refuse
(``agents.spaces.JointActionCodec``); the table says "n/a (joint space too large)".

After training, each agent plays ``--eval-episodes`` held-out episodes (seeds 10000, 10001, ...;
argmax actions) and the baselines play the same ones (greedy, APDI, RPDI = ``random``, and the
per-slot DP oracle, which is exact only without contention).

Episodes to converge (stated in the table too): per seed, the training returns are smoothed by a
moving average over ``SMOOTH`` episodes; the final level is the mean return of the last 10% of the
episodes; the run has converged at the first episode where the smoothed return has covered 95% of
the way from its first value to the final level. Reported as the mean over seeds.

A throughput measure trains the multi-task A3C (``--workers`` worker processes) and SB3 PPO
(one process, ``--sb3-envs`` env copies as in training) on the same env for ``--throughput-steps`` steps each, alternately, ``--throughput-repeats``
times, in this one run, and reports env steps/s of each and their ratio.

Writes (atomically: temp file + os.replace) into ``--out`` (default benchmarks/results/):
``train_edge_partition.md`` (tables), ``train_edge_partition_M{M}.png`` (return vs env steps, mean
over seeds, baselines as horizontal lines) and ``train_edge_partition.json`` (the raw numbers).

    python -m benchmarks.train_edge_partition                           # the full configuration
    python -m benchmarks.train_edge_partition --seeds 1 --steps 256 --episode-slots 16 \\
        --eval-episodes 1 --throughput-steps 256 --out /tmp/smoke          # smoke
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from agents.evaluate import EVAL_SEED, compare, display_name, summarize
from agents.train import ALGOS, make_options
from edge_envs.io import write_atomically

ENV_ID = "EdgePartition-v0"
BASELINES = ("greedy", "apdi", "random", "dp-oracle")
RESULTS = Path(__file__).parent / "results"
SMOOTH = 10
NOT_ENUMERABLE = "n/a (joint space too large)"


def env_kwargs(blocks: int, episode_slots: int) -> dict:
    return {"num_blocks": int(blocks), "episode_slots": int(episode_slots)}


def episodes_to_converge(returns, smooth: int = SMOOTH) -> float:
    """Episodes until the smoothed training return covers 95% of the way to its final level (see the module doc)."""
    returns = np.asarray(returns, dtype=float)
    if len(returns) < 2:
        return float("nan")
    window = max(1, min(smooth, len(returns) // 4 or 1))
    curve = np.convolve(returns, np.ones(window) / window, mode="valid")
    final = returns[-max(1, len(returns) // 10) :].mean()
    start = curve[0]
    if final - start <= 1e-9 * max(1.0, abs(start)):  # no improvement: converged at once
        return float(window)
    reached = np.nonzero(curve - start >= 0.95 * (final - start))[0]
    return float(reached[0] + window) if len(reached) else float(len(returns))


def binned_curve(episodes, total_steps: int, bins: int) -> np.ndarray:
    """Mean training return of the episodes that ended in each of ``bins`` equal env-step bins (NaN: none)."""
    sums, counts = np.zeros(bins), np.zeros(bins)
    for step, episode in episodes:
        b = min(bins - 1, int(step * bins / max(total_steps, 1)))
        sums[b] += episode.episode_return
        counts[b] += 1
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def train_options(algo: str, args):
    """The options ``train`` gets: A3C worker processes, or PPO's and A2C's env copies."""
    if algo in ("mtl-a3c", "a3c"):
        return make_options(algo, ENV_ID, {"workers": args.workers})
    return make_options(algo, ENV_ID, {"envs": args.sb3_envs} if algo in ("ppo", "a2c") else {})


def run_algo(algo: str, kwargs: dict, args, seed: int, logdir: str) -> dict:
    """Train one (algo, M, seed) and evaluate it; {"error": message} when the agent refuses the env."""
    from agents.train import train

    options = train_options(algo, args)
    try:
        result = train(ENV_ID, algo, args.steps, seed=seed, logdir=logdir, env_kwargs=kwargs, options=options, progress=False)
    except ValueError as error:
        if "joint action space" in str(error):
            return {"error": NOT_ENUMERABLE, "message": str(error)}
        raise
    evaluation = summarize(compare(result.policy, ENV_ID, kwargs, args.eval_episodes, EVAL_SEED, label=algo)[algo])
    returns = [episode.episode_return for _, episode in result.episodes]
    return {
        "steps": result.steps,
        "wall_s": result.wall_s,
        "eval": evaluation,
        "episodes": len(returns),
        "converge_episodes": episodes_to_converge(returns),
        "curve": binned_curve(result.episodes, args.steps, args.bins).tolist(),
    }


def run_baselines(kwargs: dict, episodes: int) -> dict:
    """Summaries of the baselines on the evaluation episodes (the same seeds the agents meet)."""
    import baselines

    from agents.envs import make_env
    from agents.evaluate import run_episodes

    out = {}
    for name in BASELINES:
        env = make_env(ENV_ID, kwargs)
        out[name] = summarize(run_episodes(baselines.make_policy(name, env), env, episodes, EVAL_SEED))
    return out


def measure_throughput(args, logdir: str) -> dict:
    """mtl-a3c (``--workers`` processes) and SB3 PPO, alternately, on the same env: env steps/s and ratio."""
    from agents.train import train

    kwargs = env_kwargs(args.blocks[0], args.episode_slots)
    runs = {"mtl-a3c": [], "ppo": []}
    for repeat in range(args.throughput_repeats):
        for algo in runs:
            result = train(ENV_ID, algo, args.throughput_steps, seed=repeat, logdir=logdir, env_kwargs=kwargs, options=train_options(algo, args), progress=False)
            runs[algo].append(result.steps / result.wall_s)
    a3c, ppo = float(np.median(runs["mtl-a3c"])), float(np.median(runs["ppo"]))
    return {"env_kwargs": kwargs, "steps": args.throughput_steps, "workers": args.workers, "sb3_envs": args.sb3_envs, "sps": runs, "median_sps": {"mtl-a3c": a3c, "ppo": ppo}, "ratio": a3c / ppo}


def _fmt(values, spec: str = ".4g") -> str:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "-"
    mean = float(np.mean(values))
    return f"{mean:{spec}} ± {np.std(values, ddof=1):.2g}" if len(values) > 1 else f"{mean:{spec}}"


def tables(results: dict, args) -> list[str]:
    lines = []
    for blocks, block in results["blocks"].items():
        kwargs = block["env_kwargs"]
        lines += [
            f"## M = {blocks} blocks ({ENV_ID} {json.dumps(kwargs)}; (N+1)^M = {5 ** int(blocks):,} joint placements)",
            "",
            "| policy | eval return | delay / slot (s) | delay / episode (s) | penalty / episode | episodes to converge | train episodes | wall time / run (s) | train steps/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for algo in args.algos:
            runs = block["algos"][algo]
            if runs and "error" in runs[0]:
                lines.append(f"| {algo} | {runs[0]['error']} | | | | | | | |")
                continue
            ev = [r["eval"] for r in runs]
            lines.append(
                f"| {algo} | {_fmt([e['return'] for e in ev])} | {_fmt([e.get('delay', np.nan) / e['length'] for e in ev], '.4f')} | "
                f"{_fmt([e.get('delay', np.nan) for e in ev])} | {_fmt([e.get('penalty', np.nan) for e in ev])} | "
                f"{_fmt([r['converge_episodes'] for r in runs], '.0f')} | {_fmt([r['episodes'] for r in runs], '.0f')} | "
                f"{_fmt([r['wall_s'] for r in runs], '.0f')} | {_fmt([r['steps'] / r['wall_s'] for r in runs], '.0f')} |"
            )
        for name, s in block["baselines"].items():
            lines.append(
                f"| {display_name(name)} (baseline) | {s['return']:.4g} | {s.get('delay', np.nan) / s['length']:.4f} | "
                f"{s.get('delay', np.nan):.4g} | {s.get('penalty', np.nan):.4g} | - | - | - | - |"
            )
        lines.append("")
    t = results.get("throughput")
    if t:
        lines += [
            f"## Throughput ({ENV_ID} {json.dumps(t['env_kwargs'])}, {t['steps']} training steps per run, runs alternated {len(t['sps']['ppo'])} times in one process)",
            "",
            "| agent | env steps/s (median) | runs |",
            "| --- | ---: | --- |",
            f"| mtl-a3c, {t['workers']} worker processes | {t['median_sps']['mtl-a3c']:.0f} | {', '.join(f'{v:.0f}' for v in t['sps']['mtl-a3c'])} |",
            f"| SB3 PPO (one process, {t['sb3_envs']} env copies) | {t['median_sps']['ppo']:.0f} | {', '.join(f'{v:.0f}' for v in t['sps']['ppo'])} |",
            "",
            f"Ratio mtl-a3c / PPO: **{t['ratio']:.2f}x** (training wall time includes the A3C workers' start-up).",
            "",
        ]
    return lines


def plot(block: dict, blocks, args, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = (np.arange(args.bins) + 0.5) * args.steps / args.bins
    for algo in args.algos:
        runs = block["algos"][algo]
        if not runs or "error" in runs[0]:
            continue
        curves = np.array([r["curve"] for r in runs], dtype=float)
        with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves, axis=0)
        ok = ~np.isnan(mean)
        ax.plot(x[ok], mean[ok], marker=".", label=f"{algo} (training, mean of {len(runs)} seeds)")
    for i, (name, s) in enumerate(block["baselines"].items()):
        ax.axhline(s["return"], ls="--", lw=1, color=f"C{5 + i}", label=f"{display_name(name)} (eval)")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_xlabel("env steps")
    ax.set_ylabel("episode return (symlog)")
    ax.set_title(f"EdgePartition-v0, M = {blocks}, {args.episode_slots}-slot episodes")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write_atomically(path, buffer.getvalue())


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Train every agent on EdgePartition-v0 (M = 6, 12) and tabulate.")
    parser.add_argument("--algos", default=",".join(ALGOS), help=f"comma-separated algorithms (default {','.join(ALGOS)})")
    parser.add_argument("--blocks", default="6,12", help="comma-separated numbers of blocks M (default 6,12)")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per (algo, M) (default 2)")
    parser.add_argument("--steps", type=int, default=60_000, help="env steps per training run (default 60000)")
    parser.add_argument("--episode-slots", type=int, default=200, help="slots per episode (default 200; the env's default is 600)")
    parser.add_argument("--eval-episodes", type=int, default=3, help="held-out evaluation episodes (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="A3C worker processes (default 2)")
    parser.add_argument("--sb3-envs", type=int, default=8, help="env copies PPO and A2C step in lockstep (default 8)")
    parser.add_argument("--bins", type=int, default=30, help="env-step bins of the learning curves (default 30)")
    parser.add_argument("--throughput-steps", type=int, default=30_000, help="steps per throughput run (0: skip; default 30000)")
    parser.add_argument("--throughput-repeats", type=int, default=2, help="alternated throughput runs per agent (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result files (default benchmarks/results)")
    args = parser.parse_args(argv)
    args.algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = sorted(set(args.algos) - set(ALGOS))
    if unknown:
        parser.error(f"unknown algorithms {unknown}; choose from {list(ALGOS)}")
    args.blocks = [int(b) for b in args.blocks.split(",") if b.strip()]
    for name in ("seeds", "steps", "eval_episodes", "workers", "bins", "throughput_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    args = parse_args(argv)
    started = time.perf_counter()
    results = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "blocks": {}}
    with tempfile.TemporaryDirectory() as logdir:
        for blocks in args.blocks:
            kwargs = env_kwargs(blocks, args.episode_slots)
            block = {"env_kwargs": kwargs, "algos": {}, "baselines": run_baselines(kwargs, args.eval_episodes)}
            results["blocks"][str(blocks)] = block
            for algo in args.algos:
                block["algos"][algo] = []
                for seed in range(args.seeds):
                    run = run_algo(algo, kwargs, args, seed, logdir)
                    block["algos"][algo].append(run)
                    print(f"M={blocks} {algo} seed {seed}: " + (run["error"] if "error" in run else
                          f"eval return {run['eval']['return']:.4g}, {run['wall_s']:.0f} s"), file=sys.stderr, flush=True)
                    if "error" in run:
                        break  # the refusal does not depend on the seed
        if args.throughput_steps > 0:
            results["throughput"] = measure_throughput(args, logdir)
    results["wall_s"] = time.perf_counter() - started
    from benchmarks.files import write_atomically

    for blocks, block in results["blocks"].items():
        plot(block, blocks, args, args.out / f"train_edge_partition_M{blocks}.png")
    command = "python -m benchmarks.train_edge_partition " + " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        "# EdgePartition-v0: agents trained on equal env steps, M = 6 and M = 12",
        "",
        f"{args.seeds} seeds x {args.steps} env steps per (algorithm, M), {args.episode_slots}-slot episodes, "
        f"A3C agents with {args.workers} worker processes, PPO and A2C on {args.sb3_envs} env copies. Eval return: mean over seeds of the mean return of "
        f"{args.eval_episodes} held-out episodes (seeds {EVAL_SEED}..; argmax actions), ± std over seeds. Delay: "
        "the per-task inference delay summed over the episode's slots (info['delay']). Baselines play the same episodes.",
        "",
        f"Episodes to converge: per seed, the first training episode at which the {SMOOTH}-episode moving average "
        "of the training return has covered 95% of the way from its first value to the final level (the mean "
        "return of the last 10% of the episodes); mean over seeds. Learning curves: "
        + ", ".join(f"train_edge_partition_M{b}.png" for b in results["blocks"]) + ".",
        "",
    ]
    text = "\n".join([*header, *tables(results, args), f"Command: `{command.strip()}`; {results['wall_s']:.0f} s.", ""])
    write_atomically(args.out / "train_edge_partition.md", text)
    write_atomically(args.out / "train_edge_partition.json", json.dumps(results, indent=1, default=float) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
