"""Copies: entries whose actions are the same decisions as another entry's on every episode."""

import copy

import numpy as np

from benchmarks.leaderboard import copies
from benchmarks.leaderboard.results import encode_actions
from tests.leaderboard.test_results import _result


def _with_actions(result: dict, actions: list) -> dict:
    result = copy.deepcopy(result)
    for episode in result["episodes"]:
        episode["actions"] = encode_actions(actions)
    return result


def test_fingerprint__same_decisions_match_whatever_carries_them_and_one_changed_action_does_not():
    base = _result()
    original = _with_actions(base, [np.array([1, 0, 2, 0, 0, 4], dtype=np.int64)] * 3)
    recast = _with_actions(base, [np.array([1, 0, 2, 0, 0, 4], dtype=np.int32)] * 2 + [[1, 0, 2, 0, 0, 4]])
    changed = _with_actions(base, [np.array([1, 0, 2, 0, 0, 4])] * 2 + [np.array([1, 0, 2, 0, 0, 3])])
    changed_once = copy.deepcopy(original)
    changed_once["episodes"][-1]["actions"] = changed["episodes"][-1]["actions"]  # last episode only
    reference = dict(copy.deepcopy(original), kind="reference")
    fingerprints = {
        name: copies.fingerprint(result)
        for name, result in [
            ("original", original),
            ("recast", recast),
            ("changed", changed),
            ("changed once", changed_once),
            ("reference", reference),
        ]
    }
    assert fingerprints["reference"] is None
    assert copies.identical(fingerprints) == [("original", "recast")]


def test_fingerprint__dict_actions_compare_by_agent_whatever_the_order():
    first = {"iot_0": np.array([1, 2]), "iot_1": np.array([3, 4])}
    second = {"iot_1": [3, 4], "iot_0": [1, 2]}
    assert copies._decisions(first) == copies._decisions(second) != copies._decisions({**first, "iot_1": [3, 3]})
