"""Evaluate a policy on a scenario set, isolated in a worker process with a per-decision time limit.

The worker (a fresh ``spawn`` process) builds the env and the policy and plays every episode of
the set, telling the parent when the policy's code starts (``act``, ``reset``) and when it returns.
The parent waits at most ``decision_limit_s`` for the policy each time, and measures each decision's
time itself, from its go-ahead to the policy's answer (the worker's clock is never read, and a
parent slow to read the request cannot shorten the measure). A policy that hangs is killed;
one that raises or returns an invalid action ends the run with the reason. Only when every episode
is played does the parent replay the recorded actions in its own process (a check of the returns,
the same as ``validate``) and write the result file atomically: a failed run leaves the results
folder untouched.

What the worker is kept from (see :func:`_confine`): it runs in its own empty temporary working
directory (removed afterwards), with the parent's command line and working directory scrubbed from
``sys.argv`` and the environment (it is never told the results folder), under resource limits
(address space, new processes, file size, CPU time), in its own session. When the run ends its
process group is killed, and so is every process it left behind (this process adopts orphaned
descendants as a Linux subreaper, so a daemon that started its own session is found too). It
still runs as the same user, with the same file system: this keeps an honest policy's accidents
and a careless one's side effects out of the results; it is not a sandbox against hostile code
(CI reviews submissions).
"""

from __future__ import annotations

import dataclasses
import datetime
import multiprocessing
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import edge_envs
from benchmarks.leaderboard import policies
from benchmarks.leaderboard.play import InvalidAction, play_episode
from benchmarks.leaderboard.results import FORMAT, SCHEMA, encode_actions
from benchmarks.leaderboard.scenarios import ScenarioSet, make_env, scenario_set

STARTUP_LIMIT_S = 300.0  # building the env and loading the policy (imports, checkpoints); the env's own steps
ADDRESS_SPACE_BYTES = 32 * 2**30  # virtual memory of the worker (torch and numba map several GiB)
EXTRA_PROCESSES = 256  # processes and threads the worker may add to the user's current count
FILE_BYTES = 256 * 2**20  # the largest file the worker may write


class PolicyError(RuntimeError):
    """The submitted policy failed: it raised, returned an invalid action, hung, or its process died."""


def _user_tasks() -> int:
    """Processes and threads of this user now (what RLIMIT_NPROC counts)."""
    uid, count = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(entry / "task"))
            except OSError:
                continue
    return count


def _confine(workdir: str, cpu_s: int) -> None:
    """In the worker, before any policy code: own session, an empty working directory, no trace of the parent's
    command line or directory, and resource limits."""
    import resource

    os.setsid()  # own session and process group: the parent kills the group when the run ends
    for name in ("PWD", "OLDPWD"):
        os.environ.pop(name, None)
    sys.path[:] = [os.path.abspath(path) for path in sys.path]  # '' would mean the new directory
    os.chdir(workdir)
    del sys.argv[1:]  # the parent's options (--results DIR among them)
    limits = {
        resource.RLIMIT_AS: ADDRESS_SPACE_BYTES,
        resource.RLIMIT_FSIZE: FILE_BYTES,
        resource.RLIMIT_CPU: cpu_s,
        resource.RLIMIT_NPROC: _user_tasks() + EXTRA_PROCESSES,
    }
    for which, value in limits.items():
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, hard))


def _worker(connection, scenarios: ScenarioSet, spec: str, workdir: str, cpu_s: int) -> None:
    """Worker process: play every episode of the set, sending ("setup",) and ("ready",) around the building of
        each instance's env and policy, ("act",) or ("reset",) before the policy's code and ("back",) after it (an
    "act" waits for the parent's ("go",), so the parent's clock starts first),
        ("episode", record) per episode, then ("done",) or ("error", message, traceback)."""
    try:
        spec = policies.absolute(spec)  # paths of the spec, before leaving the parent's directory
        _confine(workdir, cpu_s)
        for instance in scenarios.instances:
            connection.send(("setup",))  # building the env and the policy gets the start-up limit
            env = make_env(scenarios, instance)
            env.reset(seed=instance.seeds[0])  # loads what the env compiles lazily, so it is not charged to a decision
            policy = policies.load_policy(spec, env)
            connection.send(("ready",))
            for seed in instance.seeds:
                if callable(getattr(policy, "reset", None)):
                    connection.send(("reset",))
                    policy.reset(seed=seed)
                    connection.send(("back",))

                def choose(observation, info):
                    connection.send(("act",))
                    connection.recv()  # the parent's "go": its clock runs before the policy's code starts
                    action = policy.act(observation, info)
                    connection.send(("back",))
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


