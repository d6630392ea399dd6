"""Workers of a SIGKILLed trainer exit within seconds (no orphaned workers or resource tracker)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agents.bandit import ENV_ID

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.slow
def test_train__sigkill_of_the_parent_ends_the_workers_and_the_resource_tracker(tmp_path):
    argv = [sys.executable, "-m", "edge_envs_cli", "train", "--env", ENV_ID, "--algo", "mtl-a3c", "--workers", "2",
            "--steps", "1000000000", "--checkpoint-every", "1", "--logdir", str(tmp_path), "--no-progress",
            "--eval-episodes", "0"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: len(_children(parent.pid)) >= 3, 60), "the workers did not start"
        children = _children(parent.pid)  # two workers and the resource tracker
        # the workers are training once the checkpoint written at the start is rewritten (every update)
        assert _wait(lambda: any(tmp_path.glob("*/checkpoint.pt")), 60)
        (checkpoint,) = tmp_path.glob("*/checkpoint.pt")
        first = checkpoint.stat().st_mtime_ns
        assert _wait(lambda: checkpoint.stat().st_mtime_ns != first, 60), "the workers did not train"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert _wait(lambda: not any(_alive(pid) for pid in children), 5), "workers outlived their parent"
