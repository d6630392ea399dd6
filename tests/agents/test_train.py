import argparse
import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import agents.runs
import agents.train
from agents.a3c import A3COptions
from agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from agents.envs import Episode, make_env
from agents.evaluate import baseline_names, compare, format_table
from agents.generalist import GENERALIST
from agents.monitor import RunMonitor
from agents.policy import MARL_ALGOS, policy_from_payload
from agents.priced import PRICED
from agents.runs import latest_run
from agents.train import ALGOS, EXTERNAL_ALGOS, add_arguments, field_docs, make_options, train
from edge_envs_cli import main
from tests.agents.bandit import ENV_ID

TINY = ["--hidden", "8", "--rollout-steps", "8"]


def _tags(run_dir):
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return set(events.Tags()["scalars"])


@pytest.mark.parametrize(
    "algo", [a for a in ALGOS if a not in (*EXTERNAL_ALGOS, *MARL_ALGOS, GENERALIST, PRICED, "maskable-ppo")]
)
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
    expected = {
        "charts/episodic_return",
        "charts/episodic_delay",
        "charts/sps",
        "losses/value_loss",
        "losses/policy_loss",
        "losses/entropy",
    }
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
    first = train(
        ENV_ID, "ppo", 64, seed=0, logdir=tmp_path, options=make_options("ppo", ENV_ID, {"envs": 4}), progress=False
    )
    saved = load_checkpoint(first.checkpoint)
    assert (
        saved["options"]["envs"] == 4 and saved["hyperparameters"]["n_steps"] == 16
    )  # 4 copies x 16 steps = one 64-step rollout
    assert first.steps == 64 and first.updates == 1
    more = train(ENV_ID, "ppo", 128, seed=0, logdir=tmp_path, resume=True, progress=False)  # no envs given: the run's 4
    assert more.steps == 128 and more.updates == 2 and load_checkpoint(more.checkpoint)["options"]["envs"] == 4


@pytest.mark.parametrize("envs", [0, 2.5, True])
def test_train__sb3_env_copies_must_be_a_positive_integer(envs):
    with pytest.raises(ValueError, match=r"SB3Options.envs \(--envs\) must be an integer in \[1, 1024\]"):
        make_options("a2c", ENV_ID, {"envs": envs})


def test_train__cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    assert (
        main(["train", "--env", ENV_ID, "--algo", "ppo", "--envs", "0", "--steps", "64", "--logdir", str(tmp_path)])
        == 2
    )
    assert capsys.readouterr().err.strip() == (
        "edge-envs train: error: SB3Options.envs (--envs) must be an integer in [1, 1024], got 0"
    )
    assert main(["evaluate", "--checkpoint", str(tmp_path / "none.pt"), "--env", ENV_ID]) == 2
    assert "edge-envs evaluate: error: " in capsys.readouterr().err
    assert (
        main(["train", "--env", ENV_ID, "--algo", "mtl-a3c", "--envs", "4", "--steps", "64", "--logdir", str(tmp_path)])
        == 2
    )
    assert "--envs not an option of mtl-a3c" in capsys.readouterr().err


def test_train__resume_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run"):
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
    argv = [
        "evaluate",
        "--checkpoint",
        str(result.checkpoint),
        "--env",
        ENV_ID,
        "--env-kwargs",
        json.dumps({"contexts": 3}),
    ]
    assert main(argv) == 2
    assert "--checkpoint was trained on observations of length 2" in capsys.readouterr().err


def test_train_command__boolean_options_are_on_off_flags():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--env", ENV_ID, "--algo", "mtl-a3c", "--steps", "8"]
    assert parser.parse_args([*base, "--normalize-advantage"]).normalize_advantage is True
    assert parser.parse_args([*base, "--no-normalize-advantage"]).normalize_advantage is False
    assert not hasattr(parser.parse_args(base), "normalize_advantage")  # unset: the dataclass default applies


TINY_A3C = {"workers": 1, "rollout_steps": 8, "hidden": (8,)}


def test_train__the_documented_line_needs_no_workers_flag():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--env", ENV_ID, "--algo", "mtl-a3c", "--steps", "8", "--seed", "1", "--logdir", "runs"])
    assert not hasattr(args, "workers")  # absent, not None: the dataclass default applies
    assert make_options("mtl-a3c", ENV_ID, {}).workers == (os.cpu_count() or 1)


def test_train__runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(agents.runs, "run_name", lambda env_id, algo, seed: f"same__{algo}__{seed}__20260101-000000")
    options = make_options("mtl-a3c", ENV_ID, TINY_A3C)
    first = train(ENV_ID, "mtl-a3c", 16, logdir=tmp_path, options=options, progress=False)
    second = train(ENV_ID, "mtl-a3c", 16, logdir=tmp_path, options=options, progress=False)
    assert first.run_dir.name == "same__mtl-a3c__0__20260101-000000"
    assert second.run_dir.name == "same__mtl-a3c__0__20260101-000000-1"
    assert load_checkpoint(first.checkpoint)["steps"] == 16  # not overwritten by the second run


