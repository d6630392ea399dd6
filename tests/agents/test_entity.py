"""The size-independent placement network of EdgePartition (agents.entity)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import edge_envs  # noqa: F401  (registers the ids)
from agents.entity import EntityPlacementNet, EntityPolicy, entities, teacher_chain_features
from edge_envs.edge_partition.layout import ObservationLayout


def _net(seed: int = 0) -> EntityPlacementNet:
    torch.manual_seed(seed)
    return EntityPlacementNet(width=16)


@pytest.mark.parametrize("model, M, N", [("alexnet", 3, 2), ("vgg16", 6, 4), ("resnet32", 12, 9)])
def test_entity_policy__one_network_acts_on_every_size(model, M, N):
    policy = EntityPolicy(_net())
    env = gym.make("EdgePartition-v0", model=model, num_blocks=M, num_servers=N, episode_slots=3)
    obs, info = env.reset(seed=0)
    for _ in range(3):
        action = policy.act(obs, info)
        assert env.action_space.contains(action)
        obs, _, _, _, info = env.step(action)


def test_entity_net__permuting_servers_permutes_the_scores():
    M, N = 5, 4
    parts = ObservationLayout(M, N).parts
    rng = np.random.default_rng(0)
    obs = rng.uniform(0.05, 0.95, (3, ObservationLayout(M, N).size)).astype(np.float32)
    actions = rng.integers(0, N + 1, (3, M))
    order = np.array([2, 0, 3, 1])  # server order[i] becomes server i
    permuted = obs.copy()
    for key in ("speed", "queue", "rate"):
        permuted[:, parts[key]] = obs[:, parts[key]][:, order]
    relabel = np.concatenate([[0], 1 + np.argsort(order)])  # location of the old server j in the new order
    net = _net()
    with torch.no_grad():
        e, e_p = entities(obs, M, N), entities(permuted, M, N)
        logits = net(e, teacher_chain_features(e, actions))
        logits_p = net(e_p, teacher_chain_features(e_p, relabel[actions]))
    torch.testing.assert_close(logits_p[..., 0], logits[..., 0])  # the device's column
    torch.testing.assert_close(logits_p[..., 1:], logits[..., 1:][..., order])
    np.testing.assert_array_equal(relabel[net.act(obs, M, N)], net.act(permuted, M, N))


def test_entity_net__acting_scores_each_block_as_training_does():
    """The compiled chain decoder and the torch scores given that same chain pick the same locations."""
    M, N = 6, 3
    obs = np.random.default_rng(1).uniform(0.0, 1.0, (8, ObservationLayout(M, N).size)).astype(np.float32)
    net = _net(2)
    chosen = net.act(obs, M, N)
    e = entities(obs, M, N)
    with torch.no_grad():
        logits = net(e, teacher_chain_features(e, chosen))
    np.testing.assert_array_equal(logits.argmax(-1).numpy(), chosen)


def test_chain_features__hand_computed_transfers_and_placed_work():
    """M = 2, N = 2: block 1 after block 0 ran on server 1. Input 0.5 (squashed 1/3 -> 0.5), rates 1 and
    0.5 of the highest, so the device <-> server transfers are 0.5 and 1.0; server <-> server 0.16 x 0.5."""
    M, N = 2, 2
    lay = ObservationLayout(M, N)
    obs = np.zeros((1, lay.size), np.float32)
    obs[0, lay.parts["input_size"]] = 1.0 / 3.0  # s(0.5)
    obs[0, lay.parts["edge_latency"]] = 0.5  # s(1.0): compute 1.0 / speed
    obs[0, lay.parts["speed"]] = [1.0, 0.5]
    obs[0, lay.parts["rate"]] = [1.0, 0.5]
    e = entities(obs, M, N)
    first, got = teacher_chain_features(e, np.array([[1, 0]]))[0]  # block 0 on server 1 (work 1.0 there)
    squash = lambda x: x / (1 + x)  # noqa: E731
    np.testing.assert_allclose(got[:, 0], [0, 1, 0])  # the previous block ran on server 1
    np.testing.assert_allclose(got[:, 1], [squash(0.5), 0.0, squash(0.16 * 0.5)], rtol=1e-6)
    np.testing.assert_allclose(got[:, 2], [0.0, 0.5, 0.0])
    np.testing.assert_allclose(first[:, 0], [1, 0, 0])  # block 0: from the device, nothing placed yet
    np.testing.assert_allclose(first[:, 1], [0.0, squash(0.5), squash(1.0)], rtol=1e-6)
    np.testing.assert_allclose(first[:, 2], 0.0)
    np.testing.assert_allclose(e.compute[0, 0], [e.compute[0, 0, 0], 1.0, 2.0], rtol=1e-5)


def test_entity_net__same_seed_same_network_same_actions():
    M, N = 4, 3
    obs = np.random.default_rng(3).uniform(0.0, 1.0, (5, ObservationLayout(M, N).size)).astype(np.float32)
    np.testing.assert_array_equal(_net(7).act(obs, M, N), _net(7).act(obs, M, N))
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(0)
    sampled = _net(7).act(obs, M, N, rng_a, deterministic=False)
    np.testing.assert_array_equal(sampled, _net(7).act(obs, M, N, rng_b, deterministic=False))


def test_entity_net__samples_follow_the_softmax_of_the_scores():
    """4000 sampled chains of one observation: block 0's locations appear as often as the softmax of its scores
    says (block 0's scores do not depend on the chain), within 4 standard errors."""
    M, N, draws = 3, 3, 4000
    obs = np.random.default_rng(4).uniform(0.0, 1.0, (1, ObservationLayout(M, N).size)).astype(np.float32)
    net = _net(5)
    with torch.no_grad():  # sharper scores: probabilities about 0.21, 0.13, 0.34 and 0.32, far from uniform
        net.layers["pair_out"].weight.mul_(20.0)
    sampled = net.act(np.repeat(obs, draws, 0), M, N, np.random.default_rng(0), deterministic=False)
    e = entities(obs, M, N)
    with torch.no_grad():
        p = torch.softmax(net(e, teacher_chain_features(e, sampled[:1]))[0, 0], -1).numpy()
    seen = np.bincount(sampled[:, 0], minlength=N + 1) / draws
    assert np.all(np.abs(seen - p) < 4 * np.sqrt(p * (1 - p) / draws) + 1e-3), (seen, p)
    assert p.max() - p.min() > 0.15  # a sampler ignoring the scores would fail the check above


def test_entities__observation_of_another_size_is_a_named_error():
    with pytest.raises(ValueError, match=r"does not fit M=6 blocks and N=4 servers .*= 46"):
        entities(np.zeros((1, 45), np.float32), 6, 4)


def test_entity_policy__candidates_play_the_cheapest_chain_by_the_slot_cost():
    from edge_envs.edge_partition import core

    env = gym.make("EdgePartition-v0", num_blocks=4, num_servers=3)
    obs, info = env.reset(seed=0)
    net = _net()
    single, many = EntityPolicy(net, env), EntityPolicy(net, env, candidates=16, seed=0)
    state = env.unwrapped.state
    reward = lambda a: core.slot_cost(state, np.asarray(a)[None, None]).reward[0, 0]  # noqa: E731
    assert reward(many.act(obs, info)) >= reward(single.act(obs, info))  # the argmax chain is a candidate
    same_seed = [EntityPolicy(net, env, candidates=16, seed=0).act(obs, info) for _ in range(2)]
    np.testing.assert_array_equal(*same_seed)
    with pytest.raises(ValueError, match=r"candidates=16: pricing the chains needs the env"):
        EntityPolicy(net, candidates=16).act(obs, info)


def test_entity_policy__sizes_from_info_else_from_the_env():
    env = gym.make("EdgePartition-v0", num_blocks=4, num_servers=3)
    obs, info = env.reset(seed=0)
    net = _net()
    assert EntityPolicy(net, env).act(obs, None).shape == (4,)
    assert EntityPolicy(net).act(obs, info).shape == (4,)
    with pytest.raises(ValueError, match=r"reads M and N from info\['deadline'\]"):
        EntityPolicy(net).act(obs, {})
