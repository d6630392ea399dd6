import json

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.checkpoint import load_checkpoint
from agents.train import ALGOS, field_docs, latest_run, make_options, train
from agents.a3c import A3COptions
from edge_envs_cli import main
from tests.agents.bandit import ENV_ID

TINY = ["--hidden", "8", "--rollout-steps", "8"]


def _tags(run_dir):
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return set(events.Tags()["scalars"])


@pytest.mark.parametrize("algo", ALGOS)
def test_train_command__smoke_runs_every_algorithm_then_evaluates(algo, tmp_path, capsys):
    argv = ["train", "--env", ENV_ID, "--algo", algo, "--steps", "64", "--seed", "1", "--logdir", str(tmp_path)]
    options = ["--workers", "1", *TINY] if algo in ("mtl-a3c", "a3c") else []
    assert main([*argv, "--eval-episodes", "2", "--no-progress", *options]) == 0
    out = capsys.readouterr().out
    assert f"| {algo} | 2 |" in out
    run_dir = latest_run(tmp_path, ENV_ID, algo, 1)
    assert run_dir.name.startswith(f"tests.agents.bandit_ContextualBandit-v0__{algo}__1__")
    payload = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert payload["algo"] == algo and payload["steps"] >= 64
    assert "charts/episodic_return" in _tags(run_dir)
    assert main(["evaluate", "--checkpoint", str(run_dir / "checkpoint.pt"), "--env", ENV_ID, "--episodes", "2"]) == 0
    assert f"| {algo} ({payload['steps']} steps) | 2 |" in capsys.readouterr().out


def test_train__logs_cleanrl_keys_and_checkpoints_every_k_updates(tmp_path, monkeypatch):
    import agents.train

    saved_updates = []
    real_save = agents.train.save_checkpoint

    def recording_save(path, payload):
        saved_updates.append(payload["updates"])
        return real_save(path, payload)

    monkeypatch.setattr(agents.train, "save_checkpoint", recording_save)
    options = make_options("mtl-a3c", ENV_ID, {"workers": 1, "rollout_steps": 8, "hidden": (8,)})
    result = train(ENV_ID, "mtl-a3c", 64, seed=0, logdir=tmp_path, options=options, checkpoint_every=3, progress=False)
    assert (result.steps, result.updates) == (64, 8)
    assert saved_updates == [0, 3, 6, 8]  # at the start, every 3 updates, and at the end
    tags = _tags(result.run_dir)
    expected = {"charts/episodic_return", "charts/episodic_delay", "charts/sps", "losses/value_loss", "losses/policy_loss", "losses/entropy"}
    assert expected <= tags
    events = EventAccumulator(str(result.run_dir))
    events.Reload()
    assert [e.step for e in events.Scalars("losses/value_loss")] == [8 * k for k in range(1, 9)]


def test_train__resume_continues_from_the_checkpoint_with_the_step_count_intact(tmp_path):
    options = make_options("mtl-a3c", ENV_ID, {"workers": 1, "rollout_steps": 8, "hidden": (8,)})
    first = train(ENV_ID, "mtl-a3c", 64, seed=2, logdir=tmp_path, options=options, progress=False)
    saved = load_checkpoint(first.checkpoint)
    # already at 64 steps: resuming to 64 changes nothing
    same = train(ENV_ID, "mtl-a3c", 64, seed=2, logdir=tmp_path, resume=True, progress=False)
    assert same.run_dir == first.run_dir and (same.steps, same.updates) == (64, 8)
    again = load_checkpoint(same.checkpoint)
    assert all(torch.equal(saved["model"][k], again["model"][k]) for k in saved["model"])
    assert all(torch.equal(a, b) for a, b in zip(saved["optimizer"]["square_avg"], again["optimizer"]["square_avg"]))
    # resuming to 128 trains 8 more updates in the same run folder
    more = train(ENV_ID, "mtl-a3c", 128, seed=2, logdir=tmp_path, resume=True, progress=False)
    assert more.run_dir == first.run_dir and (more.steps, more.updates) == (128, 16)
    assert more.episodes[0][0] > 64  # the first episode after resuming is stamped past the saved steps
    assert load_checkpoint(more.checkpoint)["options"]["hidden"] == (8,)


