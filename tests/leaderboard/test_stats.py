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


def test_normalise__floor_is_0_top_is_100_per_scenario():
    scores = stats.normalise([np.array([-10.0, -5.0]), np.array([2.0])], floor=[-10.0, 0.0], top=[0.0, 4.0])
    assert scores[0].tolist() == [0.0, 50.0] and scores[1].tolist() == [50.0]
    # nothing above the floor: one unit of return is one point
    assert stats.normalise([np.array([-3.0])], floor=[-1.0], top=[-1.0])[0].tolist() == [-200.0]


def test_summarize__random_is_0_and_a_tight_reference_is_100():
    results = [
        _result("random", "baseline", [-20, -20, -200, -200]),
        _result("good", "baseline", [-10, -10, -101, -101]),  # within 5% of the reference on both scenarios
        _result("bound", "reference", [-10, -10, -100, -100]),
        _result("me", "submission", [-15, -15, -150, -150]),
    ]
    summary = stats.summarize(SET, results, mine={"me"})
    rows = {row["name"]: row for row in summary["rows"]}
    assert summary["scale"]["floor"] == [-20, -200] and summary["scale"]["floor_labels"] == ["random", "random"]
    assert summary["scale"]["top"] == [-10, -100] and summary["scale"]["top_labels"] == ["reference bound"] * 2
    assert rows["random"]["scenario_scores"] == [0.0, 0.0]
    assert rows["me"]["scenario_scores"] == pytest.approx([50.0, 50.0]) and rows["me"]["iqm"][0] == pytest.approx(50)
    assert rows["good"]["scenario_scores"] == pytest.approx([100.0, 99.0])
    assert rows["me"]["mine"] and not rows["good"]["mine"]
    assert [row["name"] for row in summary["rows"]] == ["good", "me", "random"]
    assert rows["good"]["scenario_ranks"] == [1, 1] and rows["random"]["scenario_ranks"] == [3, 3]
    assert summary["best_baseline"] == "good" and rows["me"]["improvement"][0] == 0.0
    assert rows["me"]["decision_ms"] == pytest.approx(1.0) and rows["me"]["metrics"]["delay"] == pytest.approx(82.5)


def test_summarize__a_loose_reference_gives_way_to_the_best_project_entry_which_a_submission_does_not_move():
    results = [
        _result("random", "baseline", [-20, -20, -200, -200]),
        _result("good", "agent", [-12, -12, -100, -100]),
        _result("bound", "reference", [-10, -10, -50, -50]),  # scenario b: 2x better than any policy
        _result("me", "submission", [-12, -12, -80, -80]),  # beats every project entry on b
    ]
    summary = stats.summarize(SET, results)
    rows = {row["name"]: row for row in summary["rows"]}
    assert summary["scale"]["top"] == [-12, -100]
    assert summary["scale"]["top_labels"] == ["best known good", "best known good"]  # a: 20% from the bound
    assert rows["me"]["scenario_scores"] == pytest.approx([100.0, 120.0])
    assert rows["me"]["scenario_ranks"] == [1, 1] and rows["good"]["scenario_ranks"] == [1, 2]


def test_summarize__without_a_random_baseline_the_lowest_baseline_is_the_floor():
    results = [
        _result("b1", "baseline", [-10, -10, -300, -300]),
        _result("b2", "baseline", [-20, -20, -100, -100]),
        _result("me", "submission", [-40, -40, -50, -50]),
    ]
    summary = stats.summarize(SET, results)
    rows = {row["name"]: row for row in summary["rows"]}
    assert summary["scale"]["floor_labels"] == ["lowest baseline b2", "lowest baseline b1"]
    assert rows["me"]["scenario_scores"] == pytest.approx([-200.0, 125.0])
    assert rows["me"]["mine"] is False
