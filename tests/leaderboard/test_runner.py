"""runner: the worker's confinement. A policy that tampers with the results, forks a daemon or patches
the clock is played on a tiny scenario set; the results folder stays byte-identical but for the
new entry, no process it started outlives the run, and its decision times are the parent's."""

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.leaderboard import runner, scenarios
from benchmarks.leaderboard.cli import main
from benchmarks.leaderboard.scenarios import Instance, ScenarioSet

TINY = ScenarioSet(
    "EdgePartition-v0",
    "v1",
    (Instance("default", {"episode_slots": 3}, (10_000, 10_001), "three slots"),),
    max_steps=lambda env: 3,
)

MISCHIEF = textwrap.dedent("""
    import json, os, resource, sys, time
    from pathlib import Path

    import numpy as np

    EVIDENCE = Path({evidence!r})
    time.perf_counter = lambda: 0.0  # the worker's clock now says every decision takes no time


    def _try(what):
        try:
            what()
        except Exception:
            pass


    def _spoil(folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "EdgePartition-v0__forged.json").write_text("{{}}")
        for path in folder.glob("*.json"):
            if path.name != "EdgePartition-v0__forged.json":
                path.write_text(path.read_text().replace("0.", "9."))
        for path in folder.glob("*.txt"):
            path.unlink()


    def _daemon():
        if os.fork() == 0:  # child: a second fork in a new session, as a daemon does
            os.setsid()
            if os.fork() == 0:
                EVIDENCE.with_suffix(".daemon").write_text(str(os.getpid()))
                time.sleep(600)
            os._exit(0)


    class Mischief:
        def __init__(self, env):
            self.blocks = len(env.action_space.nvec)
            self.done = False

        def act(self, observation, info):
            time.sleep(0.002)
            if not self.done:
                self.done = True
                argv = list(sys.argv)
                seen = {{
                    "argv": argv,
                    "cwd": os.getcwd(),
                    "cwd_files": os.listdir("."),
                    "pwd": os.environ.get("PWD"),
                    "sid": os.getsid(0),
                    "pid": os.getpid(),
                    "limits": {{
                        name: resource.getrlimit(getattr(resource, name))[0]
                        for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CPU")
                    }},
                }}
                _try(lambda: _spoil("benchmarks/leaderboard/results"))  # the default folder, relative
                if "--results" in argv:
                    _try(lambda: _spoil(argv[argv.index("--results") + 1]))
                child = os.fork()
                if child == 0:
                    time.sleep(600)
                    os._exit(0)
                seen["child"] = child
                _daemon()
                time.sleep(0.5)
                seen["daemon"] = int(EVIDENCE.with_suffix(".daemon").read_text())
                seen["daemon_sid"] = os.getsid(seen["daemon"])
                EVIDENCE.write_text(json.dumps(seen))
            return np.ones(self.blocks, dtype=np.int64)
""")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped by its new parent, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status and "State:\tX" not in status