def test_latest_run__orders_suffixed_folders_by_number(tmp_path):
    for name in ["b__ppo__0__20260101-000000", "b__ppo__0__20260101-000000-2", "b__ppo__0__20260101-000000-10"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "checkpoint.pt").write_bytes(b"")
    (tmp_path / "b__ppo__1__20990101-000000").mkdir()  # another seed
    (tmp_path / "b__ppo__1__20990101-000000" / "checkpoint.pt").write_bytes(b"")
    assert latest_run(tmp_path, "b", "ppo", 0).name == "b__ppo__0__20260101-000000-10"


def test_train__resume_clears_temporaries_left_by_a_killed_write(tmp_path):
    first = train(
        ENV_ID, "mtl-a3c", 16, logdir=tmp_path, options=make_options("mtl-a3c", ENV_ID, TINY_A3C), progress=False
    )
    stale = first.run_dir / ".checkpoint.pt.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    train(ENV_ID, "mtl-a3c", 16, logdir=tmp_path, resume=True, progress=False)
    assert not stale.exists()


def test_train__sb3_checkpoints_at_the_start_after_the_first_update_then_every_k(tmp_path, monkeypatch):
    saved = []
    real_save = agents.train.save_checkpoint

    def recording_save(path, payload):
        saved.append(payload["updates"])
        return real_save(path, payload)

    monkeypatch.setattr(agents.train, "save_checkpoint", recording_save)
    result = train(ENV_ID, "a2c", 40, logdir=tmp_path, checkpoint_every=3, progress=False)  # A2C: 5-step updates
    assert result.updates == 8
    assert saved == [0, 1, 4, 7, 8]


def test_train__a_resumed_run_shows_each_step_once_in_tensorboard(tmp_path, monkeypatch):
    real_save = agents.train.save_checkpoint

    def killed_before_the_end(path, payload):  # the run dies after update 6: its checkpoint holds 48 steps
        if payload["updates"] <= 6:
            real_save(path, payload)

    monkeypatch.setattr(agents.train, "save_checkpoint", killed_before_the_end)
    options = make_options("mtl-a3c", ENV_ID, TINY_A3C)
    first = train(ENV_ID, "mtl-a3c", 64, logdir=tmp_path, options=options, checkpoint_every=3, progress=False)
    monkeypatch.undo()
    assert load_checkpoint(first.checkpoint)["steps"] == 48
    train(ENV_ID, "mtl-a3c", 64, logdir=tmp_path, resume=True, progress=False)
    events = EventAccumulator(str(first.run_dir))
    events.Reload()
    assert [e.step for e in events.Scalars("losses/value_loss")] == [8 * k for k in range(1, 9)]


@pytest.mark.slow
def test_train__resume_refuses_changed_options_but_takes_another_worker_count(tmp_path):
    options = make_options("mtl-a3c", ENV_ID, TINY_A3C)
    first = train(ENV_ID, "mtl-a3c", 16, logdir=tmp_path, options=options, progress=False)
    changed = dataclasses.replace(options, lr_actor=0.5)
    with pytest.raises(
        ValueError, match=r"--resume keeps the run's options; these differ: --lr-actor 0.5 \(the run's: 0.01\)"
    ):
        train(ENV_ID, "mtl-a3c", 32, logdir=tmp_path, options=changed, resume=True, progress=False)
    with pytest.raises(ValueError, match="--resume keeps the run's --env-kwargs {}"):
        train(ENV_ID, "mtl-a3c", 32, logdir=tmp_path, env_kwargs={"length": 4}, resume=True, progress=False)
    more = train(ENV_ID, "mtl-a3c", 32, logdir=tmp_path, options=dataclasses.replace(options, workers=2), resume=True,
                 progress=False)  # fmt: skip
    assert more.run_dir == first.run_dir and more.steps >= 32  # two asynchronous workers may pass the total


