import numpy as np
import pytest
import torch

from agents.networks import ActorCritic


def test_actor_critic__has_one_branch_per_block_of_n_plus_one_locations():
    blocks, locations, obs_dim = 6, 5, 11
    net = ActorCritic(obs_dim, [locations] * blocks, hidden=(32, 16))
    logits, value = net(torch.randn(7, obs_dim))
    assert logits.shape == (7, blocks, locations)
    assert value.shape == (7,)
    assert net.branches.weight.shape == (blocks, locations, 16)
    assert net.branches.bias.shape == (blocks, locations)


def test_actor_critic__each_branch_depends_only_on_its_own_weights():
    net = ActorCritic(4, [3, 3, 3], hidden=(8,))
    logits = net.logits(torch.randn(5, 4))
    logits[:, 1].sum().backward()
    grad = net.branches.weight.grad
    assert grad[1].abs().sum() > 0
    assert grad[0].abs().sum() == 0 and grad[2].abs().sum() == 0


def test_actor_critic__narrow_branches_never_choose_padding():
    net = ActorCritic(3, [2, 4], hidden=(8,))
    probs = torch.softmax(net.logits(torch.randn(3, 3)), -1)
    assert torch.all(probs[:, 0, 2:] == 0)
    rng = np.random.default_rng(0)
    actions = np.concatenate([net.act(torch.randn(50, 3), rng) for _ in range(20)])
    assert actions[:, 0].max() <= 1 and actions[:, 1].max() <= 3


def test_actor_critic__narrow_branches_never_choose_padding_after_share_memory():
    # the A3C trainer moves its network to shared memory: the padding mask must survive the move
    net = ActorCritic(3, [2, 5], hidden=(8,))
    net.share_memory()
    for _ in range(20):  # allocations after the move reuse the storage the mask held before it
        torch.randn(64, 64).share_memory_()
    actions = net.act(torch.randn(200, 3), deterministic=True)
    assert actions[:, 0].max() <= 1 and actions[:, 1].max() <= 4
    assert np.array_equal(net._pad, net.branches.pad.numpy())


def test_actor_critic__sampling_follows_the_softmax():
    torch.manual_seed(0)
    net = ActorCritic(2, [3, 3], hidden=(4,))
    obs = torch.ones(20_000, 2)
    actions = net.act(obs, np.random.default_rng(1))
    probs = torch.softmax(net.logits(obs[:1]), -1)[0].detach().numpy()
    freq = np.stack([(actions == k).mean(0) for k in range(3)], axis=1)
    np.testing.assert_allclose(freq, probs, atol=0.015)


def test_actor_critic__deterministic_action_is_each_branch_argmax():
    net = ActorCritic(2, [4, 4], hidden=(4,))
    obs = torch.randn(6, 2)
    np.testing.assert_array_equal(net.act(obs, deterministic=True), net.logits(obs).argmax(-1).numpy())


def test_sharing_penalty__is_the_squared_distance_between_trunks():
    net = ActorCritic(3, [2], hidden=(4, 5))
    with torch.no_grad():
        for actor, critic in net.trunk_pairs():
            actor.fill_(1.5)
            critic.fill_(0.5)
    n_trunk_params = (3 * 4 + 4) + (4 * 5 + 5)
    assert net.sharing_penalty().item() == pytest.approx(n_trunk_params * 1.0**2)


def test_sharing_penalty__gradient_pulls_the_trunks_together():
    net = ActorCritic(3, [2], hidden=(4,))
    net.sharing_penalty().backward()
    for actor, critic in net.trunk_pairs():
        expected = 2 * (actor - critic).detach()
        torch.testing.assert_close(actor.grad, expected)
        torch.testing.assert_close(critic.grad, -expected)
    assert net.branches.weight.grad is None and net.value_head.weight.grad is None


def test_actor_critic__refuses_an_empty_trunk():
    with pytest.raises(ValueError, match="hidden"):
        ActorCritic(3, [2], hidden=())


