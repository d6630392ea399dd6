"""Helpers shared by the tests: seeded rollouts and exact trajectory comparison."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def same(first, second) -> bool:
    """Whether two traces are equal element by element, bit for bit: arrays, numbers, None, and dicts or
    tuples of them (NaN equals NaN; a length mismatch is a difference)."""
    if isinstance(first, dict) or isinstance(second, dict):
        return (
            isinstance(first, dict)
            and isinstance(second, dict)
            and first.keys() == second.keys()
            and all(same(first[key], second[key]) for key in first)
        )
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)):
        return len(first) == len(second) and all(same(a, b) for a, b in zip(first, second))
    if first is None or second is None:
        return first is None and second is None
    a, b = np.asarray(first), np.asarray(second)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def sample_action(env, info: dict):
    """A random action from ``env``'s action space, drawn among the legal ones where the env publishes
    Gymnasium's ``info["action_mask"]`` (a single env with a Discrete action)."""
    mask = info.get("action_mask") if isinstance(info, dict) else None
    if mask is not None and isinstance(env.action_space, gym.spaces.Discrete):
        return env.action_space.sample(mask=np.asarray(mask, dtype=np.int8))
    return env.action_space.sample()


def rollout(env, seed: int, steps: int, action_seed: int | None = None, info_keys: tuple[str, ...] = ()) -> list:
    """A seeded rollout of a Gymnasium env (single or vector) with random actions from its action space
    (seeded with ``action_seed``, default ``seed``): the observations, rewards, end flags and the
    ``info_keys`` of each step, resetting a single env after its episode ends (a vector env resets its
    rows itself)."""
    vector = isinstance(env, gym.vector.VectorEnv)
    observation, info = env.reset(seed=seed)
    env.action_space.seed(seed if action_seed is None else action_seed)
    trace = [observation, *(info.get(key) for key in info_keys)]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(sample_action(env, info))
        trace += [observation, reward, terminated, truncated, *(info.get(key) for key in info_keys)]
        if not vector and (terminated or truncated):
            observation, info = env.reset()
            trace.append(observation)
    return trace


def parallel_rollout(env, seed: int, steps: int) -> list:
    """A seeded rollout of a PettingZoo parallel env with random actions (each agent's action space seeded
    from ``seed``): observations, rewards, terminations and truncations of each step, until all agents
    are done or ``steps`` steps."""
    observations, _ = env.reset(seed=seed)
    for index, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + index)
    trace = [observations]
    for _ in range(steps):
        if not env.agents:
            break
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, _ = env.step(actions)
        trace += [observations, rewards, terminations, truncations]
    return trace
