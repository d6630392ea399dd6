"""Statistics of the leaderboard, as rliable (Agarwal et al., NeurIPS 2021) recommends.

Returns of different scenarios live on different scales, so each episode's return R is first
expressed relative to its scenario's anchor A: ``score = (R - A) / |A|`` (0 = the anchor, -0.5 = half
as much cost again, higher is better). The anchor is the scenario's reference (the tightest, i.e.
lowest, mean over its episodes of the env's REFERENCES: upper bounds or exact optima) where the
set has one, else the mean return of the best baseline on that scenario.

* IQM: the interquartile mean of the scores over every episode of every scenario, with a 95%
  stratified bootstrap confidence interval (the episodes of each scenario resampled on their own);
  the mean and its 95% interval beside it.
* Probability of improvement over the best baseline (the baseline of highest IQM):
  P(X > Y) = P(R_x > R_y) + P(R_x = R_y) / 2 per scenario over every pair of episodes, averaged
  over scenarios (rliable's definition, on raw returns), with its stratified bootstrap interval.

The resampling is ``scipy.stats.bootstrap`` (percentile intervals, seeded so a render is
reproducible): rliable's own bootstrap module fails to import with the current ``arch`` and pandas 3.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0


def iqm(*samples, axis=-1):
    """Interquartile (25% trimmed) mean of all samples together."""
    return stats.trim_mean(np.concatenate(samples, axis=axis), 0.25, axis=axis)


def mean(*samples, axis=-1):
    return np.mean(np.concatenate(samples, axis=axis), axis=axis)


def improvement(*samples, axis=-1):
    """P(X > Y) averaged over scenarios; ``samples`` are X's scenarios then Y's, in the same order."""
    half = len(samples) // 2
    per_scenario = []
    for x, y in zip(samples[:half], samples[half:]):
        x, y = np.moveaxis(x, axis, -1)[..., :, None], np.moveaxis(y, axis, -1)[..., None, :]
        per_scenario.append(np.mean((x > y) + 0.5 * (x == y), axis=(-2, -1)))
    return np.mean(per_scenario, axis=0)


def interval(samples: list[np.ndarray], statistic) -> tuple[float, float, float]:
    """(point estimate, low, high) of ``statistic`` with a stratified bootstrap interval (NaN bounds if a
    stratum has fewer than two episodes)."""
    point = float(statistic(*samples))
    if min(len(sample) for sample in samples) < 2:
        return point, float("nan"), float("nan")
    if all(np.all(sample == samples[0].flat[0]) for sample in samples):
        return point, point, point
    result = stats.bootstrap(
        tuple(samples),
        statistic,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        paired=False,
        vectorized=True,
        method="percentile",
        random_state=np.random.default_rng(SEED),
    )
    return point, float(result.confidence_interval.low), float(result.confidence_interval.high)


def _returns(result: dict, scenarios) -> list[np.ndarray]:
    by_name = {instance.name: [] for instance in scenarios.instances}
    for episode in result["episodes"]:
        by_name[episode["instance"]].append(episode["return"])
    return [np.array(by_name[instance.name], dtype=float) for instance in scenarios.instances]


def _relative(values: list[np.ndarray], anchors: np.ndarray) -> list[np.ndarray]:
    return [(v - a) / (abs(a) if a != 0 else 1.0) for v, a in zip(values, anchors)]


def summarize(scenarios, results: list[dict]) -> dict:
    """Everything the tables and plots of one env show, from its result files (played and references)."""
    played = [r for r in results if r["kind"] != "reference"]
    references = [r for r in results if r["kind"] == "reference"]
    returns = {r["name"]: _returns(r, scenarios) for r in played}
    names = [instance.name for instance in scenarios.instances]
    reference = None
    if references:
        means = np.array([[v.mean() for v in _returns(r, scenarios)] for r in references])  # (references, scenarios)
        tightest = means.argmin(axis=0)
        reference = {"names": [references[i]["name"] for i in tightest], "means": means.min(axis=0)}
    baseline_names = [r["name"] for r in played if r["kind"] == "baseline"]
    pool = baseline_names or list(returns)
    if reference is not None:
        anchors, anchor_label = reference["means"], "reference"
    elif pool:
        anchors = np.array([max(returns[name][s].mean() for name in pool) for s in range(len(names))])
        anchor_label = "best baseline" if baseline_names else "best entry"
    else:
        return {"scenarios": names, "rows": [], "reference": None, "anchor": None, "best_baseline": None}
    rows = []
    for r in played:
        values = returns[r["name"]]
        score = _relative(values, anchors)
        length = sum(e["length"] for e in r["episodes"])
        metrics = sorted({key for e in r["episodes"] for key in e["metrics"]})
        rows.append(
            {
                "name": r["name"],
                "kind": r["kind"],
                "policy": r["policy"],
                "description": r.get("description", ""),
                "project_version": r["project_version"],
                "created": r["created"],
                "iqm": interval(score, iqm),
                "mean": interval(score, mean),
                "scenario_means": [float(v.mean()) for v in values],
                "gap": None
                if reference is None
                else float(-np.mean([s.mean() for s in _relative(values, reference["means"])])),
                "decision_ms": 1000.0 * sum(e["decision_s"] for e in r["episodes"]) / max(length, 1),
                "metrics": {
                    key: float(np.mean([e["metrics"][key] for e in r["episodes"] if key in e["metrics"]]))
                    for key in metrics
                },
            }
        )
    rows.sort(key=lambda row: (-row["iqm"][0], row["name"]))
    best = next((row["name"] for row in rows if row["kind"] == "baseline"), None)
    for row in rows:
        row["improvement"] = None if best is None else interval([*returns[row["name"]], *returns[best]], improvement)
    return {
        "scenarios": names,
        "rows": rows,
        "reference": reference,
        "anchor": anchor_label,
        "anchors": anchors.tolist(),
        "best_baseline": best,
    }
