"""The imitation warm start of the A3C and SB3 agents (agents.imitation) and its loss."""

import math

import numpy as np
import pytest
import torch

import baselines
from agents.a3c import A3COptions, A3CTrainer, build_network
from agents.envs import env_spaces, make_env
from agents.imitation import demonstrations, sb3_warm_start, warm_start
from agents.losses import imitation_loss
from agents.sb3 import SB3Options, SB3Trainer
from edge_envs.edge_partition import ToyGenerator

TOY = {"config": ToyGenerator.config(episode_slots=5), "generator": ToyGenerator()}


def test_imitation_loss__hand_computed():
    logits = torch.zeros(2, 3, 2)  # uniform over 2 choices: -log pi = log 2 for every branch
    values, returns = torch.zeros(2), torch.tensor([1.0, 3.0])
    terms = imitation_loss(logits, values, torch.zeros(2, 3, dtype=torch.long), returns, torch.tensor(2.0), 0.5)
    assert terms.policy.item() == pytest.approx(math.log(2.0))
    assert terms.value.item() == pytest.approx(5.0)  # (1 + 9) / 2
    assert terms.total.item() == pytest.approx(math.log(2.0) + 5.0 + 1.0)


def test_demonstrations__label_every_state_with_the_teachers_choice():
    options = A3COptions(workers=1, chain_branches=True)
    obs_dim, nvec = env_spaces(make_env("EdgePartition-v0", TOY))
    model, _ = build_network(obs_dim, nvec, options)
    obs, actions, returns = demonstrations(model, "EdgePartition-v0", TOY, "exact-slot", 10, 2, 2, 0, 0.9, 1.0)
    assert obs.shape == (20, obs_dim) and actions.shape == (20, 3)
    # rows run slot-major over the 2 copies: the first slot (empty queues) gets the hand-checked toy optimum
    assert (actions[:2] == [0, 1, 2]).all()
    assert np.isfinite(returns[:10]).all() and np.isnan(returns[10:]).all()  # values only from the teacher's round
    assert (returns[:10] < 0).all()


@pytest.mark.slow
@pytest.mark.numerics
@pytest.mark.parametrize("branch_context", [False, True])
def test_warm_start__the_network_repeats_the_teacher_on_the_toy_instance(branch_context):
    options = A3COptions(
        workers=1,
        chain_branches=True,
        branch_context=branch_context,
        imitation_teacher="exact-slot",
        imitation_steps=60,
        imitation_rounds=2,
        imitation_envs=2,
        imitation_epochs=60,
        imitation_lr=3e-3,
    )
    obs_dim, nvec = env_spaces(make_env("EdgePartition-v0", TOY))
    torch.manual_seed(0)
    model, _ = build_network(obs_dim, nvec, options)
    report = warm_start(model, "EdgePartition-v0", TOY, options, seed=0)
    assert report["samples"] == 60 and report["placement_agreement"] >= 0.9


def test_a3c_options__imitation_needs_a_teacher():
    with pytest.raises(ValueError, match="imitation_teacher"):
        A3COptions(imitation_steps=100)
    with pytest.raises(ValueError, match="imitation_rounds"):
        A3COptions(imitation_rounds=0)


SM = "ServiceMigration-v0"
SM_KWARGS = {"backend": "bound", "reward_scale": 0.01, "num_devices": 4}
SM_WARM = {
    "imitation_steps": 1600,
    "imitation_rounds": 2,
    "imitation_envs": 4,
    "imitation_epochs": 40,
    "imitation_lr": 3e-3,
}


def _teacher_agreement(act, teacher: str, episodes_seed: int = 777, steps: int = 200) -> np.ndarray:
    """Per branch, the share of ``steps`` held-out states (the teacher driving) where ``act(obs)`` repeats it."""
    env = make_env(SM, SM_KWARGS)
    policy = baselines.make_policy(teacher, env)
    obs, info = env.reset(seed=episodes_seed)
    same = []
    for _ in range(steps):
        label = np.asarray(policy.act(obs, info))
        same.append(act(np.asarray(obs, dtype=np.float32)[None])[0] == label)
        obs, _, terminated, truncated, info = env.step(label)
        if terminated or truncated:
            obs, info = env.reset()
    return np.mean(same, axis=0)


