"""The imitation warm start of the A3C agents (agents.imitation) and its loss."""

import math

import numpy as np
import pytest
import torch

from agents.a3c import A3COptions, build_network
from agents.envs import env_spaces, make_env
from agents.imitation import demonstrations, warm_start
from agents.losses import imitation_loss
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


def test_a3c_options__branch_context_is_a_bool():
    with pytest.raises(ValueError, match="branch_context must be True or False, got 'yes'"):
        A3COptions(branch_context="yes")
