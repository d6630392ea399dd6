"""EdgeUpload-v0 baselines on AlexNet and VGG16 (224x224): latency area, first fast query, gap to the exact order.

For each model, in IONN's single-user setting (the env's defaults: one client, one edge server,
10 MB/s, 5% transfer loss), in the paper's multi-user edge-cloud setting (``edge_cloud()``) and, for AlexNet,
the single-user setting over a 20 MB/s link (``single-user-fast-link``: at 10 MB/s IONN's plan for AlexNet is
direct uploading's on most instances, so the paper's Fig. 5 order shows only on the faster link), every
baseline runs episodes on seeds ``seed .. seed + episodes - 1`` (policies seeded once with ``seed``).
Per episode:

- area: the total query latency until the upload ends, as the area under the latency curve
  (minus the episode's return), s * s; mean latency = area / upload time;
- first fast query: the time the first query faster than local-only execution starts (s; nan when
  some episode had none, e.g. a random upload to cloud servers that never beats the client);
- near-final: the time the latency first comes within 1% of its final (fully uploaded) value (s);
- Fig. 5 order: the episodes where recursive-efficiency < ionn < direct holds strictly (``fig5_order``);
- gap: (expected area - reference area) / reference area, the reference being the exact order's
  expected area on the same instance (``baselines.edge_upload.REFERENCES["exact-order"]``; single
  user only: the multi-user setting has no exact reference). A policy's expected area is that of the
  partitions it chose, each priced at its expected upload time (resends included): for one client the
  latency curve depends on the order only, so this compares the orders without the luck of the
  transfer failures (the realised area can fall below the expected optimum when fewer transfers
  failed than expected). Averages are over episodes, with Student-t 95% half-widths for the area.

It also plots each model's latency over time for seed ``seed`` (the paper's Fig. 5) as PNG files.

    python -m benchmarks.baselines_edge_upload --episodes 8
    python -m benchmarks.baselines_edge_upload --episodes 2 --models alexnet_224   # seconds
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import baselines
import edge_envs  # noqa: F401  (registers EdgeUpload-v0)
from baselines.edge_upload import REFERENCES
from benchmarks.baselines_edge_partition import mean_ci95
from benchmarks.files import RESULTS_DIR, publish
from edge_envs.edge_upload import core, edge_cloud

RESULTS = RESULTS_DIR
DEFAULT_OUT = RESULTS / "baselines_edge_upload.md"
FAST_LINK_MBPS = 20.0
"""The fast-link setting's local-edge bandwidth (the paper's is 10 MB/s): the least of 5, 10, 20, 50 MB/s at which
recursive-efficiency < ionn < direct holds strictly on AlexNet for one client (``fig5_order``)."""
SETTINGS = {
    "single-user": lambda model: {"model": model},
    "edge-cloud": lambda model: {"config": edge_cloud(model=model)},
    "single-user-fast-link": lambda model: {"model": model, "local_edge_mbps": FAST_LINK_MBPS},
}
SETTING_MODELS = {"single-user-fast-link": ("alexnet_224",)}
"""Settings run on some models only (the fast link is there for AlexNet's Fig. 5 order)."""
FIG5 = ("recursive-efficiency", "ionn", "direct")
"""The paper's Fig. 5 order, fastest first."""


def fig5_order(runs: dict, single: bool) -> tuple[int, int]:
    """(episodes where recursive-efficiency < ionn < direct strictly, episodes): by expected area for one client
    (the order's effect without the transfer failures' luck), by realised area otherwise."""
    key = "expected_area" if single else "area"
    areas = np.array([[r[key] for r in runs[name]] for name in FIG5])  # (3, episodes)
    strict = (areas[0] < areas[1] * (1 - 1e-9)) & (areas[1] < areas[2] * (1 - 1e-9))
    return int(strict.sum()), areas.shape[1]


ORDER = ("exact-order", "recursive-efficiency", "efficiency", "pso", "ionn", "direct", "random")


def run_episode(env, policy, seed: int) -> dict:
    """One episode of ``policy`` (the act/reset protocol) on ``env.reset(seed=seed)``: its latency curve
    (per client: times and the latency in force from each time on) and summary figures."""
    obs, info = env.reset(seed=seed)
    local = info["local_latency"]
    times, latencies = [0.0], [info["latency"].copy()]
    cfg, inst = env.unwrapped.cfg, env.unwrapped.instance
    total, expected, done, decide = 0.0, 0.0, False, 0.0
    while not done:
        began = time.perf_counter()
        action = policy.act(obs, info)
        decide += time.perf_counter() - began
        before = info["latency"][info["deciding"]]
        obs, reward, done, _, info = env.step(action)
        total += reward
        expected += before * core.expected_upload_seconds(cfg, inst, *info["partition"], info["server"])
        times.append(info["time"])
        latencies.append(info["latency"].copy())
    times, latencies = np.array(times), np.array(latencies)  # (T,), (T, C)
    final = latencies[-1]
    faster = np.flatnonzero((latencies < local * (1 - 1e-9)).any(axis=1))
    near = np.flatnonzero((latencies <= final * 1.01).all(axis=1))
    return {
        "return": total,
        "area": -total,
        "expected_area": expected if len(local) == 1 else np.nan,
        "end": times[-1],
        "first_fast": times[faster[0]] if faster.size else np.nan,
        "near_final": times[near[0]],
        "mean_latency": -total / times[-1] / len(local),
        "resends": int(info["resends"].sum()),
        "decisions": len(times) - 1,
        "decide_s": decide,
        "times": times,
        "latencies": latencies,
    }


def evaluate(env, policies: dict, seeds: list[int], policy_seed: int, reference: bool):
    """Every policy on every seed (seeds outer, so the exact order's table is built once per instance):
    ({seed: exact-order expected area} or {}, {name: [run_episode results]})."""
    for policy in policies.values():
        if hasattr(policy, "reset"):
            policy.reset(seed=policy_seed)
    refs, runs = {}, {name: [] for name in policies}
    for seed in seeds:
        if reference:
            refs[seed] = -REFERENCES["exact-order"](env, seed)
        for name, policy in policies.items():
            runs[name].append(run_episode(env, policy, seed))
    return refs, runs


def table_row(name: str, runs: list[dict], refs: dict, seeds: list[int]) -> tuple[float, str]:
    """(mean area, Markdown row) of one policy's episodes."""
    area, half = mean_ci95([r["area"] for r in runs])
    gap = np.mean([(r["expected_area"] - refs[s]) / refs[s] for r, s in zip(runs, seeds)]) if refs else None
    mean = lambda key: float(np.mean([r[key] for r in runs]))  # noqa: E731
    decide_ms = sum(r["decide_s"] for r in runs) / sum(r["decisions"] for r in runs) * 1e3
    return area, (
        f"| {name} | {area:.4g} | {half:.2g} | {mean('mean_latency') * 1e3:.1f} | {mean('first_fast'):.2f} | "
        f"{mean('near_final'):.1f} | {mean('end'):.1f} | {mean('resends'):.2f} | "
        f"{'n/a' if gap is None else f'{gap:+.2%}'} | {decide_ms:.3g} |"
    )


TABLE_HEAD = [
    "| policy | area (s*s) | 95% CI ± | mean latency (ms) | first fast (s) | near-final (s) | "
    "upload end (s) | resends | gap to exact | ms / decision |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
]


def plot_curves(curves: dict, title: str, path: Path) -> None:
    """Latency over time for each policy (client 0), one step curve each, like the paper's Fig. 5."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4))
    styles = ("-", "--", "-.", ":")
    for i, (name, (times, latencies)) in enumerate(curves.items()):  # wide to thin, so equal curves stay visible
        ax.step(
            times,
            latencies[:, 0] * 1e3,
            where="post",
            label=name,
            linestyle=styles[i % 4],
            linewidth=3.5 - 2.5 * i / max(len(curves) - 1, 1),
        )
    ax.set_xlabel("time since the upload started (s)")
    ax.set_ylabel("query latency (ms)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)  # off the curves
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=["alexnet_224", "vgg16_224"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    seeds = list(range(args.seed, args.seed + args.episodes))
    lines = [
        f"# EdgeUpload-v0 baselines: latency area until the upload ends ({args.episodes} episodes, seeds "
        f"{seeds[0]}..{seeds[-1]})",
        "",
        "Area = total query latency until the upload ends, as the area under the latency curve (s * s; minus the "
        "return), summed over clients. Mean latency = area / upload time per client. First fast = when the first "
        "query faster than local-only starts; near-final = when the latency first comes within 1% of its final "
        "value (s, means over episodes). Gap = (expected area of the policy's partitions - exact-order expected "
        "area) / exact-order expected area, mean of per-episode gaps (single user only; see the module docstring). "
        "Time = the policy's wall time per decision.",
        "",
    ]
    for setting in args.settings:
        for model in [m for m in args.models if m in SETTING_MODELS.get(setting, args.models)]:
            env = gym.make("EdgeUpload-v0", **SETTINGS[setting](model))
            single = setting.startswith("single-user")
            names = [n for n in ORDER if n in baselines.available("EdgeUpload-v0") and (single or n != "exact-order")]
            policies = {name: baselines.make_policy(name, env) for name in names}
            refs, runs = evaluate(env, policies, seeds, args.seed, reference=single)
            rows, curves = [], {}
            for name in names:
                rows.append(table_row(name, runs[name], refs, seeds))
                curves[name] = (runs[name][0]["times"], runs[name][0]["latencies"])
            lines += [f"## {model}, {setting}", ""]
            if refs:
                lines += [
                    f"Exact-order expected area (the reference): {np.mean(list(refs.values())):.4g} s * s (mean over "
                    "the episodes' instances).",
                    "",
                ]
            lines += TABLE_HEAD + [row for _, row in sorted(rows)] + [""]
            if all(name in runs for name in FIG5):
                strict, total = fig5_order(runs, single)
                order = "recursive-efficiency < ionn < direct, strictly"
                lines += [f"Fig. 5 order ({order}): {strict}/{total} episodes.", ""]
            if single:
                suffix = "" if setting == "single-user" else f"_{FAST_LINK_MBPS:g}MBps"
                png = args.out.parent / f"edge_upload_latency_{model}{suffix}.png"
                link = f"{env.unwrapped.cfg.local_edge_mbps:g} MB/s"
                title = f"EdgeUpload-v0, {model}: one client, one edge server, {link} (seed {args.seed})"
                plot_curves(curves, title, png)
                lines += [f"Latency over time (seed {args.seed}): `{png.name}`.", ""]
    publish(args.out, lines, "benchmarks.baselines_edge_upload", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
