"""Environments as batches of experience streams, the one interface the A3C workers see.

A stream is one sequence of (observation, action, reward) an agent learns from. A Gymnasium env
gives one stream per copy; a PettingZoo parallel env gives one stream per agent, so a single
network is shared by all agents (each agent's experience trains it). Streams reset themselves
when their episode ends and report the finished episodes.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

import edge_envs  # registers the Gymnasium ids
from agents.spaces import action_nvec, env_action, observation_dim

# Per-slot info entries summed over an episode and reported with its return (when the env has them).
METRIC_KEYS = ("delay", "penalty", "energy")


def parse_env_kwargs(text: str, flag: str = "--env-kwargs") -> dict:
    """The env keyword arguments a flag gives as a JSON object; a named error for anything else."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{flag} is not valid JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} must be a JSON object of config fields, e.g. '{{\"num_blocks\": 12}}', got {text!r}")
    return value


def pettingzoo_module(env_id: str):
    """The PettingZoo module behind ``env_id`` (e.g. "edge_partition_multi_v0"), or None for a Gymnasium id."""
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env id (--env) must be a non-empty string, got {env_id!r}")
    if env_id in edge_envs.PETTINGZOO_MODULES:
        return importlib.import_module(f"edge_envs.{env_id}")
    if "-v" in env_id or ":" in env_id or "." not in env_id:
        return None
    try:
        module = importlib.import_module(env_id)
    except ImportError:
        return None
    return module if hasattr(module, "parallel_env") else None


def make_env(env_id: str, env_kwargs: dict | None = None):
    """A Gymnasium env (``gym.make``) or a PettingZoo parallel env (``module.parallel_env()``); an
    unknown id or keyword is a ValueError that names the flag."""
    module = pettingzoo_module(env_id)
    kwargs = dict(env_kwargs or {})
    try:
        if module is not None:
            return module.parallel_env(**kwargs)
        return gym.make(env_id, **kwargs)
    except (gym.error.Error, ModuleNotFoundError) as error:
        raise ValueError(
            f"unknown env id (--env) {env_id!r} ({error}); edge-envs has {list(edge_envs.ENV_IDS)} and the "
            f"PettingZoo modules {list(edge_envs.PETTINGZOO_MODULES)}"
        ) from None
    except TypeError as error:
        if "keyword argument" not in str(error):
            raise
        raise ValueError(f"{env_id} does not take these keywords (--env-kwargs): {error}") from None


def env_spaces(env, continuous: bool = False) -> tuple[int, np.ndarray]:
    """(observation length, action nvec) of a Gymnasium env or of every agent of a parallel env;
    ``continuous``: a flat Box action space too (``agents.spaces.action_nvec``). An env whose config
    offers discrete actions (``action_levels``) is named in the error when its actions are a Box."""
    try:
        return _env_spaces(env, continuous)
    except ValueError as error:
        cfg = getattr(getattr(env, "unwrapped", env), "cfg", None)
        if cfg is None or not hasattr(cfg, "action_levels") or cfg.action_levels:
            raise
        raise ValueError(
            f"{error}; this env gives discrete actions with action_levels=L (L >= 2 weight levels per "
            "peer), e.g. --env-kwargs '{\"action_levels\": 2}' (the A3C presets set it)"
        ) from None


def _env_spaces(env, continuous: bool) -> tuple[int, np.ndarray]:
    if hasattr(env, "possible_agents"):
        dims = {
            (observation_dim(env.observation_space(a)), tuple(action_nvec(env.action_space(a), continuous)))
            for a in env.possible_agents
        }
        if len(dims) != 1:
            raise ValueError(f"a shared network needs every agent to have the same spaces; got {sorted(dims)}")
        obs_dim, nvec = dims.pop()
        return obs_dim, np.array(nvec, dtype=np.int64)
    return observation_dim(env.observation_space), action_nvec(env.action_space, continuous)


@dataclass
class Episode:
    """One finished episode of one stream."""

    episode_return: float
    length: int
    metrics: dict = field(default_factory=dict)


@dataclass
class StepBatch:
    """What one step of all streams returns (arrays over the B streams)."""

    obs: np.ndarray  # (B, D) next observations (after an automatic reset where an episode ended)
    reward: np.ndarray  # (B,)
    terminated: np.ndarray  # (B,) bool
    truncated: np.ndarray  # (B,) bool
    final_obs: np.ndarray  # (B, D) last observation of episodes that ended this step (for bootstrapping)
    episodes: list  # Episode records finished this step
    active: np.ndarray  # (B,) bool: the stream acted this step (a PettingZoo agent that has ended waits)