def test_train__resume_of_an_sb3_run_keeps_its_step_count(tmp_path):
    first = train(ENV_ID, "ppo", 64, seed=0, logdir=tmp_path, progress=False)
    assert first.steps == 64
    more = train(ENV_ID, "ppo", 128, seed=0, logdir=tmp_path, resume=True, progress=False)
    assert more.run_dir == first.run_dir and more.steps == 128 and more.updates == 2


def test_train__sb3_with_env_copies_splits_the_rollout_and_resumes_with_them(tmp_path):
    first = train(ENV_ID, "ppo", 64, seed=0, logdir=tmp_path, options=make_options("ppo", ENV_ID, {"envs": 4}), progress=False)
    saved = load_checkpoint(first.checkpoint)
    assert saved["options"]["envs"] == 4 and saved["hyperparameters"]["n_steps"] == 16  # 4 copies x 16 steps = one 64-step rollout
    assert first.steps == 64 and first.updates == 1
    more = train(ENV_ID, "ppo", 128, seed=0, logdir=tmp_path, resume=True, progress=False)  # no envs given: the run's 4
    assert more.steps == 128 and more.updates == 2 and load_checkpoint(more.checkpoint)["options"]["envs"] == 4


@pytest.mark.parametrize("envs", [0, 2.5, True])
def test_train__sb3_env_copies_must_be_a_positive_integer(envs):
    with pytest.raises(ValueError, match=r"SB3Options.envs \(--envs\) must be an integer in \[1, 1024\]"):
        make_options("a2c", ENV_ID, {"envs": envs})


def test_train__cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    assert main(["train", "--env", ENV_ID, "--algo", "ppo", "--envs", "0", "--steps", "64", "--logdir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "edge-envs train: error: SB3Options.envs (--envs) must be an integer in [1, 1024], got 0"
    )
    assert main(["evaluate", "--checkpoint", str(tmp_path / "none.pt"), "--env", ENV_ID]) == 2
    assert "edge-envs evaluate: error: " in capsys.readouterr().err
    assert main(["train", "--env", ENV_ID, "--algo", "mtl-a3c", "--envs", "4", "--steps", "64", "--logdir", str(tmp_path)]) == 2
    assert "--envs not an option of mtl-a3c" in capsys.readouterr().err


def test_train__resume_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--resume: no run"):
        train(ENV_ID, "a3c", 64, logdir=tmp_path, resume=True, progress=False)


def test_train__dqn_refuses_a_joint_space_too_large_to_enumerate(tmp_path):
    with pytest.raises(ValueError, match="more than the 100000 a single-head agent can enumerate"):
        train(ENV_ID, "dqn", 64, logdir=tmp_path, env_kwargs={"blocks": 12, "choices": 5}, progress=False)
    with pytest.raises(ValueError, match="more than the 100000"):
        train(ENV_ID, "a3c", 64, logdir=tmp_path, env_kwargs={"blocks": 12, "choices": 5}, progress=False)


def test_train__sb3_refuses_pettingzoo_envs(tmp_path):
    with pytest.raises(ValueError, match="PettingZoo env"):
        train("tests.agents.multi_bandit", "ppo", 64, logdir=tmp_path, progress=False)


def test_train_command__option_flags_come_from_the_dataclass_docstrings():
    docs = field_docs(A3COptions)
    assert docs["gamma"].startswith("discount factor")
    assert set(docs) == {f for f in A3COptions.__dataclass_fields__}


def test_evaluate_command__rejects_an_env_with_other_spaces(tmp_path, capsys):
    options = make_options("mtl-a3c", ENV_ID, {"workers": 1, "rollout_steps": 8, "hidden": (8,)})
    result = train(ENV_ID, "mtl-a3c", 16, logdir=tmp_path, options=options, progress=False)
    argv = ["evaluate", "--checkpoint", str(result.checkpoint), "--env", ENV_ID, "--env-kwargs", json.dumps({"contexts": 3})]
    assert main(argv) == 2
    assert "--checkpoint was trained on observations of length 2" in capsys.readouterr().err


def test_train_command__boolean_options_are_on_off_flags():
    import argparse

    from agents.train import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--env", ENV_ID, "--algo", "mtl-a3c", "--steps", "8"]
    assert parser.parse_args([*base, "--normalize-advantage"]).normalize_advantage is True
    assert parser.parse_args([*base, "--no-normalize-advantage"]).normalize_advantage is False
    assert not hasattr(parser.parse_args(base), "normalize_advantage")  # unset: the dataclass default applies
