"""Training benchmark on EdgePartition-v0: agents over several seeds beside every baseline and the bound.

Each algorithm (default ``mtl-a3c`` and ``ppo``; also ``a3c``, ``dqn``, ``a2c``) is trained through
``agents.train.train`` (the function behind ``edge-envs train``) for the same number of env steps on
each seed, in each scenario (``SCENARIOS``; episodes shortened to ``--episode-slots`` for speed):

* ``default``: VGG16, M = 6 blocks, N = 4 edge servers, 60 tasks/s, queues, background load,
  mobility, fading and the energy budget (the main job's scenario);
* ``unseen``: ResNet32, M = 9, N = 7, 110 tasks/s: a larger model, more servers, heavier load, on
  which no option was tuned;
* ``bursty``: the default with Poisson tasks at 110 per second: queues build up, so what a slot
  leaves for the next ones matters, and ``exact-slot`` (myopic) falls short of the bound.

mtl-a3c uses ``MTL_OPTIONS`` (chained branches, warm-started by imitation of ``exact-slot`` on
``--imitation-steps`` labelled slots, not counted in the env steps). PPO and A2C step ``--sb3-envs``
env copies in lockstep (DQN one). The single-head A3C and DQN choose among the (N+1)^M joint
placements and refuse spaces too large (``agents.spaces.JointActionCodec``): "n/a (joint space too large)".

After training, each agent plays ``--eval-episodes`` held-out episodes (seeds 10000, 10001, ...;
argmax actions; the main job's episodes), and every baseline (``benchmarks.edge_partition_eval``)
and the bound on any policy's return play the same ones. The table gives the mean return (± std
over seeds for agents, over episodes for baselines), the gap to the bound and to exact-slot, and
the decision time per slot.

Episodes to converge: per seed, the training returns are smoothed by a moving average over
``SMOOTH`` episodes; the final level is the mean return of the last 10% of the episodes; the run
has converged at the first episode where the smoothed return has covered 95% of the way from its
first value to the final level. Reported as the mean over seeds.

A throughput measure (``--throughput-steps`` > 0) trains the multi-task A3C (``--workers`` worker
processes, no warm start) and SB3 PPO (``--sb3-envs`` env copies) on the default scenario for that
many steps each, alternately, ``--throughput-repeats`` times, and reports env steps/s and their ratio.

Writes (atomically) into ``--out`` (default benchmarks/results/): ``train_edge_partition.md``,
``train_edge_partition_{scenario}.png`` (training return vs env steps, mean over seeds, bound and
baselines as horizontal lines) and ``train_edge_partition.json`` (the raw numbers).

    python -m benchmarks.train_edge_partition                           # the full configuration
    python -m benchmarks.train_edge_partition --seeds 1 --steps 256 --episode-slots 16 --imitation-steps 64 \\
        --eval-episodes 1 --throughput-steps 0 --scenarios default --out /tmp/smoke          # smoke
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from agents.evaluate import EVAL_SEED, display_name
from agents.train import ALGOS
from benchmarks.edge_partition_eval import BOUND, MTL_OPTIONS, baseline_rows, table, timed_episodes
from benchmarks.files import RESULTS_DIR

ENV_ID = "EdgePartition-v0"
SCENARIOS = {
    "default": {},
    "unseen": {"model": "resnet32", "num_blocks": 9, "num_servers": 7, "task_rate": 110.0},
    "bursty": {"task_rate": 110.0, "poisson_tasks": True},
}
"""Scenario name -> EdgePartitionConfig overrides (the episode length is added from --episode-slots)."""
RESULTS = RESULTS_DIR
SMOOTH = 10
NOT_ENUMERABLE = "n/a (joint space too large)"


def env_kwargs(scenario: str, episode_slots: int) -> dict:
    return {**SCENARIOS[scenario], "episode_slots": int(episode_slots)}


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


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


def train_options(algo: str, args, warm: bool = True) -> dict:
    """The options ``train`` gets: A3C worker processes (mtl-a3c: MTL_OPTIONS and the warm start), or SB3 env copies."""
    if algo == "mtl-a3c":
        options = {"workers": args.workers}
        if warm and args.imitation_steps > 0:
            options.update(MTL_OPTIONS, imitation_steps=args.imitation_steps)
        return options
    if algo == "a3c":
        return {"workers": args.workers}
    return {"envs": args.sb3_envs} if algo in ("ppo", "a2c") else {}


def run_algo(algo: str, kwargs: dict, args, seed: int, logdir: str) -> dict:
    """Train one (algo, scenario, seed) and evaluate it; {"error": message} when the agent refuses the env."""
    from agents.envs import make_env
    from agents.train import make_options, train

    try:
        result = train(
            ENV_ID,
            algo,
            args.steps,
            seed=seed,
            logdir=logdir,
            env_kwargs=kwargs,
            options=make_options(algo, ENV_ID, train_options(algo, args)),
            progress=False,
        )
    except ValueError as error:
        if "joint action space" in str(error):
            return {"error": NOT_ENUMERABLE, "message": str(error)}
        raise
    evaluation = timed_episodes(result.policy, make_env(ENV_ID, kwargs), args.eval_episodes, EVAL_SEED)
    returns = [episode.episode_return for _, episode in result.episodes]
    return {
        "steps": result.steps,
        "wall_s": result.wall_s,
        "eval": evaluation,
        "episodes": len(returns),
        "converge_episodes": episodes_to_converge(returns),
        "curve": binned_curve(result.episodes, args.steps, args.bins).tolist(),
    }


def measure_throughput(args, logdir: str) -> dict:
    """mtl-a3c (``--workers`` processes) and SB3 PPO, alternately, on the default scenario: env steps/s and ratio."""
    from agents.train import make_options, train

    kwargs = env_kwargs("default", args.episode_slots)
    runs = {"mtl-a3c": [], "ppo": []}
    for repeat in range(args.throughput_repeats):
        for algo in runs:
            result = train(
                ENV_ID,
                algo,
                args.throughput_steps,
                seed=repeat,
                logdir=logdir,
                env_kwargs=kwargs,
                options=make_options(algo, ENV_ID, train_options(algo, args, warm=False)),
                progress=False,
            )
            runs[algo].append(result.steps / result.wall_s)
    a3c, ppo = float(np.median(runs["mtl-a3c"])), float(np.median(runs["ppo"]))
    return {
        "env_kwargs": kwargs,
        "steps": args.throughput_steps,
        "workers": args.workers,
        "sb3_envs": args.sb3_envs,
        "sps": runs,
        "median_sps": {"mtl-a3c": a3c, "ppo": ppo},
        "ratio": a3c / ppo,
    }


def agent_row(runs: list) -> dict:
    """The runs of one algorithm as a table row: every evaluation episode, the per-seed means, decision time."""
    return {
        "returns": [r for run in runs for r in run["eval"]["returns"]],
        "per_run": [float(np.mean(run["eval"]["returns"])) for run in runs],
        "decision_s": float(np.mean([run["eval"]["decision_s"] for run in runs])),
    }


def _mean_std(values, spec: str = ".0f") -> str:
    values = [v for v in values if v == v]
    if not values:
        return "-"
    return f"{np.mean(values):{spec}} ± {np.std(values, ddof=1):.2g}" if len(values) > 1 else f"{values[0]:{spec}}"


def tables(results: dict, args) -> list[str]:
    lines = []
    for scenario, block in results["scenarios"].items():
        rows = dict(block["baselines"])
        extra = {"header": ["seeds", "train s / run", "train steps/s", "episodes to converge"]}
        refused = []
        for algo, runs in block["algos"].items():
            if runs and "error" in runs[0]:
                refused.append(f"{algo}: {runs[0]['error']}")
                continue
            rows[algo] = agent_row(runs)
            extra[algo] = [
                str(len(runs)),
                _mean_std([r["wall_s"] for r in runs]),
                _mean_std([r["steps"] / r["wall_s"] for r in runs]),
                _mean_std([r["converge_episodes"] for r in runs]),
            ]
        lines += [f"## {scenario} ({ENV_ID} {json.dumps(block['env_kwargs'])})", "", *table(rows, extra), ""]
        lines += [f"Refused: {'; '.join(refused)}.", ""] if refused else []
    t = results.get("throughput")
    if t:
        lines += [
            f"## Throughput ({ENV_ID} {json.dumps(t['env_kwargs'])}, {t['steps']} training steps per run, runs "
            f"alternated {len(t['sps']['ppo'])} times in one process)",
            "",
            "| agent | env steps/s (median) | runs |",
            "| --- | ---: | --- |",
            f"| mtl-a3c, {t['workers']} worker processes | {t['median_sps']['mtl-a3c']:.0f} | "
            f"{', '.join(f'{v:.0f}' for v in t['sps']['mtl-a3c'])} |",
            f"| SB3 PPO (one process, {t['sb3_envs']} env copies) | {t['median_sps']['ppo']:.0f} | "
            f"{', '.join(f'{v:.0f}' for v in t['sps']['ppo'])} |",
            "",
            f"Ratio mtl-a3c / PPO: **{t['ratio']:.2f}x** (training wall time includes the A3C workers' start-up).",
            "",
        ]
    return lines


def plot(block: dict, scenario: str, config: dict, path: Path) -> None:
    """Learning curves of one scenario as episode cost (minus the return): a log axis where the costs span
    more than 20x, else a linear one; the legend beside the axes, off the curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogFormatterSciNotation

    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    x = (np.arange(config["bins"]) + 0.5) * config["steps"] / config["bins"]
    costs = []
    for algo, runs in block["algos"].items():
        if not runs or "error" in runs[0]:
            continue
        curves = np.array([r["curve"] for r in runs], dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves, axis=0)
        ok = ~np.isnan(mean)
        ax.plot(x[ok], -mean[ok], marker=".", label=f"{algo} (training, mean of {len(runs)} seeds)")
        costs.extend(-mean[ok])
    for i, (name, row) in enumerate(block["baselines"].items()):
        if name in (BOUND, "exact-slot", "ga", "greedy"):
            cost = -float(np.mean(row["returns"]))
            ax.axhline(cost, ls="--", lw=1, color=f"C{5 + i % 5}", label=f"{display_name(name)} (eval)")
            costs.append(cost)
    positive = [c for c in costs if c > 0]
    log_axis = len(positive) == len(costs) and max(costs) > 20 * min(costs)
    ax.set_yscale("log" if log_axis else "linear")
    if log_axis:  # label some minor ticks too, so a span of one or two decades has more than one number
        ax.yaxis.set_minor_formatter(LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.set_xlabel("env steps")
    ax.set_ylabel("episode cost = -return" + (" (log)" if log_axis else ""))
    ax.set_title(f"EdgePartition-v0, {scenario}, {config['episode_slots']}-slot episodes (lower is better)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomically(path, buffer.getvalue())


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train agents on EdgePartition-v0 scenarios beside every baseline and the bound."
    )
    parser.add_argument(
        "--algos",
        default="mtl-a3c,ppo",
        help=f"comma-separated algorithms among {','.join(ALGOS)} (default mtl-a3c,ppo)",
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated scenarios among {','.join(SCENARIOS)}"
    )
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per (algo, scenario) (default 2)")
    parser.add_argument("--steps", type=int, default=150_000, help="env steps per training run (default 150000)")
    parser.add_argument(
        "--imitation-steps",
        type=int,
        default=32_000,
        help="exact-slot-labelled slots warm-starting mtl-a3c (default 32000; 0: none)",
    )
    parser.add_argument(
        "--episode-slots", type=int, default=200, help="slots per episode (default 200; the env's default is 600)"
    )
    parser.add_argument("--eval-episodes", type=int, default=5, help="held-out evaluation episodes (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="A3C worker processes (default 2)")
    parser.add_argument("--sb3-envs", type=int, default=8, help="env copies PPO and A2C step in lockstep (default 8)")
    parser.add_argument("--bins", type=int, default=30, help="env-step bins of the learning curves (default 30)")
    parser.add_argument("--throughput-steps", type=int, default=0, help="steps per throughput run (default 0: skip)")
    parser.add_argument(
        "--throughput-repeats", type=int, default=2, help="alternated throughput runs per agent (default 2)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder of the result files (default benchmarks/results)"
    )
    parser.add_argument(
        "--replot",
        action="store_true",
        help="only redraw the learning curves from OUT/train_edge_partition.json (no training)",
    )
    args = parser.parse_args(argv)
    args.algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = sorted(set(args.algos) - set(ALGOS))
    if unknown:
        parser.error(f"unknown algorithms {unknown}; choose from {list(ALGOS)}")
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {list(SCENARIOS)}")
    for name in ("seeds", "steps", "eval_episodes", "workers", "bins", "throughput_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from agents.envs import make_env

    torch.set_num_threads(1)
    args = parse_args(argv)
    if args.replot:
        results = json.loads((args.out / "train_edge_partition.json").read_text())
        for scenario, block in results["scenarios"].items():
            plot(block, scenario, results["config"], args.out / f"train_edge_partition_{scenario}.png")
        return 0
    started = time.perf_counter()

    def log(text):
        print(f"[{time.perf_counter() - started:5.0f} s] {text}", file=sys.stderr, flush=True)

    results = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "scenarios": {}}
    with tempfile.TemporaryDirectory() as logdir:
        for scenario in args.scenarios:
            kwargs = env_kwargs(scenario, args.episode_slots)
            log(f"{scenario}: baselines and the bound")
            baselines = baseline_rows(
                lambda kwargs=kwargs: make_env(ENV_ID, kwargs), args.eval_episodes, EVAL_SEED, log=log
            )
            block = {"env_kwargs": kwargs, "algos": {}, "baselines": baselines}
            results["scenarios"][scenario] = block
            for algo in args.algos:
                block["algos"][algo] = []
                for seed in range(args.seeds):
                    run = run_algo(algo, kwargs, args, seed, logdir)
                    block["algos"][algo].append(run)
                    log(
                        f"{scenario} {algo} seed {seed}: "
                        + (
                            run["error"]
                            if "error" in run
                            else f"eval return {np.mean(run['eval']['returns']):.4g}, {run['wall_s']:.0f} s"
                        )
                    )
                    if "error" in run:
                        break  # the refusal does not depend on the seed
        if args.throughput_steps > 0:
            results["throughput"] = measure_throughput(args, logdir)
    results["wall_s"] = time.perf_counter() - started
    from benchmarks.files import write_atomically

    for scenario, block in results["scenarios"].items():
        plot(block, scenario, results["config"], args.out / f"train_edge_partition_{scenario}.png")
    command = "python -m benchmarks.train_edge_partition " + " ".join(sys.argv[1:] if argv is None else argv)
    warm = (
        (
            f"mtl-a3c: {MTL_OPTIONS} over the EdgePartition-v0 preset, warm-started on {args.imitation_steps} "
            "exact-slot-labelled slots (not counted in the env steps)"
        )
        if args.imitation_steps
        else "mtl-a3c: the preset"
    )
    header = [
        "# EdgePartition-v0: agents over several seeds beside every baseline and the bound",
        "",
        f"{args.seeds} seeds x {args.steps} env steps per (algorithm, scenario), {args.episode_slots}-slot episodes, "
        f"A3C agents with {args.workers} worker processes, PPO and A2C on {args.sb3_envs} env copies; {warm}. "
        f"Evaluation: {args.eval_episodes} held-out episodes (seeds {EVAL_SEED}..; argmax actions) for every agent, "
        "baseline and the bound. Return: mean over all evaluation episodes (± std over seeds for agents, over "
        "episodes for baselines). bound: an upper bound on any policy's return in each episode "
        "(baselines.edge_partition.references); gap to bound / vs exact-slot: the extra cost in percent of theirs. "
        "ms / decision: wall time of one act() per slot.",
        "",
        f"Episodes to converge: per seed, the first training episode at which the {SMOOTH}-episode moving average "
        "of the training return has covered 95% of the way from its first value to the final level (the mean "
        "return of the last 10% of the episodes); mean over seeds. Learning curves: "
        + ", ".join(f"train_edge_partition_{s}.png" for s in results["scenarios"])
        + ".",
        "",
    ]
    text = "\n".join([*header, *tables(results, args), f"Command: `{command.strip()}`; {results['wall_s']:.0f} s.", ""])
    write_atomically(args.out / "train_edge_partition.md", text)
    write_atomically(args.out / "train_edge_partition.json", json.dumps(results, indent=1, default=float) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
