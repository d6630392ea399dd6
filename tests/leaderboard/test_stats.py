"""Statistics: hand-computed IQM and probability of improvement, stratified intervals, anchors."""

import numpy as np
import pytest

from benchmarks.leaderboard import stats
from benchmarks.leaderboard.scenarios import Instance, ScenarioSet


def test_iqm__trims_a_quarter_at_each_end_over_all_scenarios():
    # 8 values over two scenarios: sorted 1..8, the middle half is 3, 4, 5, 6
    assert stats.iqm(np.array([1.0, 8.0, 3.0, 6.0]), np.array([2.0, 7.0, 4.0, 5.0])) == pytest.approx(4.5)


def test_improvement__counts_wins_and_half_ties_per_scenario_then_averages():
    # scenario 1: x=[1, 3] vs y=[2]: one win of two -> 0.5; scenario 2: x=[5] vs y=[5, 4]: tie + win -> 0.75
    p = stats.improvement(np.array([1.0, 3.0]), np.array([5.0]), np.array([2.0]), np.array([5.0, 4.0]))
    assert p == pytest.approx((0.5 + 0.75) / 2)


def test_interval__is_stratified_a_constant_scenario_adds_no_spread():
    rng = np.random.default_rng(1)
    varied = rng.normal(size=20)
    point, low, high = stats.interval([varied], stats.mean)
    point2, low2, high2 = stats.interval([varied, np.full(20, varied.mean())], stats.mean)
    assert low < point < high
    # the second stratum is constant at the first's mean: resampling it changes nothing, so the
    # interval is the first's, halved around the same centre
    assert point2 == pytest.approx(point)
    assert high2 - low2 == pytest.approx((high - low) / 2, rel=0.2)


def test_interval__is_reproducible_and_nan_for_single_episodes():
    samples = [np.array([1.0, 2.0, 4.0]), np.array([0.0, 3.0])]
    assert stats.interval(samples, stats.iqm) == stats.interval(samples, stats.iqm)
    point, low, high = stats.interval([np.array([1.0]), np.array([2.0, 3.0])], stats.mean)
    assert point == 2.0 and np.isnan(low) and np.isnan(high)


def _result(name, kind, returns):
    episodes = [
        {"instance": inst, "seed": s, "return": r, "length": 2, "metrics": {"delay": -r}, "decision_s": 0.002}
        for (inst, s), r in zip([("a", 0), ("a", 1), ("b", 0), ("b", 1)], returns)
    ]
    return {"name": name, "kind": kind, "policy": "p", "project_version": "0", "created": "t", "episodes": episodes}


SET = ScenarioSet("X-v0", "v1", (Instance("a", {}, (0, 1)), Instance("b", {}, (0, 1))), max_steps=lambda env: 1)


def test_summarize__scores_are_relative_to_the_best_baseline_per_scenario():
    # best baseline mean: a -> -10 (b1), b -> -100 (b2)
    results = [
        _result("b1", "baseline", [-10, -10, -300, -300]),
        _result("b2", "baseline", [-20, -20, -100, -100]),
        _result("me", "submission", [-5, -5, -50, -50]),
    ]
    summary = stats.summarize(SET, results)
    rows = {row["name"]: row for row in summary["rows"]}
    assert summary["anchor"] == "best baseline" and summary["anchors"] == [-10, -100]
    assert rows["me"]["mean"][0] == pytest.approx(0.5)  # half the cost on both scenarios
    assert rows["b1"]["mean"][0] == pytest.approx((0 + 0 - 2 - 2) / 4)
    assert [row["name"] for row in summary["rows"]][0] == "me"
    assert summary["best_baseline"] in ("b1", "b2")
    assert rows["me"]["improvement"][0] == 1.0
    assert rows["me"]["decision_ms"] == pytest.approx(1.0) and rows["me"]["metrics"]["delay"] == pytest.approx(27.5)
    assert rows["me"]["gap"] is None


def test_summarize__a_reference_anchors_the_scores_and_gives_the_gap():
    reference = _result("bound", "reference", [-4, -4, -40, -40])
    loose = _result("loose", "reference", [-2, -2, -20, -20])  # the tighter (lower) reference anchors
    summary = stats.summarize(SET, [reference, loose, _result("me", "submission", [-5, -5, -50, -50])])
    row = summary["rows"][0]
    assert summary["anchor"] == "reference" and summary["reference"]["names"] == ["bound", "bound"]
    assert row["gap"] == pytest.approx(0.25) and row["iqm"][0] == pytest.approx(-0.25)
