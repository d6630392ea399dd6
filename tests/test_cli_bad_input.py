"""Bad input to the ``edge-envs`` command: each case ends in exactly one line ``edge-envs CMD: error: ...``
that names what is wrong, with exit status 2 and no traceback (issue 13, item 13).

Cases run in-process through ``edge_envs_cli.main`` (fast); a few also through ``python -m
edge_envs_cli`` to check the real entry point. The API-level cases are in tests/agents/test_bad_input.py.
"""

import json
import subprocess
import sys

import pytest
import torch

from agents.checkpoint import save_checkpoint
from agents.train import make_options, train
from edge_envs_cli import main
from tests.agents.bandit import ENV_ID

BANDIT = ["--env", ENV_ID]
HUGE = '{"blocks": 12, "choices": 5}'  # 5^12 joint actions


def _one_error_line(argv, capsys) -> str:
    """Run the command; check exit 2 and a single error line without a traceback; return the line."""
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _train(tmp_path, *extra, algo="mtl-a3c", env=BANDIT):
    return ["train", *env, "--algo", algo, "--steps", "16", "--logdir", str(tmp_path / "runs"), "--no-progress", *extra]


TRAIN_CASES = {
    "unknown env id": (["--env", "Bogus-v0"], "mtl-a3c", "unknown env id (--env) 'Bogus-v0'"),
    "env id of a module that is not there": (["--env", "no_such_pkg:Env-v0"], "ppo", "unknown env id (--env)"),
    "env kwargs bad JSON": ([*BANDIT, "--env-kwargs", "{bad"], "mtl-a3c", "--env-kwargs is not valid JSON"),
    "env kwargs a list": ([*BANDIT, "--env-kwargs", "[1, 2]"], "mtl-a3c", "--env-kwargs must be a JSON object"),
    "env kwargs a number": ([*BANDIT, "--env-kwargs", "3"], "ppo", "--env-kwargs must be a JSON object"),
    "env kwargs a string": ([*BANDIT, "--env-kwargs", '"x"'], "a2c", "--env-kwargs must be a JSON object"),
    "env kwargs null": ([*BANDIT, "--env-kwargs", "null"], "dqn", "--env-kwargs must be a JSON object"),
    "env kwargs unknown keyword": ([*BANDIT, "--env-kwargs", '{"bogus": 1}'], "mtl-a3c", "(--env-kwargs)"),
    "seed negative": ([*BANDIT, "--seed", "-1"], "mtl-a3c", "seed (--seed) must be an integer in [0, 4294967295]"),
    "seed too large": ([*BANDIT, "--seed", str(2**32)], "ppo", "seed (--seed) must be an integer in [0, 4294967295]"),
    "steps zero": ([*BANDIT, "--steps", "0"], "mtl-a3c", "steps (--steps) must be an integer in [1, inf], got 0"),
    "steps negative": ([*BANDIT, "--steps", "-5"], "ppo", "steps (--steps) must be an integer in [1, inf], got -5"),
    "checkpoint every negative": ([*BANDIT, "--checkpoint-every", "-1"], "mtl-a3c", "(--checkpoint-every)"),
    "gamma 2 for A3C": ([*BANDIT, "--gamma", "2"], "mtl-a3c", "A3COptions.gamma must be in [0, 1], got 2.0"),
    "gamma nan for A3C": ([*BANDIT, "--gamma", "nan"], "a3c", "A3COptions.gamma must be in [0, 1], got nan"),
    "gamma 2 for PPO": ([*BANDIT, "--gamma", "2"], "ppo", "SB3Options.gamma (--gamma) must be a number in [0.0, 1.0]"),
    "gamma nan for A2C": ([*BANDIT, "--gamma", "nan"], "a2c", "SB3Options.gamma (--gamma) must be a number in"),
    "gamma negative for DQN": ([*BANDIT, "--gamma", "-0.1"], "dqn", "SB3Options.gamma (--gamma)"),
    "gamma inf for PPO": ([*BANDIT, "--gamma", "inf"], "ppo", "SB3Options.gamma (--gamma)"),
    "eval episodes negative": ([*BANDIT, "--eval-episodes", "-1"], "mtl-a3c", "--eval-episodes must be >= 0"),
    "baselines bogus": (["--env", "EdgePartition-v0", "--baselines", "greedy,bogus"], "mtl-a3c",
                        "--baselines: unknown baseline(s) ['bogus'] for EdgePartition-v0"),
    "baselines for an env without any": ([*BANDIT, "--baselines", "greedy"], "ppo", f"--baselines: {ENV_ID} has no"),
    "env copies zero": ([*BANDIT, "--envs", "0"], "ppo", "SB3Options.envs (--envs) must be an integer in [1, 1024]"),
    "env copies for A3C": ([*BANDIT, "--envs", "2"], "mtl-a3c", "--envs not an option of mtl-a3c"),
    "A3C option for PPO": ([*BANDIT, "--lr-actor", "0.1"], "ppo", "--lr-actor not an option of ppo"),
    "workers zero": ([*BANDIT, "--workers", "0"], "mtl-a3c", "A3COptions.workers must be >= 1, got 0"),
    "learning rate negative": ([*BANDIT, "--lr-actor", "-1"], "mtl-a3c", "A3COptions.lr_actor must be > 0"),
    "learning rate nan": ([*BANDIT, "--lr-critic", "nan"], "a3c", "A3COptions.lr_critic must be > 0"),
    "hidden width zero": ([*BANDIT, "--hidden", "0"], "mtl-a3c", "A3COptions.hidden must be at least one layer"),
    "rollout steps zero": ([*BANDIT, "--rollout-steps", "0"], "mtl-a3c", "A3COptions.rollout_steps must be >= 1"),
    "entropy weight negative": ([*BANDIT, "--entropy-coef", "-1"], "mtl-a3c", "A3COptions.entropy_coef must be >= 0"),
    "RMSProp decay 1": ([*BANDIT, "--rmsprop-alpha", "1"], "mtl-a3c", "A3COptions.rmsprop_alpha must be in [0, 1)"),
    "resume without a run": ([*BANDIT, "--resume"], "mtl-a3c", "--resume: no run"),
    "unknown algo": ([*BANDIT], "bogus", "argument --algo: invalid choice: 'bogus'"),
    "steps not a number": ([*BANDIT, "--steps", "abc"], "ppo", "argument --steps: invalid int value: 'abc'"),
    "seed not an integer": ([*BANDIT, "--seed", "1.5"], "ppo", "argument --seed: invalid int value: '1.5'"),
    "joint space too large for DQN": ([*BANDIT, "--env-kwargs", HUGE], "dqn", "more than the 100000"),
    "joint space too large for A3C": ([*BANDIT, "--env-kwargs", HUGE], "a3c", "more than the 100000"),
    "SB3 on a PettingZoo env": (["--env", "tests.agents.multi_bandit"], "ppo", "is a PettingZoo env"),
    "A3C warm start on a PettingZoo env": (["--env", "edge_partition_multi_v0", "--imitation-steps", "8",
                                            "--imitation-teacher", "greedy"], "mtl-a3c",
                                           "imitation_steps: mtl-a3c's warm start imitates a teacher in Gymnasium"),
}  # fmt: skip


