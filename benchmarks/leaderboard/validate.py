"""Check a result: its schema, its scenario set, and its returns and metrics by replaying its actions.

Replays run the recorded actions from the recorded seeds in a fresh env of the current project:
the env is deterministic given the seed and the actions, so a recorded return that the replay
does not give back (beyond float rounding, ``RTOL``) is refused, whoever wrote it. A reference
file is checked by calling the reference again.
"""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks.leaderboard.play import replay_episode
from benchmarks.leaderboard.results import ResultError, check_schema, decode_actions, file_name, read_result
from benchmarks.leaderboard.scenarios import make_env, references, scenario_set

RTOL = 1e-9  # relative (and absolute, near zero) tolerance on replayed returns and metrics


def _close(recorded: float, replayed: float) -> bool:
    return math.isclose(recorded, replayed, rel_tol=RTOL, abs_tol=RTOL)


def _scenarios(result: dict):
    try:
        return scenario_set(result.get("env"))
    except ValueError as error:
        raise ResultError(str(error)) from None


def check_result(result: dict) -> None:
    """Raise ResultError naming the first problem of ``result``; return quietly if it replays."""
    check_schema(result)
    scenarios = _scenarios(result)
    check_schema(result, scenarios)
    if result["kind"] == "reference":
        functions = references(scenarios)
        if result["name"] not in functions:
            raise ResultError(f"{result['env']} has no reference {result['name']!r}; it has {sorted(functions)}")
    for index, episode in enumerate(result["episodes"]):
        where = f"episode {index} ({episode['instance']}, seed {episode['seed']})"
        instance = scenarios.instance(episode["instance"])
        env = make_env(scenarios, instance)
        if result["kind"] == "reference":
            value = float(functions[result["name"]](env, episode["seed"]))
            if not _close(episode["return"], value):
                raise ResultError(f"{where}: recorded reference {episode['return']!r}, recomputed {value!r}")
            continue
        try:
            replayed = replay_episode(env, episode["seed"], decode_actions(episode["actions"]), scenarios.metrics)
        except ValueError as error:  # InvalidAction, too few or too many actions
            raise ResultError(f"{where}: the recorded actions do not replay: {error}") from None
        finally:
            env.close()
        if not _close(episode["return"], replayed["return"]):
            raise ResultError(f"{where}: recorded return {episode['return']!r}, replayed {replayed['return']!r}")
        if episode["length"] != replayed["length"]:
            raise ResultError(f"{where}: recorded length {episode['length']}, replayed {replayed['length']}")
        if set(episode["metrics"]) != set(replayed["metrics"]):
            raise ResultError(
                f"{where}: recorded metrics {sorted(episode['metrics'])}, replayed {sorted(replayed['metrics'])}"
            )
        for key, value in replayed["metrics"].items():
            if not _close(episode["metrics"][key], value):
                raise ResultError(f"{where}: recorded {key} {episode['metrics'][key]!r}, replayed {value!r}")


def validate_files(paths: list[Path]) -> dict[Path, str | None]:
    """Path -> None if the file passes, else the reason it is refused."""
    outcome = {}
    for path in paths:
        try:
            result = read_result(path)
            check_result(result)
            expected = file_name(result["env"], result["name"], result["kind"])
            if Path(path).name != expected:
                raise ResultError(f"the file of this entry is named {expected}")
            outcome[path] = None
        except ResultError as error:
            outcome[path] = str(error)
    return outcome
