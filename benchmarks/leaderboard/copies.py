"""Entries that record the same actions as another entry on every episode: a copy, or one policy twice.

A result proves what its recorded actions score, not who chose them: a file copied under a new
name, or a policy that looks up another entry's recorded actions by episode seed, replays like
the original. ``validate`` and ``render`` flag such pairs with a warning naming both; they do not
refuse them, since two policies may honestly make the same decisions (e.g. one baseline under two
names). Actions are compared as decisions (values, whatever containers and dtypes carry them), so
changing one action of one episode is enough to go unflagged.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from benchmarks.leaderboard.results import decode_actions
from benchmarks.leaderboard.scenarios import actions_limits


def _decisions(action):
    """``action``'s values as nested lists of floats (dicts as sorted [key, value] pairs)."""
    if isinstance(action, dict):
        return sorted([str(key), _decisions(value)] for key, value in action.items())
    if isinstance(action, str):
        return action
    try:
        return np.asarray(action, dtype=np.float64).tolist()
    except (TypeError, ValueError):  # a ragged tuple or list: element by element
        return [_decisions(item) for item in action]


def fingerprint(result: dict) -> str | None:
    """A hash of the env and every episode's decisions; None for a reference (it records no actions).

    The actions are inflated with the scenario set's bound (ResultError if they exceed it or do not decode)."""
    if result["kind"] == "reference":
        return None
    limits = actions_limits(result["env"])
    episodes = [
        [_decisions(action) for action in decode_actions(episode["actions"], limits[episode["instance"]])]
        for episode in result["episodes"]
    ]
    text = json.dumps([result["env"], episodes], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def identical(fingerprints: dict[str, str | None]) -> list[tuple[str, str]]:
    """Pairs of labels (in the dict's order) whose fingerprints are equal."""
    labels = [label for label, value in fingerprints.items() if value is not None]
    return [
        (first, second)
        for i, first in enumerate(labels)
        for second in labels[i + 1 :]
        if fingerprints[first] == fingerprints[second]
    ]


def warning(first: str, second: str) -> str:
    return (
        f"warning: {first} and {second} record identical actions on every episode "
        "(a copy, or one policy under two names)"
    )