def test_actor_critic__numpy_actor_follows_parameter_updates_and_shared_memory():
    net = ActorCritic(2, [3, 3], hidden=(4,))
    obs = torch.randn(5, 2)
    with torch.no_grad():
        net.branches.bias[:, 2] += 100.0  # in place, as the optimizer does
    assert np.all(net.act(obs, deterministic=True) == 2)
    net.share_memory()  # moves every parameter to new storage
    with torch.no_grad():
        net.branches.bias[:, 2] -= 200.0
        net.branches.bias[:, 0] += 100.0
    assert np.all(net.act(obs, deterministic=True) == 0)


def test_actor_critic__parameter_groups_split_actor_and_critic_exactly():
    net = ActorCritic(5, [3, 3], hidden=(8, 4))
    actor, critic = net.parameter_groups()
    ids = [id(p) for p in actor + critic]
    assert sorted(ids) == sorted(id(p) for p in net.parameters())  # every parameter in exactly one group
    assert {id(p) for p in net.branches.parameters()} <= {id(p) for p in actor}
    assert {id(p) for p in net.value_head.parameters()} <= {id(p) for p in critic}


def test_actor_critic__observation_stats_standardise_inputs_in_both_paths():
    torch.manual_seed(0)
    plain, normalized = ActorCritic(3, [4, 4], hidden=(8,)), ActorCritic(3, [4, 4], hidden=(8,))
    normalized.load_state_dict(plain.state_dict())
    mean, std = np.array([0.5, 2.0, 7.0]), np.array([0.1, 4.0, 0.0])  # the third feature never varies
    normalized.set_observation_stats(mean, std)
    x = np.random.default_rng(1).random((6, 3)).astype(np.float32)
    standardised = np.stack([(x[:, 0] - 0.5) / 0.1, (x[:, 1] - 2.0) / 4.0, x[:, 2]], axis=1).astype(np.float32)
    torch.testing.assert_close(normalized.logits(torch.from_numpy(x)), plain.logits(torch.from_numpy(standardised)))
    torch.testing.assert_close(normalized.value(torch.from_numpy(x)), plain.value(torch.from_numpy(standardised)))
    assert (
        normalized.act(x, deterministic=True) == plain.act(standardised, deterministic=True)
    ).all()  # numpy path too
    assert set(normalized.state_dict()) >= {"obs_shift", "obs_scale"}  # saved with the checkpoint


def _chained(prior=0.0):
    torch.manual_seed(0)
    net = ActorCritic(2, [3, 3, 3], hidden=(4,), chain=True, chain_prior=prior)
    with torch.no_grad():
        net.chain_offset.normal_()  # a chain that matters
    return net


def test_chained_branches__add_the_offset_of_the_previous_choice():
    net = _chained()
    obs, actions = torch.randn(5, 2), torch.tensor([[0, 1, 2], [2, 2, 0], [1, 0, 0], [0, 0, 0], [2, 1, 1]])
    plain = net.branches(net.actor_trunk(obs))
    chained = net.logits(obs, actions)
    torch.testing.assert_close(chained[:, 0], plain[:, 0])
    for i in (1, 2):
        torch.testing.assert_close(chained[:, i], plain[:, i] + net.chain_offset[i - 1, actions[:, i - 1]])
    with pytest.raises(ValueError, match="actions"):
        net.logits(obs)


def test_chained_branches__start_from_the_follow_prior():
    net = ActorCritic(2, [3, 3, 3], hidden=(4,), chain=True, chain_prior=10.0)
    torch.testing.assert_close(net.chain_offset, 10.0 * torch.eye(3).repeat(2, 1, 1))
    assert any(p is net.chain_offset for p in net.parameter_groups()[0])
    actions = net.act(torch.randn(200, 2), np.random.default_rng(0))
    assert (actions == actions[:, :1]).all(1).mean() > 0.95  # e^10 against at most e^2: the blocks stay together
    assert not ActorCritic(2, [3], hidden=(4,), chain=True).chain  # one branch has nothing to follow


def test_chained_branches__sampling_follows_the_chained_joint_distribution():
    net = _chained()
    obs = torch.ones(30_000, 2)
    actions = net.act(obs, np.random.default_rng(1))
    joint = np.zeros((3, 3))
    np.add.at(joint, (actions[:, 0], actions[:, 1]), 1.0)
    grid = torch.tensor([[a, b, 0] for a in range(3) for b in range(3)])
    log_probs = torch.log_softmax(net.logits(obs[:9], grid), -1).detach()
    expected = (log_probs[torch.arange(9), 0, grid[:, 0]] + log_probs[torch.arange(9), 1, grid[:, 1]]).exp()
    np.testing.assert_allclose(joint.ravel() / len(actions), expected.numpy(), atol=0.01)


