"""The non-myopic baselines: the price by hand, pacing against exact-slot's outage, rollout's own random stream."""

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401
from baselines.edge_partition import foresight, placements
from edge_envs import edge_partition_multi_v0

# Poisson tasks over two servers; offloading draws about 0.35 J a slot at 110 tasks/s, a locally run block far more
TIGHT = {"num_blocks": 3, "num_servers": 2, "episode_slots": 30, "task_rate": 110.0, "poisson_tasks": True}


def _episode(env, policy, seed):
    obs, info = env.reset(seed=seed)
    total, done, actions = 0.0, False, []
    while not done:
        actions.append(policy.act(obs, info))
        obs, reward, terminated, truncated, info = env.step(actions[-1])
        total += reward
        done = terminated or truncated
    return total, terminated, np.array(actions)


def test_paced_index__picks_the_hull_point_within_the_allowance_and_its_price_by_hand():
    energy = np.array([0.0, 1.0, 2.0, 1.5, 4.0])
    cost = np.array([10.0, 4.0, 3.0, 9.0, 2.9])  # hull: (0, 10), (1, 4), (2, 3), (4, 2.9); (1.5, 9) dominated
    assert foresight.paced_index(cost, energy, 1.2) == (1, pytest.approx(1.0))  # price: (4 - 3) / (2 - 1)
    assert foresight.paced_index(cost, energy, 0.5) == (0, pytest.approx(6.0))
    assert foresight.paced_index(cost, energy, 10.0) == (4, 0.0)  # all affordable: the cheapest, no price


@pytest.mark.parametrize("name", ["exact-slot-paced", "exact-slot-queue", "rollout"])
def test_paced__never_runs_out_and_wins_where_exact_slot_runs_out(name):
    env = gym.make("EdgePartition-v0", **{**TIGHT, "task_rate": 60.0}, energy_budget_j=15.0)
    outages = 0
    for seed in range(3):
        myopic, myopic_out, _ = _episode(env, baselines.make_policy("exact-slot", env), seed)
        paced, paced_out, _ = _episode(env, baselines.make_policy(name, env, seed=0), seed)
        assert not paced_out
        if myopic_out:  # seeds 0 and 2: exact-slot spends the budget on local compute, then pays the outage
            assert paced > myopic + 100.0
            outages += 1
    assert outages == 2


def test_queue_aware__prices_the_backlog_it_leaves():
    env = gym.make("EdgePartition-v0", **TIGHT, energy_budget_j=1e6)
    env.reset(seed=0)
    state = env.unwrapped.state
    terms = placements.slot_terms(state)
    paced = baselines.make_policy("exact-slot-paced", env, queue_weight=0.0)
    aware = baselines.make_policy("exact-slot-queue", env, queue_weight=5.0)
    a = placements.placement_of(paced.priced(state, 0)[2], state.cfg)
    b = placements.placement_of(aware.priced(state, 0)[2], state.cfg)
    index = lambda p: int(np.ravel_multi_index(tuple(p), (3, 3, 3)))  # noqa: E731
    assert terms.next_wait[index(b)] <= terms.next_wait[index(a)]
    assert -terms.reward[index(a)] == pytest.approx((-terms.reward).min())  # no energy price: exact-slot's cost


def test_rollout__never_reads_the_envs_future_draws():
    env = gym.make("EdgePartition-v0", **TIGHT, energy_budget_j=3.0)
    policy = baselines.make_policy("rollout", env, samples=2, horizon=3)
    obs, info = env.reset(seed=4)
    for _ in range(3):
        obs, *_, info = env.step(baselines.make_policy("greedy", env).act(obs, info))
    state = env.unwrapped.state
    decisions = []
    for stream in (state.stream.copy(), state.stream + np.uint64(12345)):  # another future for the env
        state.stream[:] = stream
        policy.reset(seed=9)
        decisions.append(policy.act(obs, info))
    np.testing.assert_array_equal(decisions[0], decisions[1])


def test_rollout__repeats_under_the_same_seed():
    env = gym.make("EdgePartition-v0", **{**TIGHT, "episode_slots": 8}, energy_budget_j=3.0)
    policy = baselines.make_policy("rollout", env, samples=2)
    policy.reset(seed=1)
    first = _episode(env, policy, 0)
    policy.reset(seed=1)
    again = _episode(env, policy, 0)
    assert first[0] == again[0] and np.array_equal(first[2], again[2])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"queue_weight": -1.0}, "queue_weight must be a number >= 0"),
        ({"burst": 0.5}, "burst must be a number >= 1"),
        ({"horizon": 0}, r"horizon must be an integer in \[1, 64\]"),
        ({"samples": 1.5}, r"samples must be an integer in \[1, 64\]"),
    ],
)
def test_rollout__bad_options_name_the_option_and_its_range(options, message):
    env = gym.make("EdgePartition-v0", **TIGHT)
    with pytest.raises(ValueError, match=message):
        baselines.make_policy("rollout", env, **options)


def test_foresight_policies__refuse_several_devices():
    with pytest.raises(ValueError, match="exact-slot-paced: single-device envs only"):
        foresight.PacedExactSlot(edge_partition_multi_v0.parallel_env(episode_slots=2))
