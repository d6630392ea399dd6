"""Check a result: its schema, its scenario set, and every field that can be recomputed.

Replays run the recorded actions from the recorded seeds in a fresh env of the current project:
the env is deterministic given the seed and the actions, so a recorded return, length or metric
that the replay does not give back (beyond float rounding, ``RTOL``) is refused, whoever wrote it.
The kind must be the one the recorded policy spec makes. A reference file is checked by calling
the reference again on every episode. Decision times cannot be recomputed: one outside what any
run could record (under ``MIN_DECISION_S`` a decision, or over the run's own time limit) is a
warning, not a refusal.
"""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks.leaderboard.play import replay_episode
from benchmarks.leaderboard.policies import kind_of
from benchmarks.leaderboard.results import ResultError, check_schema, decode_actions, file_name, read_result
from benchmarks.leaderboard.scenarios import actions_limit, make_env, references, scenario_set

RTOL = 1e-9  # relative (and absolute, near zero) tolerance on replayed returns and metrics
MIN_DECISION_S = 1e-6  # below a round trip to the worker process, which the harness's measure includes
DEFAULT_LIMIT_S = 10.0  # `leaderboard run --time-limit`'s default, for results that do not record theirs


def _close(recorded: float, replayed: float) -> bool:
    return math.isclose(recorded, replayed, rel_tol=RTOL, abs_tol=RTOL)


def _scenarios(result: dict):
    try:
        return scenario_set(result.get("env"))
    except ValueError as error:
        raise ResultError(str(error)) from None


def check_result(result: dict) -> list[str]:
    """Raise ResultError naming the first problem of ``result``; return the warnings of a result that replays.

    Every episode of a played entry is replayed; every episode of a reference file is recomputed.
    """
    check_schema(result)
    scenarios = _scenarios(result)
    check_schema(result, scenarios)
    if result["kind"] == "reference":
        functions = references(scenarios)
        if result["name"] not in functions:
            raise ResultError(f"{result['env']} has no reference {result['name']!r}; it has {sorted(functions)}")
    _check_kind(result)
    envs = {}  # one env per instance, reset for each episode
    try:
        for index, episode in enumerate(result["episodes"]):
            instance = scenarios.instance(episode["instance"])
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
    return [] if result["kind"] == "reference" else decision_warnings(result)


def _check_kind(result: dict) -> None:
    """The kind and policy fields agree: a reference names itself, any other kind is the one its spec makes."""
    if result["kind"] == "reference":
        expected = f"reference:{result['name']}"
        if result["policy"] != expected:
            raise ResultError(f"a reference's policy field is {expected!r}, got {result['policy']!r}")
    elif result["kind"] != kind_of(result["policy"]):
        raise ResultError(
            f"kind {result['kind']!r} does not match the policy {result['policy']!r}, which makes a "
            f"{kind_of(result['policy'])!r} entry"
        )


def decision_warnings(result: dict) -> list[str]:
    """Episodes whose recorded decision time no run could measure: under MIN_DECISION_S a decision, or over the
    run's time limit per decision."""
    limit = result.get("decision_limit_s", DEFAULT_LIMIT_S)
    limit = limit if isinstance(limit, (int, float)) and not isinstance(limit, bool) else DEFAULT_LIMIT_S
    warnings = []
    for index, episode in enumerate(result["episodes"]):
        per_decision = episode["decision_s"] / max(episode["length"], 1)
        if not MIN_DECISION_S <= per_decision <= limit:
            warnings.append(
                f"episode {index}: {per_decision:.3g} s per decision is implausible (a run measures between "
                f"{MIN_DECISION_S:g} s, a round trip to the worker, and its time limit {limit:g} s)"
            )
    return warnings


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


def validate_files(paths: list[Path]) -> tuple[dict[Path, str | None], dict[Path, list[str]]]:
    """Path -> None if the file passes, else the reason it is refused; and path -> the warnings of a file that
    passes."""
    outcome, warnings = {}, {}
    for path in paths:
        try:
            result = read_result(path)
            warnings[path] = check_result(result)
            expected = file_name(result["env"], result["name"], result["kind"])
            if Path(path).name != expected:
                raise ResultError(f"the file of this entry is named {expected}")
            outcome[path] = None
        except ResultError as error:
            outcome[path] = str(error)
            warnings.pop(path, None)
    return outcome, warnings