@pytest.mark.parametrize("extra, algo, message", TRAIN_CASES.values(), ids=TRAIN_CASES.keys())
def test_train_command__bad_input_is_one_named_error_line(tmp_path, capsys, extra, algo, message):
    argv = ["train", "--algo", algo, "--steps", "16", "--logdir", str(tmp_path / "runs"), "--no-progress", *extra]
    line = _one_error_line(argv, capsys)
    assert line.startswith("edge-envs train: error: ") and message in line, line
    assert not any((tmp_path / "runs").glob("*/checkpoint.pt"))  # refused before any training


def test_train_command__missing_required_flag(tmp_path, capsys):
    line = _one_error_line(["train", "--algo", "ppo", "--steps", "8"], capsys)
    assert line.startswith("edge-envs train: error: the following arguments are required: --env")


def test_train_command__logdir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    line = _one_error_line([*_train(tmp_path)[:-3], "--logdir", str(tmp_path / "file"), "--no-progress"], capsys)
    assert line == f"edge-envs train: error: --logdir {tmp_path / 'file'} is a file, not a folder"


def test_train_command__logdir_that_cannot_be_created(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    line = _one_error_line(
        [*_train(tmp_path)[:-3], "--logdir", str(tmp_path / "file" / "runs"), "--no-progress"], capsys
    )
    assert line.startswith(f"edge-envs train: error: --logdir {tmp_path / 'file' / 'runs'} cannot be created")


@pytest.mark.parametrize("field", ["num_blocks", "task_rate"])
def test_train_command__env_config_out_of_range_names_the_field(tmp_path, capsys, field):
    env = ["--env", "EdgePartition-v0", "--env-kwargs", json.dumps({field: -1})]
    line = _one_error_line(_train(tmp_path, env=env), capsys)
    assert line.startswith("edge-envs train: error: ") and field in line


def test_train_command__profile_path_that_is_a_folder(tmp_path, capsys):
    env = ["--env", "EdgePartition-v0", "--env-kwargs", json.dumps({"local_profile": str(tmp_path)})]
    assert _one_error_line(_train(tmp_path, env=env), capsys).startswith("edge-envs train: error: ")


def test_train_command__profile_that_is_not_utf8(tmp_path, capsys):
    profile = tmp_path / "profile.json"
    profile.write_bytes(b"\xff\xfe\x00not text")
    env = ["--env", "EdgePartition-v0", "--env-kwargs", json.dumps({"local_profile": str(profile)})]
    assert _one_error_line(_train(tmp_path, env=env), capsys).startswith("edge-envs train: error: ")


# evaluate


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny mtl-a3c checkpoint and a tiny PPO checkpoint on the bandit."""
    logdir = tmp_path_factory.mktemp("runs")
    options = make_options("mtl-a3c", ENV_ID, {"workers": 1, "rollout_steps": 8, "hidden": (8,)})
    a3c = train(ENV_ID, "mtl-a3c", 16, logdir=logdir, options=options, progress=False)
    ppo = train(ENV_ID, "ppo", 64, logdir=logdir, progress=False)
    return a3c.checkpoint, ppo.checkpoint


def _evaluate(checkpoint, *extra):
    return ["evaluate", "--checkpoint", str(checkpoint), *BANDIT, "--episodes", "1", "--no-progress", *extra]


def _altered(trained, tmp_path, change) -> str:
    raw = torch.load(trained[0], weights_only=True)
    path = tmp_path / "altered.pt"
    torch.save(change(raw), path)
    return str(path)


def _rewritten(trained, tmp_path, change, which=0) -> str:
    """A checkpoint changed and written by the project's writer (so its content hash is right)."""
    raw = torch.load(trained[which], weights_only=True)
    return str(
        save_checkpoint(
            tmp_path / "rewritten.pt",
            {k: v for k, v in change(raw).items() if k not in ("format", "version", "sha256")},
        )
    )


def _without(key):
    return lambda raw: {k: v for k, v in raw.items() if k != key}


def _garbage(tmp_path) -> str:
    (tmp_path / "garbage.pt").write_bytes(b"garbage")
    return str(tmp_path / "garbage.pt")


def _nan_weights(raw):
    model = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in raw["model"].items()}
    return {**raw, "model": model}


