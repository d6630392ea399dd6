"""The commands end to end: an outsider's policy is run, validated and rendered; tampering and
failing policies are refused and leave the results folder untouched."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.leaderboard.cli import main
from benchmarks.leaderboard.results import RESULTS_DIR

OUTSIDER = textwrap.dedent('''
    import numpy as np

    class Spread:
        """Written outside the project: block m on edge server (m mod N) + 1."""

        def __init__(self, env):
            self.servers = int(env.action_space.nvec[0]) - 1
            self.blocks = len(env.action_space.nvec)

        def act(self, observation, info):
            return np.arange(self.blocks) % self.servers + 1
''')

FAILING = textwrap.dedent("""
    import time
    import numpy as np

    class Raises:
        def act(self, observation, info):
            raise RuntimeError("my policy is broken")

    class Hangs:
        def act(self, observation, info):
            time.sleep(600)

    class Invalid:
        def act(self, observation, info):
            return np.full(6, 99)

    class Exits:
        def act(self, observation, info):
            import os
            os._exit(3)
""")


def _leaderboard(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.leaderboard", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _snapshot(folder: Path) -> dict:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def outsider(tmp_path_factory):
    """A results folder holding the run of a policy class written in a temporary file."""
    tmp = tmp_path_factory.mktemp("leaderboard")
    policy = tmp / "outsider_policy.py"
    policy.write_text(OUTSIDER)
    results = tmp / "results"
    run = _leaderboard(
        "run",
        "--env",
        "EdgePartition-v0",
        "--policy",
        f"{policy}:Spread",
        "--name",
        "outsider spread",
        "--results",
        results,
        "--time-limit",
        "60",  # the first decision also compiles the env's kernels, slow on a loaded machine
        "--no-progress",
    )
    assert run.returncode == 0, run.stderr
    return results


@pytest.mark.slow
def test_run__outsider_policy_in_a_file_is_recorded_with_everything_needed(outsider):
    (path,) = outsider.glob("*.json")
    result = json.loads(path.read_text())
    assert path.name == "EdgePartition-v0__outsider_spread.json"
    assert result["kind"] == "submission" and result["scenario_set"]["version"] == "v1"
    assert len(result["episodes"]) == 15 and result["policy_sha256"]
    episode = result["episodes"][0]
    assert (
        {"delay", "energy", "penalty"} <= set(episode["metrics"]) and episode["decision_s"] > 0 and episode["actions"]
    )


@pytest.mark.slow
def test_validate__outsider_result_replays(outsider):
    check = _leaderboard("validate", "--results", outsider)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "1 of 1 result files replay" in check.stdout


@pytest.mark.slow
def test_validate__tampered_return_or_action_is_refused_with_exit_2(outsider, tmp_path):
    from benchmarks.leaderboard.results import decode_actions, encode_actions

    (path,) = outsider.glob("*.json")
    (tmp_path / "return").mkdir()
    (tmp_path / "action").mkdir()
    result = json.loads(path.read_text())
    result["episodes"][4]["return"] += 1.0
    (tmp_path / "return" / path.name).write_text(json.dumps(result))
    result = json.loads(path.read_text())
    actions = decode_actions(result["episodes"][0]["actions"])
    actions[7] = actions[7] * 0  # every block on the device in slot 7
    result["episodes"][0]["actions"] = encode_actions(actions)
    (tmp_path / "action" / path.name).write_text(json.dumps(result))
    check = _leaderboard("validate", tmp_path / "return" / path.name, tmp_path / "action" / path.name)
    assert check.returncode == 2 and "0 of 2 result files replay" in check.stdout
    assert "episode 4 (default, seed 10004): recorded return" in check.stdout
    assert "episode 0 (default, seed 10000): recorded return" in check.stdout


@pytest.mark.slow
def test_render__page_lists_every_entry_in_headless_chromium(outsider, tmp_path):
    shutil.copy(RESULTS_DIR / "EdgePartition-v0__greedy.json", outsider)
    render = _leaderboard("render", "--results", outsider, "--out", tmp_path)
    assert render.returncode == 0, render.stderr
    assert "outsider spread" in (tmp_path / "LEADERBOARD.md").read_text()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (CI installs it: apt-get install -y chromium)")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            (tmp_path / "leaderboard.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'id="table-EdgePartition-v0"' in dom and "<svg" in dom
    for name in ("outsider spread", "greedy"):
        assert f'<td data-v="{name}">{name}</td>' in dom


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("Raises", "RuntimeError: my policy is broken"),
        ("Hangs", "no decision within 1 s"),
        ("Invalid", "InvalidAction: action array([99, 99, 99, 99, 99, 99]) is not in the action space"),
        ("Exits", "the policy's process died (exit code 3)"),
    ],
)
def test_run__failing_policy_gets_a_clear_error_and_leaves_results_byte_identical(
    outsider, tmp_path, capsys, policy, message
):
    path = tmp_path / "failing.py"
    path.write_text(FAILING)
    before = _snapshot(outsider)
    args = [
        "run",
        "--env",
        "EdgePartition-v0",
        "--policy",
        f"{path}:{policy}",
        "--name",
        policy,
        "--results",
        str(outsider),
    ]
    assert main([*args, "--time-limit", "1", "--no-progress"]) == 2
    stderr = capsys.readouterr().err
    assert "the policy failed, nothing was recorded" in stderr and message in stderr
    assert _snapshot(outsider) == before


@pytest.mark.slow
def test_run__bad_name_and_untrusted_pickle_are_refused_before_anything_runs(tmp_path):
    bad = _leaderboard(
        "run", "--env", "EdgePartition-v0", "--policy", "baseline:greedy", "--name", "../x", "--results", tmp_path
    )
    assert bad.returncode == 2 and "entry name" in bad.stderr
    pickle = _leaderboard(
        "run", "--env", "EdgePartition-v0", "--policy", "sb3:ppo:model.zip", "--name", "x", "--results", tmp_path
    )
    assert pickle.returncode == 2 and "--trust-pickle" in pickle.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_validate__committed_results_all_replay(capsys):
    """What CI checks: every result file of the project replays to its recorded returns."""
    code = main(["validate"])
    out = capsys.readouterr().out
    assert code == 0, out
