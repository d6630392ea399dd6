"""Evaluate a policy on a scenario set, isolated in a worker process with a per-decision time limit.

The worker (a fresh ``spawn`` process) builds the env and the policy and plays every episode of
the set, reporting each decision to the parent as it is made. The parent waits at most
``decision_limit_s`` for each one (the policy's decision and the env step that follows); a policy
that hangs is killed, one that raises or returns an invalid action ends the run with the reason.
Only when every episode is played does the parent replay the recorded actions in its own process
(a check of the returns, the same as ``validate``) and write the result file atomically: a failed
run leaves the results folder untouched.
"""

from __future__ import annotations

import datetime
import multiprocessing
import platform
import sys
import time
import traceback

import edge_envs
from benchmarks.leaderboard import policies
from benchmarks.leaderboard.play import InvalidAction, play_episode
from benchmarks.leaderboard.results import FORMAT, SCHEMA, encode_actions
from benchmarks.leaderboard.scenarios import ScenarioSet, make_env, scenario_set

STARTUP_LIMIT_S = 300.0  # building the env and loading the policy (imports, checkpoints)


class PolicyError(RuntimeError):
    """The submitted policy failed: it raised, returned an invalid action, hung, or its process died."""


def _worker(connection, env_id: str, spec: str) -> None:
    """Worker process: play every episode of the set, sending ("setup",) and ("ready",) around the building of
    each instance's env and policy, ("decision",) per decision and ("episode", record) per episode, then
    ("done",) or ("error", message, traceback)."""
    try:
        scenarios = scenario_set(env_id)
        for instance in scenarios.instances:
            connection.send(("setup",))  # building the env and the policy gets the start-up limit
            env = make_env(scenarios, instance)
            env.reset(seed=instance.seeds[0])  # loads what the env compiles lazily, so it is not charged to a decision
            policy = policies.load_policy(spec, env)
            connection.send(("ready",))
            for seed in instance.seeds:
                if callable(getattr(policy, "reset", None)):
                    policy.reset(seed=seed)
                clock = [0.0]

                def choose(observation, info):
                    started = time.perf_counter()
                    action = policy.act(observation, info)
                    clock[0] += time.perf_counter() - started
                    connection.send(("decision",))
                    return action

                played = play_episode(env, seed, choose, scenarios.metrics)
                connection.send(
                    (
                        "episode",
                        {
                            "instance": instance.name,
                            "seed": seed,
                            "return": played["return"],
                            "length": played["length"],
                            "metrics": played["metrics"],
                            "decision_s": clock[0],
                            "actions": encode_actions(played["actions"]),
                        },
                    )
                )
            env.close()
        connection.send(("done",))
    except BaseException as error:  # everything goes back to the parent as text (the policy's exception included)
        # the policy's own traceback helps its author; an invalid action is said in one line
        trace = "" if isinstance(error, InvalidAction) else traceback.format_exc()
        connection.send(("error", f"{type(error).__name__}: {error}", trace))
    finally:
        connection.close()


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="episode", dynamic_ncols=True, file=sys.stderr)


def play_isolated(scenarios: ScenarioSet, spec: str, decision_limit_s: float, progress: bool = True) -> list[dict]:
    """Every episode record of ``spec`` on ``scenarios``, played in a worker process (PolicyError on failure)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(child, scenarios.env_id, spec), daemon=True)
    worker.start()
    child.close()
    bar = _progress(scenarios.episodes, progress)
    episodes, decisions, limit = [], 0, STARTUP_LIMIT_S
    try:
        while True:
            if not parent.poll(limit):
                raise PolicyError(
                    f"no decision within {limit:g} s (episode {len(episodes)}, decision {decisions}): the "
                    f"policy hangs or is too slow; the limit per decision is {decision_limit_s:g} s (--time-limit)"
                )
            try:
                message = parent.recv()
            except EOFError:
                worker.join(5)
                raise PolicyError(
                    f"the policy's process died (exit code {worker.exitcode}) after {len(episodes)} episodes"
                ) from None
            limit = STARTUP_LIMIT_S if message[0] == "setup" else decision_limit_s
            if message[0] == "decision":
                decisions += 1
            elif message[0] == "episode":
                episodes.append(message[1])
                decisions = 0
                if bar is not None:
                    bar.update(1)
            elif message[0] == "error":
                raise PolicyError(f"{message[1]} (episode {len(episodes)}, decision {decisions})\n{message[2]}")
            elif message[0] == "done":
                return episodes
    finally:
        if bar is not None:
            bar.close()
        if worker.is_alive():
            worker.kill()
        worker.join(5)
        parent.close()


def evaluate(
    env_id: str,
    spec: str,
    name: str,
    decision_limit_s: float = 10.0,
    progress: bool = True,
    description: str = "",
    policy_version: str = "",
) -> dict:
    """The result of ``spec`` on the scenario set of ``env_id`` (not yet checked nor written)."""
    policies.check_spec(spec)
    scenarios = scenario_set(env_id)
    started = time.perf_counter()
    episodes = play_isolated(scenarios, spec, decision_limit_s, progress)
    result = {
        "format": FORMAT,
        "schema": SCHEMA,
        "name": name,
        "kind": policies.kind_of(spec),
        "policy": spec,
        "policy_version": policy_version,
        "policy_sha256": policies.sha256(spec),
        "description": description,
        "env": env_id,
        "scenario_set": {"version": scenarios.version, "fingerprint": scenarios.fingerprint()},
        "project_version": edge_envs.__version__,
        "decision_limit_s": decision_limit_s,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.machine(),
        },
        "wall_s": round(time.perf_counter() - started, 3),
        "episodes": episodes,
    }
    return result


def record(
    env_id: str,
    spec: str,
    name: str,
    results_dir,
    decision_limit_s: float = 10.0,
    progress: bool = True,
    description: str = "",
    policy_version: str = "",
    overwrite: bool = False,
):
    """Evaluate ``spec``, replay its result (ResultError if it does not replay) and write it; the file's path."""
    from benchmarks.leaderboard.results import write_result
    from benchmarks.leaderboard.validate import check_result

    result = evaluate(env_id, spec, name, decision_limit_s, progress, description, policy_version)
    check_result(result)
    return write_result(result, results_dir, overwrite=overwrite), result


def reference_result(env_id: str, reference: str) -> dict:
    """A reference file: ``REFERENCES[reference](env, seed)`` for every episode of the set (trusted project code)."""
    from benchmarks.leaderboard.scenarios import references

    scenarios = scenario_set(env_id)
    function = references(scenarios)[reference]
    episodes = []
    for instance in scenarios.instances:
        env = make_env(scenarios, instance)
        for seed in instance.seeds:
            value = float(function(env, seed))
            episodes.append({"instance": instance.name, "seed": seed, "return": value, "length": 0, "metrics": {}})
    return {
        "format": FORMAT,
        "schema": SCHEMA,
        "name": reference,
        "kind": "reference",
        "policy": f"reference:{reference}",
        "description": (getattr(function, "__doc__", "") or "").strip().split("\n")[0],
        "env": env_id,
        "scenario_set": {"version": scenarios.version, "fingerprint": scenarios.fingerprint()},
        "project_version": edge_envs.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "episodes": episodes,
    }
