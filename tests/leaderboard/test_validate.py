"""validate on reference files: recomputed, spot-checked by default, every episode on request."""

import pytest

from benchmarks.leaderboard import runner, scenarios, validate
from benchmarks.leaderboard.results import ResultError


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
    assert len(result["episodes"]) == 15


def test_validate__reference_is_recomputed_first_episode_per_instance_or_all(fake_reference):
    result = runner.reference_result("EdgePartition-v0", "made-up")
    fake_reference.clear()
    validate.check_result(result)
    assert fake_reference == [10_000, 20_000, 30_000]
    result["episodes"][5]["return"] += 1.0  # unseen, seed 20000: spot-checked
    with pytest.raises(ResultError, match=r"episode 5 \(unseen, seed 20000\): recorded reference"):
        validate.check_result(result)
    result["episodes"][5]["return"] -= 1.0
    result["episodes"][6]["return"] += 1.0  # unseen, seed 20001: only with all_references
    validate.check_result(result)
    with pytest.raises(ResultError, match="recorded reference"):
        validate.check_result(result, all_references=True)


def test_validate__reference_the_env_does_not_have_is_refused(fake_reference):
    result = runner.reference_result("EdgePartition-v0", "made-up")
    result["name"] = "other"
    with pytest.raises(ResultError, match="has no reference 'other'"):
        validate.check_result(result)
