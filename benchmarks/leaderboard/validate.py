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
from benchmarks.leaderboard.scenarios import actions_limit, make_env, references, scenario_set

RTOL = 1e-9  # relative (and absolute, near zero) tolerance on replayed returns and metrics


def _close(recorded: float, replayed: float) -> bool:
    return math.isclose(recorded, replayed, rel_tol=RTOL, abs_tol=RTOL)


def _scenarios(result: dict):
    try:
        return scenario_set(result.get("env"))
    except ValueError as error:
        raise ResultError(str(error)) from None


def check_result(result: dict, all_references: bool = False) -> None:
    """Raise ResultError naming the first problem of ``result``; return quietly if it replays.

    Every episode of a played entry is replayed. A reference file's values are recomputed for the
    first episode of each instance (references can cost an exact solve per step), or for every
    episode with ``all_references``.
    """
    check_schema(result)
    scenarios = _scenarios(result)
    check_schema(result, scenarios)
    if result["kind"] == "reference":
        functions = references(scenarios)
        if result["name"] not in functions:
            raise ResultError(f"{result['env']} has no reference {result['name']!r}; it has {sorted(functions)}")
    envs = {}  # one env per instance, reset for each episode
    try:
        for index, episode in enumerate(result["episodes"]):
            instance = scenarios.instance(episode["instance"])
            if result["kind"] == "reference" and not all_references and episode["seed"] != instance.seeds[0]:
                continue
            if instance.name not in envs:
                envs[instance.name] = make_env(scenarios, instance)
            where = f"episode {index} ({instance.name}, seed {episode['seed']})"
            if result["kind"] == "reference":
                value = float(functions[result["name"]](envs[instance.name], episode["seed"]))
                if not _close(episode["return"], value):
                    raise ResultError(f"{where}: recorded reference {episode['return']!r}, recomputed {value!r}")
            else:
                env = envs[instance.name]
                _check_replay(episode, env, actions_limit(scenarios, env), scenarios.metrics, where)
    finally:
        for env in envs.values():
            env.close()


def _check_replay(episode: dict, env, max_bytes: int, metric_spec: dict, where: str) -> None:
    try:
        actions = decode_actions(episode["actions"], max_bytes)
    except ResultError as error:
        raise ResultError(f"{where}: {error}") from None
    try:
        replayed = replay_episode(env, episode["seed"], actions, metric_spec)
    except ValueError as error:  # InvalidAction, too few or too many actions
        raise ResultError(f"{where}: the recorded actions do not replay: {error}") from None
    if not _close(episode["return"], replayed["return"]):
        raise ResultError(f"{where}: recorded return {episode['return']!r}, replayed {replayed['return']!r}")
    if episode["length"] != replayed["length"]:
        raise ResultError(f"{where}: recorded length {episode['length']}, replayed {replayed['length']}")
    if set(episode["metrics"]) != set(replayed["metrics"]):
        recorded, again = sorted(episode["metrics"]), sorted(replayed["metrics"])
        raise ResultError(f"{where}: recorded metrics {recorded}, replayed {again}")
    for key, value in replayed["metrics"].items():
        if not _close(episode["metrics"][key], value):
            raise ResultError(f"{where}: recorded {key} {episode['metrics'][key]!r}, replayed {value!r}")


def validate_files(paths: list[Path], all_references: bool = False) -> dict[Path, str | None]:
    """Path -> None if the file passes, else the reason it is refused."""
    outcome = {}
    for path in paths:
        try:
            result = read_result(path)
            check_result(result, all_references)
            expected = file_name(result["env"], result["name"], result["kind"])
            if Path(path).name != expected:
                raise ResultError(f"the file of this entry is named {expected}")
            outcome[path] = None
        except ResultError as error:
            outcome[path] = str(error)
    return outcome
