"""validate: every field it can recompute (references on every episode, the kind from the spec), and warnings
for decision times no run could measure."""

import json
import re

import pytest

from benchmarks.leaderboard import runner, scenarios, validate
from benchmarks.leaderboard.results import RESULTS_DIR, ResultError, read_result
from tests.leaderboard.test_results import _bomb


@pytest.fixture
def fake_reference(monkeypatch):
    calls = []

    def bound(env, seed):
        """A made-up bound: minus the seed."""
        calls.append(seed)
        return -float(seed)

    monkeypatch.setattr(scenarios, "references", lambda s: {"made-up": bound})
    monkeypatch.setattr(validate, "references", lambda s: {"made-up": bound})
    return calls


def test_reference_result__holds_the_reference_of_every_episode(fake_reference):
    result = runner.reference_result("EdgePartition-v0", "made-up")
    assert result["kind"] == "reference" and result["description"] == "A made-up bound: minus the seed."
    assert [e["return"] for e in result["episodes"]] == [-float(s) for s in fake_reference]
    assert len(result["episodes"]) == 25


def test_validate__reference_is_recomputed_on_every_episode(fake_reference):
    result = runner.reference_result("EdgePartition-v0", "made-up")
    fake_reference.clear()
    assert validate.check_result(result) == []
    assert fake_reference == [
        seed for instance in scenarios.SETS["EdgePartition-v0"].instances for seed in instance.seeds
    ]
    result["episodes"][6]["return"] += 1.0  # unseen, seed 20001: not the first episode of its instance
    with pytest.raises(ResultError, match=r"episode 6 \(unseen, seed 20001\): recorded reference"):
        validate.check_result(result)


def test_validate__a_references_policy_field_must_name_it(fake_reference):
    result = runner.reference_result("EdgePartition-v0", "made-up")
    result["policy"] = "baseline:greedy"
    with pytest.raises(ResultError, match="a reference's policy field is 'reference:made-up'"):
        validate.check_result(result)


@pytest.mark.parametrize(
    ("field", "edit", "message"),
    [
        ("kind", lambda r: r.update(kind="agent"), "kind 'agent' does not match the policy 'baseline:greedy'"),
        ("kind", lambda r: r.update(kind="submission"), "which makes a 'baseline' entry"),
        ("return", lambda r: r["episodes"][0].update({"return": r["episodes"][0]["return"] + 1e-6}), "return"),
        ("length", lambda r: r["episodes"][0].update(length=199), "recorded length 199, replayed 200"),
        ("metric", lambda r: r["episodes"][0]["metrics"].update(delay=0.0), "recorded delay 0.0"),
        ("metrics", lambda r: r["episodes"][0]["metrics"].pop("delay"), "recorded metrics"),
    ],
)
def test_validate__each_edited_field_it_can_recompute_is_refused(field, edit, message):
    result = read_result(RESULTS_DIR / "EdgePartition-v0__greedy.json")
    edit(result)
    with pytest.raises(ResultError, match=re.escape(message)):
        validate.check_result(result)


def _played(decision_s, length=200, limit=10.0):
    return {"decision_limit_s": limit, "episodes": [{"decision_s": decision_s, "length": length}]}


def test_decision_warnings__flag_times_no_run_could_measure_and_nothing_else():
    assert validate.decision_warnings(_played(0.02)) == []  # 0.1 ms a decision
    (zero,) = validate.decision_warnings(_played(0.0))  # a patched clock
    assert zero.startswith("episode 0: 0 s per decision is implausible")
    (slow,) = validate.decision_warnings(_played(200 * 2.0, limit=1.0))  # over the run's own limit
    assert "2 s per decision" in slow and "time limit 1 s" in slow
    assert validate.decision_warnings({"episodes": [{"decision_s": 200 * 11.0, "length": 200}]})  # default 10 s


def test_validate_files__a_zero_decision_time_is_a_warning_not_a_refusal(tmp_path):
    result = read_result(RESULTS_DIR / "EdgeUpload-v0__random.json")
    for episode in result["episodes"]:
        episode["decision_s"] = 0.0
    path = tmp_path / "EdgeUpload-v0__random.json"
    path.write_text(json.dumps(result))
    outcome, warnings = validate.validate_files([path])
    assert outcome == {path: None} and len(warnings[path]) == len(result["episodes"])


def test_validate__reference_the_env_does_not_have_is_refused(fake_reference):
    result = runner.reference_result("EdgePartition-v0", "made-up")
    result["name"] = "other"
    with pytest.raises(ResultError, match="has no reference 'other'"):
        validate.check_result(result)


def test_validate__actions_that_inflate_past_what_the_set_holds_are_refused_before_inflating():
    """A file of a few kB whose episode-0 actions inflate to 40 MB (over 500 times the 73,602 bytes
    that 200 slots of 6 blocks can take) is refused at once, naming the episode and the bound."""
    result = read_result(RESULTS_DIR / "EdgePartition-v0__greedy.json")
    result["episodes"][0]["actions"] = _bomb(40_000_000)
    limit = 2 + 200 * (64 + 16 + 48 * 6)  # 200 slots, one 6-block array each (results.action_bytes)
    with pytest.raises(ResultError, match=rf"episode 0 \(default, seed 10000\): .* inflate to over {limit} bytes"):
        validate.check_result(result)
