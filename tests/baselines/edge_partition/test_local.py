"""Local search over the joint placement (baselines.edge_partition.local and the local-search baseline),
checked against brute force through the numpy core."""

import itertools

import gymnasium as gym
import numpy as np
import pytest

import baselines
from baselines.edge_partition import exact, local
from baselines.edge_partition.policies import POLICIES
from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import core


def _multi_env(seed, **overrides):
    rng = np.random.default_rng(seed)
    kwargs = dict(models=("alexnet", "nin"), num_blocks=3, num_servers=2, episode_slots=10)
    env = edge_partition_multi_v0.parallel_env(task_rate=float(rng.uniform(30.0, 150.0)), **{**kwargs, **overrides})
    env.reset(seed=seed)
    for _ in range(int(rng.integers(0, 4))):  # queues carried in from a few random slots
        env.step({agent: rng.integers(0, 3, 3) for agent in env.agents})
    return env


def _joint_rewards(state, placements):
    """The slot reward of each joint placement (P, A, M) of row 0, summed over the devices, by core.slot_cost."""
    return core.slot_cost(state, placements[None]).reward.sum(axis=-1)[0]


def _neighbours(placement, n_servers):
    """Every placement one block move away from ``placement`` (A, M)."""
    out = []
    for a, m in itertools.product(*map(range, placement.shape)):
        for to in range(n_servers + 1):
            if to != placement[a, m]:
                moved = placement.copy()
                moved[a, m] = to
                out.append(moved)
    return np.array(out)


@pytest.mark.parametrize("seed", range(8))
def test_improve__ends_at_a_local_optimum_no_worse_than_its_start_priced_as_the_env_charges(seed):
    state = _multi_env(seed).unwrapped.core_state
    rng = np.random.default_rng(100 + seed)
    start = rng.integers(0, 3, (1, 2, 3))
    found = local.improve(state, start)
    assert found.reward[0] == pytest.approx(_joint_rewards(state, found.placement)[0], rel=1e-12)
    assert found.reward[0] >= _joint_rewards(state, start)[0]
    assert (_joint_rewards(state, _neighbours(found.placement[0], 2)) <= found.reward[0]).all()
    assert (found.moves[0] == 0) == np.array_equal(found.placement, start)
    np.testing.assert_array_equal(start, start.copy())  # the input is left as it was


@pytest.mark.parametrize("seed", range(4))
def test_improve__stays_at_the_brute_force_optimum_and_never_passes_it(seed):
    state = _multi_env(seed).unwrapped.core_state
    every = np.array(list(itertools.product(range(3), repeat=6)), dtype=np.int64).reshape(-1, 2, 3)  # 729
    rewards = _joint_rewards(state, every)
    best = every[int(np.argmax(rewards))][None]
    found = local.improve(state, best)
    assert found.moves[0] == 0
    np.testing.assert_array_equal(found.placement, best)
    for start in every[::97]:
        assert local.improve(state, start[None]).reward[0] <= rewards.max()


def test_improve__with_no_moves_returns_the_start_and_its_reward():
    state = _multi_env(0).unwrapped.core_state
    start = np.array([[[1, 2, 0], [0, 0, 2]]])
    found = local.improve(state, start, max_moves=0)
    np.testing.assert_array_equal(found.placement, start)
    assert found.moves[0] == 0 and found.reward[0] == pytest.approx(_joint_rewards(state, start)[0], rel=1e-12)


def test_improve__takes_a_single_device_placement_without_the_device_axis():
    env = gym.make("EdgePartition-v0", episode_slots=5)
    env.reset(seed=3)
    state = env.unwrapped.state
    optimum = exact.solve(state).placement  # (1, M), proved optimal: no move improves it
    found = local.improve(state, optimum)
    assert found.placement.shape == (1, 1, state.cfg.num_blocks) and found.moves[0] == 0


def test_improve__refuses_bad_placements_and_move_caps():
    state = _multi_env(0).unwrapped.core_state
    for bad in (np.zeros((1, 3), np.int64), np.full((1, 2, 3), 3), np.full((1, 2, 3), -1), np.zeros((1, 2, 3))):
        with pytest.raises(ValueError, match=r"placement: expected integer locations in \[0, 2\] of shape \(1, 2, 3\)"):
            local.improve(state, bad)
    for bad in (-1, True, 2.5):
        with pytest.raises(ValueError, match="max_moves must be an integer >= 0"):
            local.improve(state, np.zeros((1, 2, 3), np.int64), max_moves=bad)


def test_local_search__beats_each_start_rule_it_searches_from_and_is_deterministic():
    env = _multi_env(5)
    state = env.unwrapped.core_state
    observation = {agent: None for agent in env.agents}
    info = {agent: {} for agent in env.agents}
    starts = ("all-local", "greedy", "chain-dp")
    chosen = baselines.make_policy("local-search", env, starts=starts).act(observation, info)
    again = baselines.make_policy("local-search", env, starts=starts).act(observation, info)
    assert set(chosen) == set(env.agents)
    placement = np.stack([chosen[agent] for agent in env.possible_agents])[None]
    np.testing.assert_array_equal(placement, np.stack([again[agent] for agent in env.possible_agents])[None])
    reward = _joint_rewards(state, placement)[0]
    for name in starts:
        assert reward >= _joint_rewards(state, POLICIES[name](env).place(state, info))[0]
    assert "local-search" in baselines.available("edge_partition_multi_v0")


def test_local_search__refuses_unknown_starts_and_bad_move_caps():
    env = edge_partition_multi_v0.parallel_env(episode_slots=2)
    for bad in ((), ("pso",), ("greedy", "simplex")):
        with pytest.raises(ValueError, match=r"starts: expected one or more of \['all-local', 'apdi'"):
            baselines.make_policy("local-search", env, starts=bad)
    with pytest.raises(ValueError, match="max_moves must be an integer >= 0"):
        baselines.make_policy("local-search", env, max_moves=-2)


def test_refined__keeps_exact_slots_proved_optimum_in_the_single_env_and_counts_no_moves():
    from baselines.edge_partition.policies import Refined

    env = gym.make("EdgePartition-v0", episode_slots=4)
    observation, info = env.reset(seed=7)
    exact_slot = baselines.make_policy("exact-slot", env)
    refined = Refined(env, baselines.make_policy("exact-slot", env))
    for _ in range(4):
        action = refined.act(observation, info)
        np.testing.assert_array_equal(action, exact_slot.act(observation, info))
        observation, _, _, _, info = env.step(action)
    assert (refined.searches, refined.moves, refined.most_moves) == (4, 0, 0)
    with pytest.raises(ValueError, match="max_moves must be an integer >= 0"):
        Refined(env, exact_slot, max_moves=-1)
