"""Statistics of the leaderboard, as rliable (Agarwal et al., NeurIPS 2021) recommends.

Returns of different scenarios live on different scales, so each episode's return R is normalised
per scenario between a floor F and a top T: ``score = 100 (R - F) / (T - F)`` (0 = the floor,
100 = the top, higher is better).

* Floor: the mean return of the project's ``random`` baseline on the scenario; for an env without
  one, the lowest mean of the project's baselines.
* Top: the scenario's reference (the tightest, i.e. lowest, mean over its episodes of the env's
  REFERENCES: upper bounds or exact optima) where it is tight, i.e. the best project entry's mean
  lies within ``TIGHT`` of it (relative, either side); else the best mean of the project's entries (baselines
  and agents, not submissions: a submission does not move the scale, it can score over 100).

* IQM: the interquartile mean of the scores over every episode of every scenario, with a 95%
  stratified bootstrap confidence interval (the episodes of each scenario resampled on their own);
  the mean and its 95% interval beside it; the mean score and the rank on each scenario.
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
FLOOR = "random"  # the baseline whose mean return scores 0
TIGHT = 0.05  # a reference is the top where the best project entry's mean lies within 5% of it
PROJECT_KINDS = ("baseline", "agent")  # the entries that set the scale


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


def _scale(scenarios, means: dict[str, np.ndarray], kinds: dict[str, str], reference) -> dict:
    """Per scenario, the floor and top of the scores and what each is (``means``: entry -> mean per scenario)."""
    project = [name for name in means if kinds[name] in PROJECT_KINDS] or list(means)
    baselines = [name for name in project if kinds[name] == "baseline"] or project
    floor, floor_labels, top, top_labels = [], [], [], []
    for s in range(len(scenarios.instances)):
        if FLOOR in baselines:
            floor.append(float(means[FLOOR][s]))
            floor_labels.append(FLOOR)
        else:
            lowest = min(baselines, key=lambda name: (means[name][s], name))
            floor.append(float(means[lowest][s]))
            floor_labels.append(f"lowest baseline {lowest}")
        best = max(project, key=lambda name: (means[name][s], name))
        best_mean = float(means[best][s])
        if reference is not None and abs(reference["means"][s] - best_mean) <= TIGHT * abs(reference["means"][s]):
            top.append(float(reference["means"][s]))
            top_labels.append(f"reference {reference['names'][s]}")
        else:
            top.append(best_mean)
            top_labels.append(f"best known {best}")
    return {"floor": floor, "floor_labels": floor_labels, "top": top, "top_labels": top_labels}


def normalise(values: list[np.ndarray], floor: list[float], top: list[float]) -> list[np.ndarray]:
    """Scores ``100 (R - F) / (T - F)`` per scenario; where nothing rises above the floor (T <= F), one unit of
    return is one point."""
    return [100.0 * (v - f) / (t - f if t > f else 1.0) for v, f, t in zip(values, floor, top)]


def _ranks(values: np.ndarray) -> list[int]:
    """1 for the highest value; equal values share the better rank."""
    return [int(np.sum(values > value)) + 1 for value in values]


def summarize(scenarios, results: list[dict], mine=frozenset()) -> dict:
    """Everything the tables and plots of one env show, from its result files (played and references);
    ``mine`` names the user's entries (marked in the tables)."""
    played = [r for r in results if r["kind"] != "reference"]
    references = [r for r in results if r["kind"] == "reference"]
    names = [instance.name for instance in scenarios.instances]
    if not played:
        return {"scenarios": names, "rows": [], "reference": None, "scale": None, "best_baseline": None}
    returns = {r["name"]: _returns(r, scenarios) for r in played}
    reference = None
    if references:
        ref_means = np.array([[v.mean() for v in _returns(r, scenarios)] for r in references])  # (refs, scenarios)
        tightest = ref_means.argmin(axis=0)
        reference = {"names": [references[i]["name"] for i in tightest], "means": ref_means.min(axis=0).tolist()}
    means = {name: np.array([v.mean() for v in values]) for name, values in returns.items()}
    scale = _scale(scenarios, means, {r["name"]: r["kind"] for r in played}, reference)
    rows = []
    for r in played:
        score = normalise(returns[r["name"]], scale["floor"], scale["top"])
        length = sum(e["length"] for e in r["episodes"])
        metrics = sorted({key for e in r["episodes"] for key in e["metrics"]})
        rows.append(
            {
                "name": r["name"],
                "kind": r["kind"],
                "mine": r["name"] in mine,
                "policy": r["policy"],
                "description": r.get("description", ""),
                "project_version": r["project_version"],
                "created": r["created"],
                "iqm": interval(score, iqm),
                "mean": interval(score, mean),
                "scenario_scores": [float(s.mean()) for s in score],
                "scenario_means": means[r["name"]].tolist(),
                "decision_ms": 1000.0 * sum(e["decision_s"] for e in r["episodes"]) / max(length, 1),
                "metrics": {
                    key: float(np.mean([e["metrics"][key] for e in r["episodes"] if key in e["metrics"]]))
                    for key in metrics
                },
            }
        )
    rows.sort(key=lambda row: (-row["iqm"][0], row["name"]))
    per_scenario = np.array([row["scenario_scores"] for row in rows])
    for s in range(len(names)):
        for row, rank in zip(rows, _ranks(per_scenario[:, s])):
            row.setdefault("scenario_ranks", []).append(rank)
    best = next((row["name"] for row in rows if row["kind"] == "baseline"), None)
    for row in rows:
        row["improvement"] = None if best is None else interval([*returns[row["name"]], *returns[best]], improvement)
    return {"scenarios": names, "rows": rows, "reference": reference, "scale": scale, "best_baseline": best}