def test_chained_branches__deterministic_action_decodes_branch_by_branch():
    net = _chained()
    obs = torch.randn(6, 2)
    greedy = net.act(obs, deterministic=True)
    for i in range(3):  # each branch's argmax given the choices before it
        np.testing.assert_array_equal(greedy[:, i], net.logits(obs, torch.from_numpy(greedy))[:, i].argmax(-1).numpy())


def _context(chain: bool = False) -> ActorCritic:
    torch.manual_seed(3)
    net = ActorCritic(2, [3, 2, 3, 3], hidden=(8, 6), chain=chain, chain_prior=1.0, context=True)
    with torch.no_grad():
        net.context_embedding.normal_()
    return net


def test_branch_context__starts_as_the_plain_network_and_adds_every_earlier_choice():
    torch.manual_seed(0)
    plain = ActorCritic(2, [3, 2, 3, 3], hidden=(8, 6))
    torch.manual_seed(0)
    fresh = ActorCritic(2, [3, 2, 3, 3], hidden=(8, 6), context=True)
    obs, actions = torch.randn(4, 2), torch.tensor([[0, 1, 2, 0], [2, 0, 0, 1], [1, 1, 1, 1], [0, 0, 2, 2]])
    torch.testing.assert_close(fresh.logits(obs, actions), plain.logits(obs))  # zero embeddings at the start
    net = _context()
    pre = net.actor_trunk.pre_activation(obs)
    e = net.context_embedding
    for i in range(4):  # branch i's features: tanh(pre + sum over j < i of E[j, a_j]), by hand
        seen = sum((e[j, actions[:, j]] for j in range(i)), torch.zeros_like(pre))
        expected = net.branches(torch.tanh(pre + seen))[:, i]
        torch.testing.assert_close(net.logits(obs, actions)[:, i], expected)
    assert any(p is net.context_embedding for p in net.parameter_groups()[0])
    with pytest.raises(ValueError, match="actions"):
        net.logits(obs)


@pytest.mark.parametrize("chain", [False, True])
def test_branch_context__numpy_actor_decodes_the_torch_logits_branch_by_branch(chain):
    net = _context(chain)
    obs = torch.randn(50, 2)
    greedy = net.act(obs, deterministic=True)
    np.testing.assert_array_equal(greedy, net.logits(obs, torch.from_numpy(greedy)).argmax(-1).numpy())
    sampled = net.act(obs.repeat(400, 1)[:20_000], np.random.default_rng(0))
    first = torch.log_softmax(net.logits(obs[:1], torch.zeros(1, 4, dtype=torch.long)), -1)[0, 0].exp()
    np.testing.assert_allclose(np.bincount(sampled[::50, 0], minlength=3) / 400, first.detach().numpy(), atol=0.08)


def _fit_probability(context: bool) -> float:
    """Probability a network gives, after cross-entropy fitting, to the two placements a teacher picks at
    random: [0, 0, 1, 1] and [0, 1, 1, 0] (branch 3's choice depends on branch 1's, two branches back)."""
    torch.manual_seed(0)
    net = ActorCritic(1, [2, 2, 2, 2], hidden=(8,), chain=True, chain_prior=0.0, context=context)
    labels = torch.tensor([[0, 0, 1, 1], [0, 1, 1, 0]]).repeat(64, 1)
    obs = torch.zeros(len(labels), 1)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(300):
        loss = -torch.log_softmax(net.logits(obs, labels), -1).gather(2, labels[..., None]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    log_probs = torch.log_softmax(net.logits(obs[:2], labels[:2]), -1).gather(2, labels[:2, :, None])
    return float(log_probs.detach().sum((1, 2)).exp().sum())


@pytest.mark.slow
@pytest.mark.numerics
def test_branch_context__learns_a_choice_that_depends_on_two_branches_back():
    # a chained network sees only the previous choice (1 in both at branch 3): at most 1/2 * 1/2 + 1/2 * 1/2
    assert _fit_probability(context=False) < 0.55
    assert _fit_probability(context=True) > 0.95