def _become_subreaper() -> None:
    """Make this process adopt its orphaned descendants (Linux's PR_SET_CHILD_SUBREAPER), so a daemon that a
    policy starts stays in reach of :func:`_kill_run` instead of going to init."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # 36: PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _descendants(root: int) -> set[int]:
    """Every process below ``root`` in the process tree (from each process's parent in /proc/PID/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _kill_run(worker_pid: int, keep: set[int]) -> None:
    """Kill the worker's process group, then every descendant of this process but ``keep`` (those from before
    the run) and the worker (joined by multiprocessing): the children that left the group, daemons included,
    which this process adopts as a subreaper. Killed children are reaped."""
    try:
        os.killpg(worker_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for _ in range(100):  # each pass kills what is left; a killed process's children come to this one
        strays = _descendants(os.getpid()) - keep - {worker_pid}
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # not (yet) this process's child
                pass
        time.sleep(0.01)


def max_decisions(scenarios: ScenarioSet) -> int:
    """The most decisions a policy can be asked for on ``scenarios`` (each env built once)."""
    total = 0
    for instance in scenarios.instances:
        env = make_env(scenarios, instance)
        total += scenarios.max_steps(env) * len(instance.seeds)
        env.close()
    return total


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="episode", dynamic_ncols=True, file=sys.stderr)


def play_isolated(scenarios: ScenarioSet, spec: str, decision_limit_s: float, progress: bool = True) -> list[dict]:
    """Every episode record of ``spec`` on ``scenarios``, played in a confined worker process (PolicyError on
    failure); each record's ``decision_s`` is the parent's measure of the policy's ``act`` calls."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()  # duplex: the parent answers each "act" with "go"
    workdir = tempfile.mkdtemp(prefix="edge-envs-policy-")
    _become_subreaper()
    budget = STARTUP_LIMIT_S * len(scenarios.instances) + decision_limit_s * max_decisions(scenarios)
    portable = dataclasses.replace(scenarios, max_steps=None)  # a lambda does not pickle; the worker needs none
    worker = context.Process(target=_worker, args=(child, portable, spec, workdir, int(budget) + 1), daemon=True)
    worker.start()
    # this process's other helpers (multiprocessing's resource tracker, started with the worker) are kept
    keep = _descendants(os.getpid()) - {worker.pid} - _descendants(worker.pid)
    child.close()
    bar = _progress(scenarios.episodes, progress)
    episodes, decisions, limit, clock, started = [], 0, STARTUP_LIMIT_S, 0.0, None
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
                why = " (past its CPU time limit)" if worker.exitcode == -signal.SIGXCPU else ""
                raise PolicyError(
                    f"the policy's process died (exit code {worker.exitcode}{why}) after {len(episodes)} episodes"
                ) from None
            limit = decision_limit_s if message[0] in ("act", "reset") else STARTUP_LIMIT_S
            if message[0] == "act":
                decisions += 1
                started = time.perf_counter()
                try:
                    parent.send(("go",))
                except BrokenPipeError:  # the worker died: the next recv says how
                    pass
            elif message[0] == "back" and started is not None:
                clock += time.perf_counter() - started
                started = None
            elif message[0] == "episode":
                episodes.append({**message[1], "decision_s": clock})
                decisions, clock = 0, 0.0
                if bar is not None:
                    bar.update(1)
            elif message[0] == "error":
                raise PolicyError(f"{message[1]} (episode {len(episodes)}, decision {decisions})\n{message[2]}")
            elif message[0] == "done":
                return episodes
    finally:
        if bar is not None:
            bar.close()
        _kill_run(worker.pid, keep)
        worker.join(5)
        parent.close()
        shutil.rmtree(workdir, ignore_errors=True)


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
    for warning in check_result(result):
        print(f"warning: {warning}", file=sys.stderr)
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