@pytest.fixture(scope="module")
def mischief(tmp_path_factory):
    """One run of the mischievous policy through `leaderboard run --results FOLDER`, the parent's working
    directory holding a results folder of its own: the folders' contents before and after, and what the
    policy saw."""
    tmp = tmp_path_factory.mktemp("mischief")
    evidence = tmp / "evidence.json"
    policy = tmp / "mischief.py"
    policy.write_text(MISCHIEF.format(evidence=str(evidence)))
    folder, default = tmp / "mine", tmp / "benchmarks" / "leaderboard" / "results"
    for where in (folder, default):
        where.mkdir(parents=True)
        (where / "EdgePartition-v0__other.json").write_text('{"decision_s": 0.5}')
        (where / "notes.txt").write_text("keep me")
    before = {where: _snapshot(where) for where in (folder, default)}
    argv = ["run", "--env", "EdgePartition-v0", "--policy", "mischief.py:Mischief", "--name", "mischief"]
    argv += ["--results", str(folder), "--time-limit", "60", "--no-progress"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(scenarios.SETS, "EdgePartition-v0", TINY)
        patch.chdir(tmp)  # the policy's file is given relative to the parent's directory
        patch.setattr(sys, "argv", ["edge-envs", "leaderboard", *argv])
        code = main(argv)
    return {
        "code": code,
        "folder": folder,
        "default": default,
        "before": before,
        "after": {where: _snapshot(where) for where in (folder, default)},
        "seen": json.loads(evidence.read_text()),
        "tmp": tmp,
    }


def _snapshot(folder: Path) -> dict:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_run__a_policy_that_spoils_the_results_folders_leaves_them_byte_identical_but_for_its_entry(mischief):
    assert mischief["code"] == 0
    after, before = mischief["after"], mischief["before"]
    assert after[mischief["default"]] == before[mischief["default"]]
    new = {name: data for name, data in after[mischief["folder"]].items() if name not in before[mischief["folder"]]}
    assert list(new) == ["EdgePartition-v0__mischief.json"]
    assert {name: after[mischief["folder"]][name] for name in before[mischief["folder"]]} == before[mischief["folder"]]


def test_run__the_worker_never_sees_the_results_folder_nor_the_parents_directory(mischief):
    seen = mischief["seen"]
    assert str(mischief["folder"]) not in json.dumps(seen["argv"]) and "--results" not in seen["argv"]
    assert seen["cwd"] != str(mischief["tmp"]) and seen["pwd"] is None
    assert seen["cwd_files"] == []  # an empty directory of its own...
    assert not Path(seen["cwd"]).exists()  # ...removed with what the policy wrote there


def test_run__the_worker_runs_in_its_own_session_under_resource_limits(mischief):
    seen = mischief["seen"]
    assert seen["sid"] == seen["pid"]
    limits = seen["limits"]
    assert limits["RLIMIT_AS"] == runner.ADDRESS_SPACE_BYTES and limits["RLIMIT_FSIZE"] == runner.FILE_BYTES
    assert 0 < limits["RLIMIT_NPROC"] < 10**6 and 0 < limits["RLIMIT_CPU"] < 10**6


def test_run__no_process_the_policy_started_outlives_the_run(mischief):
    seen = mischief["seen"]
    assert seen["daemon_sid"] != seen["sid"]  # the daemon left the worker's session (and group)
    assert [pid for pid in (seen["pid"], seen["child"], seen["daemon"]) if _alive(pid)] == []


def test_run__decision_times_are_the_parents_measure_not_the_patched_clock(mischief):
    result = json.loads((mischief["folder"] / "EdgePartition-v0__mischief.json").read_text())
    for episode in result["episodes"]:  # every act sleeps 2 ms; the policy's clock says 0 s
        assert episode["decision_s"] >= 0.002 * episode["length"]
    assert result["episodes"][0]["decision_s"] >= 0.5  # the first decision also waited half a second


def test_kill_run__kills_what_the_run_left_behind_daemons_included_and_keeps_the_rest():
    import subprocess

    runner._become_subreaper()
    older = subprocess.Popen(["sleep", "600"])
    keep = runner._descendants(os.getpid())
    # a shell that starts a daemon in its own session and exits: the daemon is adopted by this process
    subprocess.run(["sh", "-c", "setsid sleep 600 > /dev/null 2>&1 &"], check=True)
    strays = runner._descendants(os.getpid()) - keep
    no_group = 2**22 + 1  # above Linux's largest pid: no such process group
    try:
        assert len(strays) == 1 and all(_alive(pid) for pid in strays)
        runner._kill_run(no_group, keep)
        assert not any(_alive(pid) for pid in strays) and older.poll() is None
        assert runner._descendants(os.getpid()) == keep  # killed and reaped
    finally:
        older.kill()
        older.wait()


def test_run__the_parents_own_helpers_outlive_the_run(mischief):
    """multiprocessing's resource tracker, started with the worker, is this process's, not the run's."""
    from multiprocessing import resource_tracker

    pid = resource_tracker._resource_tracker._pid
    assert pid is not None and _alive(pid)
