"""Evaluation shared by the EdgePartition benchmarks: timed episodes, the bound, and one comparison table.

Every policy (trained agent or baseline) plays the same held-out episodes (the env reset with seeds
``seed, seed + 1, ...``) in a single env; its decision time is the wall time of its ``act`` calls
per slot. The bound (``baselines.edge_partition.REFERENCES["return-bound"]``) is an upper bound on
any policy's return in each of those episodes; a policy's gap to it is ``(cost - bound cost) / bound
cost`` on mean costs (cost = minus the return), so it is >= 0 for every policy.
"""

from __future__ import annotations

import time

import numpy as np

from agents.envs import EpisodeTally
from agents.evaluate import display_name, gap_percent
from agents.presets import preset

BOUND = "bound"
STRONG_BASELINES = ("exact-slot", "ga", "pso", "greedy", "lpt", "apdi", "chain-dp", "random")
"""The baselines every EdgePartition comparison table holds (the strongest first)."""
MTL_OPTIONS = {
    name: value
    for name, value in preset("EdgePartition-v0", "mtl-a3c", "warm-start").options.items()
    if name != "imitation_steps"
}
"""mtl-a3c's options in the EdgePartition benchmarks (plus ``imitation_steps``): the preset
``EdgePartition-v0/mtl-a3c/warm-start`` (agents.presets; exact-slot warm start, branch context)."""


def timed_episodes(policy, env, episodes: int, seed: int) -> dict:
    """Play ``episodes`` episodes; {"returns", "lengths", metric sums per episode, "decision_s": mean s per act,
    "on_device": the share of blocks the policy ran on the IoT device}."""
    returns, lengths, metrics, thinking, decisions, local = [], [], [], 0.0, 0, 0.0
    for index in range(episodes):
        if hasattr(policy, "reset"):
            policy.reset(seed=seed + index)
        obs, info = env.reset(seed=seed + index)
        tally, done = EpisodeTally(1), False
        while not done:
            start = time.perf_counter()
            action = policy.act(obs, info)
            thinking += time.perf_counter() - start
            decisions += 1
            local += float(np.mean(np.asarray(action) == 0))  # location 0: the device
            obs, reward, terminated, truncated, info = env.step(action)
            tally.add(0, float(reward), info)
            done = terminated or truncated
        episode = tally.close(0)
        returns.append(episode.episode_return)
        lengths.append(episode.length)
        metrics.append(episode.metrics)
    out = {"returns": returns, "lengths": lengths, "decision_s": thinking / max(decisions, 1)}
    out["on_device"] = local / max(decisions, 1)
    if hasattr(policy, "proved_share"):  # exact-slot: the share of its decisions proved optimal
        out["proved_share"] = policy.proved_share
    for key in sorted({k for m in metrics for k in m}):
        out[key] = [m.get(key, np.nan) for m in metrics]
    return out


def bound_row(env, episodes: int, seed: int) -> dict:
    """The bound on each episode's return, as a row of the table."""
    from baselines.edge_partition import REFERENCES

    return {"returns": [REFERENCES["return-bound"](env, seed + i) for i in range(episodes)], "decision_s": np.nan}


def baseline_rows(make_env, episodes: int, seed: int, names=STRONG_BASELINES, log=print) -> dict:
    """{name: timed_episodes} for each baseline (seeded with ``seed``), and the bound, on fresh envs."""
    import baselines

    rows = {}
    started = time.perf_counter()
    rows[BOUND] = bound_row(make_env(), episodes, seed)
    log(f"    bound: {np.mean(rows[BOUND]['returns']):.4g} ({time.perf_counter() - started:.0f} s)")
    for name in names:
        started = time.perf_counter()
        env = make_env()
        rows[name] = timed_episodes(baselines.make_policy(name, env, seed=seed), env, episodes, seed)
        log(f"    {name}: {np.mean(rows[name]['returns']):.4g} ({time.perf_counter() - started:.0f} s)")
    return rows


def table(rows: dict, extra: dict | None = None) -> list[str]:
    """Markdown lines: the bound on a line of its own (a reference, not a policy), then one row per policy,
    best first: mean return ± std over the rows' runs or episodes, gap to the bound and to exact-slot,
    ms per decision, the share of decisions proved optimal (exact-slot under its node limit; "-" for the
    others), then ``extra[name]`` cells (their header in ``extra["header"]``). Returns, costs and gaps
    have two decimals, decision times three significant digits."""
    extra = extra or {}
    bound = float(np.mean(rows[BOUND]["returns"]))
    exact = float(np.mean(rows["exact-slot"]["returns"])) if "exact-slot" in rows else np.nan
    header = ["policy", "return (mean ± std)", "gap to bound", "vs exact-slot", "ms / decision", "proved optimal"]
    header += extra.get("header", [])
    lines = [
        f"Reference: bound {_mean_std(rows[BOUND]['returns'])} (an upper bound on any policy's return).",
        "",
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * (len(header) - 1),
    ]
    policies = {name: row for name, row in rows.items() if name != BOUND}
    for name, row in sorted(policies.items(), key=lambda item: -np.mean(item[1]["returns"])):
        mean = float(np.mean(row["returns"]))
        cells = [
            display_name(name),
            _mean_std(row["returns"], row.get("per_run")),
            f"{gap_percent(mean, bound):+.2f}%",
            f"{gap_percent(mean, exact):+.2f}%" if exact == exact else "-",
            "-" if np.isnan(row["decision_s"]) else f"{1e3 * row['decision_s']:.3g}",
            f"{100.0 * row['proved_share']:.1f}%" if "proved_share" in row else "-",
            *extra.get(name, ["-"] * len(extra.get("header", []))),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _mean_std(returns, per_run=None) -> str:
    """``mean ± std`` with two decimals: the std over ``per_run`` (an agent's seeds) when given, else over
    the episodes."""
    values = np.asarray(per_run if per_run is not None else returns, dtype=float)
    spread = f" ± {values.std(ddof=1):.2f}" if len(values) > 1 else ""
    return f"{float(np.mean(returns)):.2f}{spread}"
