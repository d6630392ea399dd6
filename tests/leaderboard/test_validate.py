"""validate on reference files: recomputed, spot-checked by default, every episode on request."""

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


def test_validate__actions_that_inflate_past_what_the_set_holds_are_refused_before_inflating():
    """A file of a few kB whose episode-0 actions inflate to 40 MB (over 500 times the 73,602 bytes
    that 200 slots of 6 blocks can take) is refused at once, naming the episode and the bound."""
    result = read_result(RESULTS_DIR / "EdgePartition-v0__greedy.json")
    result["episodes"][0]["actions"] = _bomb(40_000_000)
    limit = 2 + 200 * (64 + 16 + 48 * 6)  # 200 slots, one 6-block array each (results.action_bytes)
    with pytest.raises(ResultError, match=rf"episode 0 \(default, seed 10000\): .* inflate to over {limit} bytes"):
        validate.check_result(result)
