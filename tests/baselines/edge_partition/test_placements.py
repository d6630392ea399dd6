"""placements: every placement of a slot with its terms, checked against the batched core; the hull by brute force."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401
from baselines.edge_partition import placements
from edge_envs.edge_partition import core

SMALL = {"num_blocks": 3, "num_servers": 2, "episode_slots": 5, "task_rate": 110.0, "poisson_tasks": True}


def test_slot_terms__match_the_batched_core_for_every_placement():
    env = gym.make("EdgePartition-v0", **SMALL, energy_budget_j=5.0)
    env.reset(seed=3)
    for _ in range(3):  # later slots carry backlog
        state = env.unwrapped.state
        terms = placements.slot_terms(state)
        every = placements.placement_of(np.arange(27), state.cfg)
        assert every[5].tolist() == [0, 1, 2]  # lexicographic: 5 = 0*9 + 1*3 + 2
        outcome = core.slot_cost(state, every[None])
        np.testing.assert_allclose(terms.reward, outcome.reward[0], rtol=1e-12)
        np.testing.assert_allclose(terms.energy, outcome.energy[0], rtol=1e-12)
        left = outcome.queue_end[0].sum(axis=1) + outcome.device_queue_end[0]
        np.testing.assert_allclose(terms.backlog, left, rtol=1e-12, atol=1e-12)
        ends = np.concatenate([outcome.device_queue_end[0][:, None], outcome.queue_end[0]], axis=1)
        np.testing.assert_allclose(terms.next_wait, placements.next_wait(ends, 1.0), rtol=1e-12, atol=1e-12)
        env.step(every[int(np.argmin(terms.energy))])


def test_next_wait__is_the_mean_of_the_draining_backlog_by_hand():
    # 0.5 s drains in half a slot: mean of max(0, 0.5 - s) over s in [0, 1] = 0.125; 2 s: mean of 2 - s = 1.5
    assert placements.next_wait(np.array([[0.5, 0.0, 2.0]]), 1.0) == pytest.approx([1.625])


def test_lower_hull__attains_the_priced_minimum_at_every_price():
    rng = np.random.default_rng(0)
    energy, cost = rng.random(300), rng.random(300)
    hull = placements.lower_hull(energy, cost)
    assert np.all(np.diff(energy[hull]) > 0) and np.all(np.diff(cost[hull]) < 0)
    for price in (0.0, 0.1, 1.0, 3.0, 100.0):
        assert (cost[hull] + price * energy[hull]).min() == (cost + price * energy).min()


def test_lower_hull__drops_dominated_and_non_convex_points_by_hand():
    energy = np.array([0.0, 1.0, 2.0, 1.0, 3.0])
    cost = np.array([4.0, 3.0, 0.0, 5.0, 0.0])  # (1, 3) lies above the segment (0, 4)-(2, 0); (1, 5), (3, 0) dominated
    assert placements.lower_hull(energy, cost).tolist() == [0, 2]


def test_slot_terms__refuse_a_placement_space_too_large_to_list():
    env = gym.make("EdgePartition-v0", model="resnet32", num_blocks=9, num_servers=7)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"slot_terms: lists every placement.*134,217,728 exceeds"):
        placements.slot_terms(env.unwrapped.state)