def test_train_command__resume_with_a_changed_flag_is_one_error_line(tmp_path, capsys):
    base = ["train", "--env", ENV_ID, "--algo", "mtl-a3c", "--steps", "16", "--logdir", str(tmp_path), "--no-progress"]
    assert main([*base, "--workers", "1", *TINY, "--eval-episodes", "0"]) == 0
    capsys.readouterr()
    assert main([*base, "--resume", "--lr-critic", "0.5", "--eval-episodes", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("edge-envs train: error: --resume keeps the run's options; these differ: --lr-critic 0.5")


def test_train__resume_onto_another_algorithms_checkpoint_is_named(tmp_path):
    a2c = train(ENV_ID, "a2c", 10, logdir=tmp_path, progress=False)
    impostor = tmp_path / a2c.run_dir.name.replace("__a2c__", "__ppo__")
    impostor.mkdir()
    shutil.copy(a2c.checkpoint, impostor / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=r"was written for algo 'a2c', not 'ppo'"):
        train(ENV_ID, "ppo", 20, logdir=tmp_path, resume=True, progress=False)


def test_policy_from_payload__a_ppo_checkpoint_relabelled_a2c_is_named(tmp_path):
    ppo = train(ENV_ID, "ppo", 64, logdir=tmp_path, progress=False)
    payload = {**load_checkpoint(ppo.checkpoint), "algo": "a2c"}
    relabelled = save_checkpoint(tmp_path / "relabelled.pt", payload)  # a fresh hash: the writer itself relabelled it
    with pytest.raises(CheckpointError, match=r"a a2c checkpoint needs the hyperparameters \['gamma'\]"):
        policy_from_payload(load_checkpoint(relabelled), make_env(ENV_ID))


def test_policy_from_payload__an_mtl_a3c_checkpoint_relabelled_single_head_is_named(tmp_path):
    run = train(
        ENV_ID, "mtl-a3c", 16, logdir=tmp_path, options=make_options("mtl-a3c", ENV_ID, TINY_A3C), progress=False
    )
    payload = {**load_checkpoint(run.checkpoint), "algo": "a3c"}
    with pytest.raises(CheckpointError, match=r"a a3c checkpoint holds the network of mtl-a3c \(single_head=False\)"):
        policy_from_payload(payload)


def test_monitor__the_progress_bar_stops_at_the_total(tmp_path):
    monitor = RunMonitor(tmp_path, 100, progress=True)
    monitor.advance(64)
    monitor.advance(150)  # a rollout that ends past the budget
    assert (monitor._bar.n, monitor.steps) == (100, 150)
    monitor.close()


def test_compare__shows_progress_over_every_policy_and_episode(capsys):
    compare(RandomPolicy(), ENV_ID, None, 2, 0, (), label="agent", progress=True)
    assert "evaluation: 100%" in capsys.readouterr().err


def test_format_table__one_episode_has_no_interval_not_nan():
    rows = {"agent": [Episode(3.0, 8)], "other": [Episode(1.0, 8), Episode(3.0, 8)]}
    table = format_table(rows)
    assert "| agent | 1 | 3 (1 episode, no CI) |" in table and "nan" not in table
    assert "| other | 2 | 2 ± 13 |" in table  # t_{0.975,1} = 12.706 times sd sqrt(2) / sqrt(2)


def test_baseline_names__all_lists_one_name_per_policy_and_unknown_names_are_refused():
    names = baseline_names("all", "EdgePartition-v0")
    assert "random" in names and "rpdi" not in names  # one policy, one row
    with pytest.raises(ValueError, match=r"--baselines: unknown baseline\(s\) \['bogus'\] for EdgePartition-v0"):
        baseline_names("greedy,bogus", "EdgePartition-v0")
    assert baseline_names("all", ENV_ID) == []  # an env without baselines: none


def test_sb3__progress_bar_dependencies_are_installed():
    from stable_baselines3 import A2C

    model = A2C("MlpPolicy", make_env(ENV_ID), n_steps=4, seed=0, device="cpu")
    assert model.learn(8, progress_bar=True).num_timesteps == 8  # raises ImportError without tqdm and rich


class RandomPolicy:
    def __init__(self):
        self.rng = np.random.default_rng(0)

    def act(self, observation, info):
        return self.rng.integers(0, 3, size=3)


@pytest.mark.slow
def test_train_command__maskable_ppo_trains_edge_upload_into_a_new_run_folder(tmp_path, capsys):
    argv = ["train", "--env", "EdgeUpload-v0", "--algo", "maskable-ppo", "--steps", "64", "--logdir", str(tmp_path)]
    assert main([*argv, "--eval-episodes", "1", "--baselines", "direct", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| maskable-ppo | 1 |" in out and "| direct | 1 |" in out
    (run_dir,) = tmp_path.glob("EdgeUpload-v0__maskable-ppo__0__*")
    assert load_checkpoint(run_dir / "checkpoint.pt")["steps"] >= 64


def test_train_command__external_algos_refuse_resume(tmp_path, capsys):
    argv = ["train", "--env", "EdgeUpload-v0", "--algo", "rllib-ppo", "--steps", "64", "--logdir", str(tmp_path)]
    assert main([*argv, "--resume"]) == 2
    assert "--resume is not available for rllib-ppo" in capsys.readouterr().err
