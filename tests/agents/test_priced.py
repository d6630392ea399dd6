"""The priced agent (agents.priced): exact-slot-queue's knobs learned by evolution strategies."""

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401
from agents import priced
from agents.checkpoint import load_checkpoint
from agents.monitor import RunMonitor
from agents.policy import policy_from_payload
from agents.train import train
from baselines.edge_partition import exact, placements

ENV_ID = "EdgePartition-v0"
TINY = {"num_blocks": 3, "num_servers": 2, "episode_slots": 6, "poisson_tasks": True, "task_rate": 110.0}
"""27 placements, 6 slots: every placement can be listed."""
SMALL_OPTIONS = priced.PricedOptions(candidates=8, pairs=1, episodes=1)


def every_placement(env) -> np.ndarray:
    return placements.placement_of(np.arange(placements.count(env.unwrapped.cfg)), env.unwrapped.cfg)


def test_priced__zero_prices_play_exact_slots_placement():
    # an unbounded budget (no energy price) and queue weight 0 (bias weight -1 cancels the teacher's 1)
    env = gym.make(ENV_ID, **TINY, energy_budget_j=1e9)
    weights = np.zeros((len(priced.KNOBS), len(priced.FEATURES)))
    weights[priced.KNOBS.index("queue_weight"), priced.FEATURES.index("bias")] = -1.0
    policy = priced.PricedPolicy(weights, every_placement(env), env)
    env.reset(seed=3)
    done = False
    while not done:
        state = env.unwrapped.state
        assert np.array_equal(policy.act(None), exact.solve(state).placement[0])
        _, _, terminated, truncated, _ = env.step(policy.act(None))
        done = terminated or truncated


@pytest.mark.parametrize("budget", [3.0, 1e9])  # energy priced (the budget runs short) and not
def test_priced__teacher_knobs_over_every_placement_play_exact_slot_queue(budget):
    env = gym.make(ENV_ID, **TINY, energy_budget_j=budget)
    policy = priced.PricedPolicy(np.zeros((2, 5)), every_placement(env), env)
    teacher = baselines.make_policy("exact-slot-queue", env)
    obs, info = env.reset(seed=5)
    done = False
    while not done:
        action = policy.act(obs, info)
        assert np.array_equal(action, teacher.act(obs, info))
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated


def test_priced__centred_ranks_shape_returns_and_ties_move_nothing():
    assert priced.centred_ranks(np.array([-5.0, 10.0, 0.0])) == pytest.approx([-0.5, 0.5, 0.0])
    assert priced.centred_ranks(np.array([2.0, 2.0])) == pytest.approx([0.0, 0.0])


def test_priced__knobs_are_the_teachers_plus_the_weights_linear_function():
    phi = np.array([1.0, 0.5, 0.25, 0.0, -1.0])
    weights = np.zeros((2, 5))
    weights[0, 1], weights[1, 4] = 2.0, 0.5  # log burst + 2 x 0.5; queue weight + 0.5 x -1
    assert priced.knobs(weights, phi) == pytest.approx((10.0 * np.e, 0.5))
    weights[1, 0] = -5.0  # a negative queue weight is clipped to 0, a log burst below 0 to 0
    weights[0, 0] = -10.0
    assert priced.knobs(weights, phi) == (1.0, 0.0)


def test_priced__features_read_pace_slots_backlog_and_load():
    env = gym.make(ENV_ID, **TINY, energy_budget_j=60.0)
    env.reset(seed=0)
    state = env.unwrapped.state
    state.energy_left[0, 0] = 30.0  # half the budget left at slot 0 of 6: half the pace
    state.queue[0] = [0.5, 0.0]
    state.device_queue[0] = 0.5  # one slot of backlog
    state.tasks_now[0] = 220.0  # twice the mean (110 per 1 s slot)
    assert priced.features(state) == pytest.approx([1.0, np.log(0.5), 1.0, np.log(2.0), 1.0])


def test_priced__same_seed_same_candidates_and_weights():
    runs = []
    for _ in range(2):
        trainer = priced.PricedTrainer(ENV_ID, TINY, SMALL_OPTIONS, seed=4)
        trainer.train(6 + 2 * 6 * 2, _Silent())
        runs.append((trainer.candidates, trainer.weights, trainer.steps, trainer.updates))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2:] == (30, 3)  # warm start (6 slots) + 2 iterations of 2 perturbations x 1 episode x 6 slots


def test_priced__checkpoint_round_trip_and_resume(tmp_path):
    run = train(ENV_ID, "priced", 18, seed=2, logdir=tmp_path, env_kwargs=TINY, options=SMALL_OPTIONS, progress=False)
    payload = load_checkpoint(run.checkpoint)
    assert payload["algo"] == "priced" and payload["steps"] == 18 and payload["updates"] == 2
    env = gym.make(ENV_ID, **TINY)
    loaded = policy_from_payload(payload, env)
    np.testing.assert_array_equal(loaded.weights, run.policy.weights)
    np.testing.assert_array_equal(loaded.candidates, run.policy.candidates)
    obs, info = env.reset(seed=9)
    assert np.array_equal(loaded.act(obs, info), run.policy.on(env).act(obs, info))
    resumed = train(ENV_ID, "priced", 30, seed=2, logdir=tmp_path, resume=True, progress=False)
    assert (resumed.steps, resumed.updates) == (30, 3)


def test_priced__bad_input_gets_named_errors():
    with pytest.raises(ValueError, match=r"PricedOptions.pairs \(--pairs\)"):
        priced.PricedOptions(pairs=0)
    with pytest.raises(ValueError, match=r"PricedOptions.sigma"):
        priced.PricedOptions(sigma=-1.0)
    with pytest.raises(ValueError, match="trains on EdgePartition-v0 only"):
        priced.PricedTrainer("EdgeUpload-v0", {}, SMALL_OPTIONS, 0)
    with pytest.raises(ValueError, match="build it with an env"):
        priced.PricedPolicy(np.zeros((2, 5)), np.zeros((0, 3), np.int64)).act(None)


class _Silent(RunMonitor):
    """A monitor that records nothing (the trainer's own calls only)."""

    def __init__(self):
        pass

    def episode(self, step, episode):
        pass

    def losses(self, step, values):
        pass

    def advance(self, step):
        pass


def test_priced__evolution_strategies_climb_the_return(monkeypatch):
    # the return a stand-in episode pays: minus the squared distance of the weights to a target
    target = np.arange(10.0).reshape(2, 5) / 10.0
    monkeypatch.setattr(priced, "warm_candidates", lambda env, seeds, count: np.zeros((0, 3), np.int64))
    monkeypatch.setattr(priced, "play", lambda policy, env, seed: (-float(((policy.weights - target) ** 2).sum()), 1))
    trainer = priced.PricedTrainer(ENV_ID, TINY, priced.PricedOptions(pairs=8, episodes=1, sigma=0.1, lr=0.05), 0)
    trainer.train(6 + 16 * 60, _Silent())  # the warm start's 6 slots, then 60 iterations of 16 one-slot plays
    assert trainer.updates == 61
    assert ((trainer.weights - target) ** 2).sum() < 0.05 * (target**2).sum()
