"""The commands end to end: an outsider's policy is run, validated and rendered; tampering and
failing policies are refused and leave the results folder untouched."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.leaderboard.cli import main
from benchmarks.leaderboard.results import RESULTS_DIR

ROOT = Path(__file__).resolve().parents[2]

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
    (tmp / "run.stdout").write_text(run.stdout)
    return results


@pytest.mark.slow
def test_run__outsider_policy_in_a_file_is_recorded_with_everything_needed(outsider):
    (path,) = outsider.glob("*.json")
    result = json.loads(path.read_text())
    assert path.name == "EdgePartition-v0__outsider_spread.json"
    assert result["kind"] == "submission" and result["scenario_set"]["version"] == "v2"
    assert len(result["episodes"]) == 25 and result["policy_sha256"]
    episode = result["episodes"][0]
    assert (
        {"delay", "energy", "penalty"} <= set(episode["metrics"]) and episode["decision_s"] > 0 and episode["actions"]
    )


def test_run__with_results_shows_the_entry_marked_beside_the_projects(outsider):
    out = (outsider.parent / "run.stdout").read_text()
    rows = [line.split()[1:3] for line in out.splitlines() if line[:3].strip().isdigit()]
    board = (RESULTS_DIR.parent / "LEADERBOARD.md").read_text()
    exact_slot_iqm = board.split("| exact-slot | baseline | ", 1)[1].split()[0]  # the project's board, as committed
    assert ["outsider", "spread"] in rows and ["exact-slot", exact_slot_iqm] in rows
    assert "outsider spread (yours)" in out and "random (yours)" not in out


def test_render__outside_a_checkout_shows_the_users_entries_beside_the_projects(outsider, tmp_path):
    """The package imported from elsewhere (as installed), the working directory holding only the user's folder."""
    mine = tmp_path / "my-results"
    shutil.copytree(outsider, mine)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "edge_envs_cli", "leaderboard", "render"]
    run = subprocess.run([*command, "--results", "my-results"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    board = (mine / "LEADERBOARD.md").read_text()
    assert "| outsider spread (yours) | submission |" in board and "| exact-slot | baseline |" in board
    assert "## EdgeUpload-v0" not in board  # only the envs of the user's entries
    bare = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bare.returncode == 2 and "is not a folder: nothing rendered" in bare.stderr
    assert not (tmp_path / "benchmarks").exists()


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
    for name in ("outsider spread", "greedy"):  # the copied greedy replaces the project's of that name
        assert f'<td data-v="{name}">{name} (yours)</td>' in dom
    assert '<td data-v="exact-slot">exact-slot</td>' in dom  # the project's entries beside them


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


def _one_error_line(argv, capsys) -> str:
    """``edge-envs leaderboard ...``: exit 2 and one error line, no traceback; returns the line."""
    from edge_envs_cli import main as edge_envs

    code = edge_envs(["leaderboard", *map(str, argv)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.fixture
def no_play(monkeypatch):
    """Fail the test if a policy gets played."""
    from benchmarks.leaderboard import runner

    def played(*args, **kwargs):
        raise AssertionError("the policy was played")

    monkeypatch.setattr(runner, "record", played)


RUN_GREEDY = ["run", "--env", "EdgePartition-v0", "--policy", "baseline:greedy", "--name", "g", "--no-progress"]


@pytest.mark.parametrize("limit", ["nan", "inf", "-inf", "0", "-1"])
def test_run__time_limit_not_finite_and_positive_is_refused_before_playing(tmp_path, capsys, no_play, limit):
    line = _one_error_line([*RUN_GREEDY, "--results", tmp_path, f"--time-limit={limit}"], capsys)
    assert "--time-limit must be a finite number of seconds > 0" in line


def test_run__results_path_that_is_a_file_is_refused_before_playing(tmp_path, capsys, no_play):
    (tmp_path / "file").write_text("x")
    for results in (tmp_path / "file", tmp_path / "file" / "below"):
        line = _one_error_line([*RUN_GREEDY, "--results", results], capsys)
        assert f"results folder {results}: {tmp_path / 'file'} is a file, not a folder" in line


@pytest.mark.parametrize("folder", ["missing", "empty", "references-only"])
def test_render__folder_without_entries_is_refused_and_the_board_kept(tmp_path, capsys, folder):
    results, out = tmp_path / folder, tmp_path / "board"
    out.mkdir()
    (out / "LEADERBOARD.md").write_text("a real board")
    if folder != "missing":
        results.mkdir()
    if folder == "references-only":
        shutil.copy(RESULTS_DIR / "EdgePartition-v0__reference__return-bound.json", results)
    line = _one_error_line(["render", "--results", results, "--out", out], capsys)
    assert {"missing": "is not a folder", "empty": "holds no result files", "references-only": "no entry"}[
        folder
    ] in line
    assert (out / "LEADERBOARD.md").read_text() == "a real board" and not (out / "leaderboard.html").exists()


def _copy_under_new_name(original: Path, folder: Path, name: str) -> Path:
    result = json.loads(original.read_text())
    result["name"] = name
    folder.mkdir(exist_ok=True)
    path = folder / f"{result['env']}__{name}.json"
    path.write_text(json.dumps(result))
    return path


def test_validate__copy_under_a_new_name_replays_and_is_flagged_naming_both(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    original = Path(shutil.copy(RESULTS_DIR / "EdgePartition-v0__greedy.json", results))
    copied = _copy_under_new_name(original, tmp_path / "mine", "mine")
    assert main(["validate", str(copied), "--results", str(results)]) == 0
    captured = capsys.readouterr()
    assert "1 of 1 result files replay" in captured.out
    assert captured.err.strip() == (
        f"warning: {copied} and {original} record identical actions on every episode "
        "(a copy, or one policy under two names)"
    )


def test_render__copy_is_flagged_naming_both_and_another_entry_is_not(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    for name in ("greedy", "all-local", "reference__return-bound"):
        shutil.copy(RESULTS_DIR / f"EdgePartition-v0__{name}.json", results)
    copied = _copy_under_new_name(results / "EdgePartition-v0__greedy.json", results, "mine")
    assert main(["render", "--results", str(results), "--out", str(tmp_path / "board")]) == 0
    warnings = capsys.readouterr().err.strip().splitlines()
    assert warnings == [
        f"warning: {results / 'EdgePartition-v0__greedy.json'} and {copied} record identical actions on every "
        "episode (a copy, or one policy under two names)"
    ]
