"""The episode loop: metrics from infos, action checks, replays."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import edge_envs  # noqa: F401
from benchmarks.leaderboard.play import InvalidAction, Metrics, check_action, play_episode, replay_episode
from benchmarks.leaderboard.scenarios import LAST, SUM


def test_metrics__sums_and_lasts_over_steps_and_agents_skipping_non_numbers():
    metrics = Metrics({"delay": SUM, "accuracy": LAST, "missing": SUM})
    metrics.add([{"delay": 1.5, "accuracy": None}])
    metrics.add([{"delay": np.float32(2.0), "accuracy": 0.5}, {"delay": 1.0, "accuracy": 0.7, "placement": [1, 2]}])
    assert metrics.values == pytest.approx({"delay": 4.5, "accuracy": 0.6})


def test_check_action__box_accepts_any_float_dtype_and_refuses_shape_and_range():
    box = spaces.Box(0.0, 1.0, (2,), np.float32)
    check_action(box, np.array([0.5, 1.0], dtype=np.float64))
    for bad in (np.array([0.5]), np.array([0.5, 2.0]), "x"):
        with pytest.raises(InvalidAction, match="not in the action space"):
            check_action(box, bad)
    with pytest.raises(InvalidAction):
        check_action(spaces.MultiDiscrete([3, 3]), np.array([0, 3]))


def test_replay__recorded_actions_give_the_same_return_and_wrong_counts_are_refused():
    env = gym.make("EdgePartition-v0", episode_slots=5)
    rng = np.random.default_rng(0)
    played = play_episode(env, 3, lambda o, i: rng.integers(0, 5, size=6), {"delay": SUM})
    assert played["length"] == 5 and len(played["actions"]) == 5
    replayed = replay_episode(env, 3, played["actions"], {"delay": SUM})
    assert replayed["return"] == played["return"] and replayed["metrics"] == played["metrics"]
    with pytest.raises(ValueError, match="goes on after the 4 recorded actions"):
        replay_episode(env, 3, played["actions"][:4], {})
    with pytest.raises(ValueError, match="6 actions are recorded"):
        replay_episode(env, 3, played["actions"] + played["actions"][:1], {})


def test_play__pettingzoo_policy_must_answer_every_live_agent():
    from edge_envs import edge_partition_multi_v0

    env = edge_partition_multi_v0.parallel_env(episode_slots=3, models=("vgg16", "nin"))
    played = play_episode(env, 0, lambda obs, info: {a: np.ones(6, dtype=np.int64) for a in obs}, {"delay": SUM})
    assert played["length"] == 3 and set(played["actions"][0]) == {"iot_0", "iot_1"}
    with pytest.raises(InvalidAction, match="one action per live agent"):
        play_episode(env, 0, lambda obs, info: {"iot_0": np.ones(6, dtype=np.int64)}, {})


def test_play__agents_that_ended_are_not_asked_to_act():
    from edge_envs import edge_partition_multi_v0

    env = edge_partition_multi_v0.parallel_env(episode_slots=4, models=("vgg16", "nin"), energy_budget_j=1.0)
    asked = []

    def choose(obs, info):  # iot_0 computes locally and spends its 1 J in the first slot; iot_1 offloads
        asked.append(sorted(obs))
        assert set(info) == set(obs)
        return {a: np.zeros(6, dtype=np.int64) if a == "iot_0" else np.ones(6, dtype=np.int64) for a in obs}

    played = play_episode(env, 0, choose, {})
    assert asked[0] == ["iot_0", "iot_1"] and asked[1:] == [["iot_1"]] * 3 and played["length"] == 4
