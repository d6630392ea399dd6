"""Checks every registered id gets for free: API checkers, determinism, pickling, baselines."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import baselines
import edge_envs

ENV_IDS = edge_envs.ENV_IDS


def _rollout(env, seed, steps):
    """Observations, rewards and terminal flags of a seeded random-action rollout."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        trace += [obs, reward, terminated, truncated]
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs)
    return trace


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__gymnasium_check_env_passes(env_id):
    gym_check_env(gym.make(env_id).unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__sb3_check_env_passes(env_id):
    sb3_check_env(gym.make(env_id), warn=False)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__unsupported_render_mode_is_named_and_sb3_make_vec_env_works(env_id):
    with pytest.raises(ValueError, match="render_mode must be one of .*'ansi'.* got 'rgb_array'"):
        gym.make(env_id, render_mode="rgb_array")
    # SB3's make_vec_env asks for rgb_array first and falls back to no render mode on a TypeError
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env(env_id, n_envs=2, seed=0)
    assert vec.reset().shape == (2, *gym.make(env_id).observation_space.shape)
    vec.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__same_seed_and_actions_give_same_trajectory(env_id):
    first = _rollout(gym.make(env_id), seed=7, steps=20)
    second = _rollout(gym.make(env_id), seed=7, steps=20)
    assert _same(first, second)
    other = _rollout(gym.make(env_id), seed=8, steps=20)
    assert not _same(first, other)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__env_pickles_mid_episode(env_id):
    env = gym.make(env_id)
    env.reset(seed=3)
    env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    env.action_space.seed(5)
    action = env.action_space.sample()
    assert _same(env.step(action)[:4], clone.step(action)[:4])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__namespaced_id_makes_the_env(env_id):
    assert gym.make(f"edge_envs:{env_id}").spec.id == env_id


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__every_baseline_acts_validly(env_id):
    env = gym.make(env_id)
    for name in baselines.available(env_id):
        policy = baselines.make_policy(name, env)
        obs, info = env.reset(seed=0)
        if hasattr(policy, "reset"):
            policy.reset(seed=0)
        for _ in range(3):
            action = policy.act(obs, info)
            assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype)), name
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break


def test_registry__unknown_baseline_names_the_choices():
    env = gym.make("EdgePartition-v0")
    with pytest.raises(ValueError, match="available"):
        baselines.make_policy("no-such-policy", env)
