"""hindsight: the Lagrangian bound by hand, against the hindsight optimum (brute force) and every policy's return."""

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401
from baselines.edge_partition import REFERENCES, hindsight, placements, references
from edge_envs.edge_partition import core

# 27 placements a slot, 3 slots: 19,683 sequences; 110 Poisson tasks/s saturate the two servers (backlog
# carries over); below about 0.7 J the budget binds (uploading alone draws about 0.2 J a slot)
TINY = {"num_blocks": 3, "num_servers": 2, "episode_slots": 3, "task_rate": 110.0, "poisson_tasks": True}


def _tiny(budget=0.6, **overrides):
    return gym.make("EdgePartition-v0", **{**TINY, "energy_budget_j": budget, **overrides})


def _best_by_recursion(state, slots_left):
    """The best return over every placement sequence, one slot and one placement at a time."""
    if slots_left == 0:
        return 0.0
    best = -np.inf
    for placement in placements.placement_of(np.arange(placements.count(state.cfg)), state.cfg):
        nxt, outcome = core.transition(state, placement[None])
        best = max(best, float(outcome.reward[0]) + _best_by_recursion(nxt, slots_left - 1))
    return best


def test_cost_bound__by_hand():
    # slot 0: placements (energy, cost) (0, 5) and (2, 1); slot 1: (0, 4) and (1, 3); budget 1, outage 10
    hulls = [(np.array([0.0, 2.0]), np.array([5.0, 1.0])), (np.array([0.0, 1.0]), np.array([4.0, 3.0]))]
    best = np.array([1.0, 3.0])
    # cases: out in slot 0: 1 + 10 - lam; out in slot 1: g_0(lam) + 3 - lam; never: g_0 + g_1 - lam
    # price 0: (11, 1 + 3, 1 + 3); price 1: g = (min(5, 3), min(4, 4)) = (3, 4): (11 - 1, 3 + 3 - 1, 3 + 4 - 1)
    values = hindsight.case_values(np.array([0.0, 1.0]), hulls, best, 1.0, 10.0)
    np.testing.assert_allclose(values, [[11.0, 4.0, 4.0], [10.0, 5.0, 6.0]])
    # the best price of each case: out in slot 1 peaks at lam = 2 (5 + 3 - 2 = 6), never too (5 + 4 - 2 = 7)
    assert hindsight.cost_bound(hulls, best, 1.0, 10.0) == pytest.approx(6.0, rel=1e-3)
    # a budget the least-energy placements already spend: no policy avoids running out; it happens in slot 0
    hungry = [(np.array([2.0]), np.array([1.0])), (np.array([2.0]), np.array([1.0]))]
    assert hindsight.cost_bound(hungry, np.array([1.0, 1.0]), 1.0, 10.0) == pytest.approx(11.0)


def test_hindsight_return__equals_the_recursion_over_every_sequence():
    env = _tiny(episode_slots=2)
    for seed in (0, 1):
        env.reset(seed=seed)
        expected = _best_by_recursion(env.unwrapped.state.rows(np.arange(1)), 2)
        assert hindsight.hindsight_return(env, seed) == pytest.approx(expected, rel=1e-12)


def test_hindsight_return__refuses_too_many_sequences():
    with pytest.raises(ValueError, match=r"hindsight: \(N\+1\)\^\(M T\) = 27\^6 sequences exceed"):
        hindsight.hindsight_return(_tiny(episode_slots=6), 0)


@pytest.mark.parametrize("budget", [0.15, 0.6, 1000.0])
def test_lagrangian_bound__lies_between_the_hindsight_optimum_and_the_plain_bound(budget):
    env = _tiny(budget)
    tighter = 0
    for seed in range(4):
        optimum = hindsight.hindsight_return(env, seed)
        lagrangian = hindsight.lagrangian_return_bound(env, seed)
        plain = references.return_upper_bound(env, seed)
        assert optimum <= lagrangian + 1e-9 * abs(lagrangian)
        assert lagrangian <= plain + 1e-9 * abs(plain)
        tighter += lagrangian < plain - 1e-6
    assert tighter > 0 if budget < 1 else True  # a binding budget tightens it


@pytest.mark.slow
def test_lagrangian_bound__is_at_least_every_shipped_policys_return():
    env = gym.make(
        "EdgePartition-v0", episode_slots=25, poisson_tasks=True, task_rate=90.0, energy_budget_j=20.0, num_blocks=4
    )
    for seed in (0, 1):
        bound = REFERENCES["lagrangian-bound"](env, seed)
        assert bound <= REFERENCES["return-bound"](env, seed) + 1e-9
        for name in sorted(set(baselines.available("EdgePartition-v0")) - {"rpdi"}):
            policy = baselines.make_policy(name, env, seed=0)
            obs, info = env.reset(seed=seed)
            episode_return, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
                episode_return += reward
                done = terminated or truncated
            assert episode_return <= bound + 1e-9 * abs(bound), (name, seed)


def test_lagrangian_or_return_bound__falls_back_to_the_plain_bound_beyond_the_listing_limit():
    env = gym.make("EdgePartition-v0", model="resnet32", num_blocks=9, num_servers=7, episode_slots=2)
    assert REFERENCES["lagrangian-bound"](env, 0) == REFERENCES["return-bound"](env, 0)