@pytest.mark.slow
@pytest.mark.numerics
def test_warm_start__mtl_a3c_repeats_sm3fl_on_service_migration():
    # K modality branches over the N edges, one rho branch (pair choices, then the grid): MultiDiscrete([8, 8, 8, 23])
    options = A3COptions(workers=1, imitation_teacher="sm3fl", **SM_WARM)
    obs_dim, nvec = env_spaces(make_env(SM, SM_KWARGS))
    torch.manual_seed(0)
    model, _ = build_network(obs_dim, nvec, options)
    untrained = _teacher_agreement(lambda obs: model.act(obs, deterministic=True), "sm3fl")
    report = warm_start(model, SM, SM_KWARGS, options, seed=0)
    trained = _teacher_agreement(lambda obs: model.act(obs, deterministic=True), "sm3fl")
    assert report["samples"] == 1600 and report["branch_agreement"] >= 0.7
    assert trained.mean() >= 0.6 and trained.mean() >= untrained.mean() + 0.35  # held-out states (1600 labels)
    assert trained[-1] >= 0.75  # the rho branch: Algorithm 1's pair


@pytest.mark.slow
@pytest.mark.numerics
def test_sb3_warm_start__ppo_argmax_repeats_exact_round_on_service_migration(tmp_path):
    options = SB3Options(imitation_teacher="exact-round", **SM_WARM)
    trainer = SB3Trainer("ppo", SM, SM_KWARGS, seed=0, total_steps=64, options=options)
    actor = lambda obs: trainer.model.predict(obs, deterministic=True)[0]  # noqa: E731
    untrained = _teacher_agreement(actor, "exact-round")
    report = sb3_warm_start(trainer.model, SM, SM_KWARGS, options, seed=0)
    trained = _teacher_agreement(actor, "exact-round")
    assert report["samples"] == 1600 and report["branch_agreement"] >= 0.7
    assert trained.mean() >= 0.6 and trained.mean() >= untrained.mean() + 0.35  # held-out states (1600 labels)


def test_imitation__a_teacher_that_is_not_a_baseline_of_the_env_is_named():
    obs_dim, nvec = env_spaces(make_env(SM, SM_KWARGS))
    a3c = A3COptions(workers=1, imitation_teacher="exact-slot", imitation_steps=10)  # EdgePartition's, not SM's
    with pytest.raises(
        ValueError, match=r"imitation_teacher 'exact-slot' is not a baseline of ServiceMigration-v0.*sm3fl"
    ):
        A3CTrainer("mtl-a3c", SM, SM_KWARGS, a3c, 0, obs_dim, nvec)
    sb3 = SB3Options(imitation_teacher="exact-slot", imitation_steps=10)
    with pytest.raises(ValueError, match=r"imitation_teacher 'exact-slot' is not a baseline of ServiceMigration-v0"):
        SB3Trainer("ppo", SM, SM_KWARGS, 0, 64, sb3)
    with pytest.raises(ValueError, match="imitation_teacher"):
        SB3Options(imitation_steps=10)
    with pytest.raises(ValueError, match="needs a MultiDiscrete action space; EdgeUpload-v0 has Discrete"):
        SB3Trainer("ppo", "EdgeUpload-v0", {}, 0, 64, SB3Options(imitation_teacher="ionn", imitation_steps=10))
    with pytest.raises(ValueError, match="for ppo and a2c, not dqn"):
        SB3Trainer("dqn", SM, SM_KWARGS, 0, 64, SB3Options(imitation_teacher="sm3fl", imitation_steps=10))


def test_a3c_options__branch_context_is_a_bool():
    with pytest.raises(ValueError, match="branch_context must be True or False, got 'yes'"):
        A3COptions(branch_context="yes")


def test_warm_start__shows_its_progress_with_the_runs_bar(tmp_path, capsys):
    from agents.monitor import RunMonitor

    options = A3COptions(workers=1, imitation_teacher="exact-slot", imitation_steps=12, imitation_rounds=2)
    obs_dim, nvec = env_spaces(make_env("EdgePartition-v0", TOY))
    model, _ = build_network(obs_dim, nvec, options)
    for progress in (True, False):
        monitor = RunMonitor(tmp_path / str(progress), 10, progress=progress)
        warm_start(model, "EdgePartition-v0", TOY, options, seed=0, monitor=monitor)
        monitor.close()
        shown = capsys.readouterr().err
        # 2 rounds of max(1, 12 // 2 // 8) = 1 step on each of the 8 env copies: 16 labelled slots
        assert ("warm start (exact-slot labels)" in shown and "16/16" in shown) == progress
