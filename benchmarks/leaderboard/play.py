"""The one episode loop, used to play a policy (in the isolated worker) and to replay recorded actions."""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from benchmarks.leaderboard.scenarios import LAST, SUM


class InvalidAction(ValueError):
    """An action outside the env's action space, or one the env refused."""


def _scalar(value) -> float | None:
    """``value`` as a finite float, or None when it is not one number."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    try:
        number = float(np.asarray(value).item()) if np.ndim(value) == 0 else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


class Metrics:
    """Episode metrics from the step infos: SUM keys summed over steps, LAST keys their last value."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.values: dict[str, float] = {}

    def add(self, infos: list[dict]) -> None:
        """One step's infos (one per agent)."""
        for key, how in self.spec.items():
            numbers = [number for info in infos if (number := _scalar(info.get(key))) is not None]
            if not numbers:
                continue
            if how == SUM:
                self.values[key] = self.values.get(key, 0.0) + sum(numbers)
            elif how == LAST:
                self.values[key] = sum(numbers) / len(numbers)


def check_action(space: spaces.Space, action) -> None:
    """Raise InvalidAction unless ``action`` lies in ``space`` (a Box action may be of any float dtype)."""
    try:
        if isinstance(space, spaces.Box):
            value = np.asarray(action)
            ok = (
                value.shape == space.shape
                and np.issubdtype(value.dtype, np.number)
                and space.contains(value.astype(space.dtype))
            )
        else:
            ok = space.contains(action)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidAction(f"action {action!r} is not in the action space {space}")


def play_episode(env, seed: int, choose, metric_spec: dict) -> dict:
    """Play one episode from ``env.reset(seed=seed)``, asking ``choose(observation, info)`` for each action.

    Returns the return (summed over agents in a PettingZoo env), the length, the metrics and the
    actions taken. Every action is checked against the action space before the env sees it.
    """
    multi = hasattr(env, "possible_agents")
    observation, info = env.reset(seed=seed)
    total, length, actions, metrics = 0.0, 0, [], Metrics(metric_spec)
    while True:
        if multi:  # only the live agents act (an agent that just ended still has an observation)
            observation = {agent: observation[agent] for agent in env.agents}
            info = {agent: info.get(agent, {}) for agent in env.agents}
        action = choose(observation, info)
        if multi:
            if not isinstance(action, dict) or set(action) != set(env.agents):
                raise InvalidAction(
                    f"a PettingZoo policy returns a dict with one action per live agent {env.agents}; got {action!r}"
                )
            for agent, agent_action in action.items():
                check_action(env.action_space(agent), agent_action)
        else:
            check_action(env.action_space, action)
        try:
            observation, reward, terminated, truncated, info = env.step(action)
        except ValueError as error:  # the env's own check of the action
            raise InvalidAction(f"the env refused the action {action!r}: {error}") from None
        actions.append(action)
        length += 1
        if multi:
            total += float(sum(reward.values()))
            metrics.add(list(info.values()))
            if not env.agents:
                break
        else:
            total += float(reward)
            metrics.add([info])
            if terminated or truncated:
                break
    return {"return": total, "length": length, "metrics": metrics.values, "actions": actions}


def replay_episode(env, seed: int, actions: list, metric_spec: dict) -> dict:
    """Play the recorded ``actions`` from ``env.reset(seed=seed)``; ValueError if their number does not fit."""
    remaining = iter(actions)

    def recorded(observation, info):
        try:
            return next(remaining)
        except StopIteration:
            raise ValueError(f"the episode goes on after the {len(actions)} recorded actions") from None

    played = play_episode(env, seed, recorded, metric_spec)
    if played["length"] != len(actions):
        raise ValueError(f"the episode ends after {played['length']} steps but {len(actions)} actions are recorded")
    return played