def _flip_bytes(trained, tmp_path) -> str:
    data = bytearray(open(trained[0], "rb").read())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path = tmp_path / "flipped.pt"
    path.write_bytes(bytes(data))
    return str(path)


EVALUATE_CASES = {
    "missing checkpoint": (lambda t, p: str(p / "none.pt"), [], "no checkpoint at"),
    "checkpoint is a folder": (lambda t, p: str(p), [], "is a folder, not a checkpoint file"),
    "checkpoint is garbage": (lambda t, p: _garbage(p), [], "not a readable checkpoint"),
    "checkpoint bytes flipped": (_flip_bytes, [], "SHA-256|not a readable checkpoint"),  # data or zip structure hit
    "checkpoint edited without its hash": (lambda t, p: _altered(t, p, lambda r: {**r, "steps": 1}), [], "SHA-256"),
    "checkpoint with NaN weights": (lambda t, p: _rewritten(t, p, _nan_weights), [], "non-finite weights"),
    "checkpoint without obs_dim": (lambda t, p: _altered(t, p, _without("obs_dim")), [], "entries ['obs_dim']"),
    "checkpoint without version": (lambda t, p: _altered(t, p, _without("version")), [], "entries ['version']"),
    "checkpoint of an older version": (lambda t, p: _altered(t, p, lambda r: {**r, "version": 1}), [], "version 1"),
    "foreign torch file": (lambda t, p: torch.save({"state_dict": {}}, p / "f.pt") or str(p / "f.pt"), [],
                           "not an edge-envs agent checkpoint"),
    "PPO checkpoint relabelled A2C": (lambda t, p: _rewritten(t, p, lambda r: {**r, "algo": "a2c"}, which=1), [],
                                      "a a2c checkpoint needs the hyperparameters ['gamma']"),
    "episodes zero": (lambda t, p: str(t[0]), ["--episodes", "0"], "--episodes must be >= 1, got 0"),
    "seed negative": (lambda t, p: str(t[0]), ["--seed", "-1"], "--seed must be >= 0, got -1"),
    "env kwargs bad JSON": (lambda t, p: str(t[0]), ["--env-kwargs", "{bad"], "--env-kwargs is not valid JSON"),
    "env kwargs not an object": (lambda t, p: str(t[0]), ["--env-kwargs", "[]"], "--env-kwargs must be a JSON object"),
    "unknown env id": (lambda t, p: str(t[0]), ["--env", "Bogus-v0"], "unknown env id (--env) 'Bogus-v0'"),
    "unknown baseline": (lambda t, p: str(t[0]), ["--baselines", "bogus"], f"--baselines: {ENV_ID} has no baselines"),
    "env with other spaces": (lambda t, p: str(t[0]), ["--env-kwargs", '{"contexts": 3}'],
                              "--checkpoint was trained on observations of length 2"),
    "episodes not a number": (lambda t, p: str(t[0]), ["--episodes", "x"], "argument --episodes: invalid int value"),
}  # fmt: skip


