"""The MS-FL paper's server-level rules on hand-made accuracies and losses, and every baseline acting validly."""

import numpy as np
import pytest
import torch

import baselines
from baselines import multiserver_fl as rules
from edge_envs import multiserver_fl_v0
from edge_envs.multiserver_fl import core


def _normalised(w):
    return np.asarray(w, dtype=float) / np.sum(w)


def test_rules__wa_weighs_by_samples_and_dwaa_by_accuracy():
    np.testing.assert_allclose(_normalised(rules.wa([0.9, 0.1], [0.1, 3.0], [100, 300])), [0.25, 0.75])
    np.testing.assert_allclose(_normalised(rules.dwaa([0.6, 0.2, 0.2], [1, 1, 1], [1, 1, 1])), [0.6, 0.2, 0.2])


def test_rules__ba_takes_the_best_model_and_prefers_its_own_on_ties():
    assert rules.ba([0.5, 0.8, 0.7], [1, 1, 1], [1, 1, 1]).tolist() == [0, 1, 0]
    assert rules.ba([0.8, 0.8, 0.7], [1, 1, 1], [1, 1, 1]).tolist() == [1, 0, 0]


def test_rules__spaa_penalises_the_loss_outlier_with_a_sigmoid_of_its_z_score():
    # losses [1, 1, 4]: mean 2, population std sqrt(2), z = [-0.707, -0.707, 1.414]
    w = rules.spaa([0.8, 0.8, 0.8], [1.0, 1.0, 4.0], [1, 1, 1])
    penalty = 1.0 / (1.0 + np.exp(np.sqrt(2.0)))
    np.testing.assert_allclose(w, [0.4, 0.4, 0.8 * penalty])
    # equal losses: no penalty beyond the common factor 1/2, so SPAA is DWAA
    np.testing.assert_allclose(_normalised(rules.spaa([0.6, 0.3], [2.0, 2.0], [1, 1])), [2 / 3, 1 / 3])


def test_rules__sa_accepts_a_peer_only_if_accuracy_rises():
    # mixture accuracy as a hand-made function of the weights: peer 1 helps, peer 2 hurts
    scores = {(1.0, 0.0, 0.0): 0.5, (0.5, 0.5, 0.0): 0.7, (0.25, 0.25, 0.5): 0.6}
    w = rules.sequential(lambda v: scores[tuple(np.round(v, 6))], 3, beta=0.5)
    np.testing.assert_allclose(w, [0.5, 0.5, 0.0])
    assert rules.sequential(lambda v: 0.5, 3).tolist() == [1.0, 0.0, 0.0]  # nothing improves: own model


def test_rules__every_baseline_acts_validly_and_frameworks_differ_in_latency():
    assert set(baselines.available("multiserver_fl_v0")) == {"wa", "sa", "ba", "dwaa", "spaa", "single-server", "cloud"}
    for name in baselines.available("multiserver_fl_v0"):
        for levels in (0, 4):
            env = multiserver_fl_v0.parallel_env(num_servers=3, num_vehicles=10, num_rounds=2, action_levels=levels)
            policy = baselines.make_policy(name, env)
            obs, infos = env.reset(seed=0)
            while env.agents:
                actions = policy.act(obs, infos)
                assert all(env.action_space(a).contains(actions[a]) for a in env.agents), (name, levels)
                obs, _, _, _, infos = env.step(actions)


def test_rules__single_server_keeps_its_own_model():
    env = multiserver_fl_v0.parallel_env(num_servers=3, num_vehicles=10, num_rounds=2, framework="single-server")
    policy = baselines.make_policy("single-server", env)
    obs, infos = env.reset(seed=0)
    local = env.core_state.local.clone()
    env.step(policy.act(obs, infos))
    assert np.array_equal(env.core_state.models.numpy(), local.numpy())


def test_rules__bad_beta_is_refused():
    with pytest.raises(ValueError, match="beta"):
        baselines.make_policy("sa", multiserver_fl_v0.parallel_env(num_vehicles=5), beta=0.0)


def test_rules__cloud_aggregates_in_its_global_rounds_and_keeps_own_models_between():
    env = multiserver_fl_v0.parallel_env(
        num_servers=3, num_vehicles=12, num_rounds=4, framework="cloud", cloud_period=2
    )
    policy = baselines.make_policy("cloud", env)
    obs, infos = env.reset(seed=1)
    local = env.state.local.clone()
    obs, _, _, _, infos = env.step(policy.act(obs, infos))  # round 1: an edge round
    assert torch.equal(env.state.models, local) and infos["rsu_0"]["cloud_s"] == 0.0
    local, samples = env.state.local.clone(), env.state.samples.copy()
    obs, _, _, _, infos = env.step(policy.act(obs, infos))  # round 2: the cloud averages by samples
    expected = torch.from_numpy((samples / samples.sum()).astype(np.float32)) @ local
    for s in range(3):
        torch.testing.assert_close(env.state.models[s], expected, rtol=1e-5, atol=1e-6)
    assert infos["rsu_0"]["cloud_s"] > 0.0


def test_rules__spaa_weighs_by_the_unclipped_losses_of_a_noisy_model():
    env = multiserver_fl_v0.parallel_env(
        num_servers=4, num_vehicles=12, num_rounds=2, num_faulty=1, fault="noise", fault_noise_std=5.0
    )
    policy = baselines.make_policy("spaa", env)
    obs, infos = env.reset(seed=0)
    loss = core.relative(env.state.loss)
    assert loss.max() > core.LOSS_CAP  # the noisy model's loss is clipped in the observation
    actions = policy.act(obs, infos)
    for i, agent in enumerate(env.possible_agents):
        acc = obs[agent][core.observation_slices(4)["acc"]]
        exact = rules.spaa(acc, loss[i], None)
        np.testing.assert_allclose(actions[agent], exact / exact.max(), rtol=1e-6)
    i = int(np.argmax(loss.max(axis=1)))  # a view where the noisy model's loss is above the cap
    acc = obs[env.possible_agents[i]][core.observation_slices(4)["acc"]]
    exact, clipped = rules.spaa(acc, loss[i], None), rules.spaa(acc, np.minimum(loss[i], core.LOSS_CAP), None)
    assert np.abs(clipped / clipped.max() - exact / exact.max()).max() > 1e-5  # clipping would change it