class EpisodeTally:
    """Running return, length and info metrics of B streams."""

    def __init__(self, num_streams: int):
        self.returns = np.zeros(num_streams)
        self.lengths = np.zeros(num_streams, dtype=np.int64)
        self.metrics = [dict() for _ in range(num_streams)]

    def add(self, i: int, reward: float, info: dict) -> None:
        self.returns[i] += reward
        self.lengths[i] += 1
        for key in METRIC_KEYS:
            value = info.get(key)
            if isinstance(value, (float, int, np.floating, np.integer)):
                self.metrics[i][key] = self.metrics[i].get(key, 0.0) + float(value)

    def close(self, i: int) -> Episode:
        episode = Episode(float(self.returns[i]), int(self.lengths[i]), self.metrics[i])
        self.returns[i], self.lengths[i], self.metrics[i] = 0.0, 0, {}
        return episode


class GymStreams:
    """``num_envs`` copies of a Gymnasium env, each one stream; seeded once, then reset on episode end."""

    def __init__(self, env_id: str, env_kwargs: dict | None, num_envs: int, seed: int):
        self.envs = [make_env(env_id, env_kwargs) for _ in range(num_envs)]
        self.obs_dim, self.nvec = env_spaces(self.envs[0])
        self.num_streams = num_envs
        self.seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(num_envs)]
        self._tally = EpisodeTally(num_envs)
        self._space = self.envs[0].action_space

    def reset(self) -> np.ndarray:
        return np.stack([np.asarray(env.reset(seed=s)[0], dtype=np.float32) for env, s in zip(self.envs, self.seeds)])

    def step(self, actions: np.ndarray) -> StepBatch:
        b = self.num_streams
        obs, final_obs = np.empty((b, self.obs_dim), np.float32), np.zeros((b, self.obs_dim), np.float32)
        reward, terminated, truncated, episodes = np.empty(b), np.zeros(b, bool), np.zeros(b, bool), []
        for i, env in enumerate(self.envs):
            o, r, term, trunc, info = env.step(env_action(self._space, actions[i]))
            reward[i], terminated[i], truncated[i] = r, term, trunc
            self._tally.add(i, r, info)
            if term or trunc:
                final_obs[i] = o
                episodes.append(self._tally.close(i))
                o, _ = env.reset()
            obs[i] = o
        return StepBatch(obs, reward, terminated, truncated, final_obs, episodes, np.ones(b, bool))


class PettingZooStreams:
    """A PettingZoo parallel env whose agents are the streams (one shared network acts for all).

    An agent whose episode ends before the others' waits (inactive) until the env's episode ends
    and the env is reset; its waiting steps are marked inactive and carry no experience.
    """

    def __init__(self, env_id: str, env_kwargs: dict | None, seed: int):
        self.env = make_env(env_id, env_kwargs)
        self.agents = list(self.env.possible_agents)
        self.obs_dim, self.nvec = env_spaces(self.env)
        self.num_streams = len(self.agents)
        self.seed = int(seed)
        self._seeded = False
        self._tally = EpisodeTally(self.num_streams)
        self._space = self.env.action_space(self.agents[0])
        self._obs = None

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=None if self._seeded else self.seed)
        self._seeded = True
        self._obs = np.stack([np.asarray(obs[a], dtype=np.float32) for a in self.agents])
        return self._obs.copy()

    def step(self, actions: np.ndarray) -> StepBatch:
        b = self.num_streams
        acting = set(self.env.agents)
        active = np.array([a in acting for a in self.agents])
        obs, rewards, terms, truncs, infos = self.env.step(
            {a: env_action(self._space, actions[i]) for i, a in enumerate(self.agents) if active[i]}
        )
        reward, terminated, truncated = np.zeros(b), np.zeros(b, bool), np.zeros(b, bool)
        final_obs, episodes = np.zeros((b, self.obs_dim), np.float32), []
        for i, a in enumerate(self.agents):
            if not active[i]:
                continue
            reward[i], terminated[i], truncated[i] = rewards[a], terms[a], truncs[a]
            self._obs[i] = obs[a]
            self._tally.add(i, reward[i], infos.get(a, {}))
            if terminated[i] or truncated[i]:
                final_obs[i] = obs[a]
                episodes.append(self._tally.close(i))
        next_obs = self.reset() if not self.env.agents else self._obs.copy()
        return StepBatch(next_obs, reward, terminated, truncated, final_obs, episodes, active)


def make_streams(env_id: str, env_kwargs: dict | None, num_envs: int, seed: int):
    """Experience streams for ``env_id``: copies of a Gymnasium env or the agents of a PettingZoo env."""
    if pettingzoo_module(env_id) is not None:
        return PettingZooStreams(env_id, env_kwargs, seed)
    return GymStreams(env_id, env_kwargs, num_envs, seed)