@pytest.mark.parametrize("make_path, extra, message", EVALUATE_CASES.values(), ids=EVALUATE_CASES.keys())
def test_evaluate_command__bad_input_is_one_named_error_line(trained, tmp_path, capsys, make_path, extra, message):
    line = _one_error_line(_evaluate(make_path(trained, tmp_path), *extra), capsys)
    assert line.startswith("edge-envs evaluate: error: ") and any(m in line for m in message.split("|")), line


def test_evaluate_command__checkpoint_flag_missing(capsys):
    line = _one_error_line(["evaluate", *BANDIT], capsys)
    assert line.startswith("edge-envs evaluate: error: one of the arguments --checkpoint --run --latest is required")


@pytest.mark.parametrize(
    "argv, message",
    [([], "the following arguments are required: COMMAND"), (["bogus"], "argument COMMAND: invalid choice: 'bogus'")],
)
def test_command__no_or_unknown_sub_command(capsys, argv, message):
    line = _one_error_line(argv, capsys)
    assert line.startswith("edge-envs: error: ") and message in line


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra, message",
    [(["--env", "Bogus-v0"], "unknown env id (--env) 'Bogus-v0'"), ([*BANDIT, "--seed", "-1"], "seed (--seed)")],
)
def test_command__bad_input_through_the_real_entry_point(tmp_path, extra, message):
    argv = [
        sys.executable,
        "-m",
        "edge_envs_cli",
        "train",
        "--algo",
        "mtl-a3c",
        "--steps",
        "8",
        "--logdir",
        str(tmp_path),
        *extra,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("edge-envs train: error: ")
    assert message in done.stderr
