"""Trained agents as policies: ``act(observation, info) -> action``, optional ``reset(seed)``.

The leaderboard and the baselines' benchmarks take these unchanged. For a PettingZoo parallel
env, ``act`` maps the dict of observations to a dict of actions (one network for all agents).
``load_policy(path, env)`` rebuilds any checkpoint written by ``edge-envs train``.
"""

from __future__ import annotations

import numpy as np

from agents.checkpoint import load_checkpoint
from agents.networks import ActorCritic
from agents.spaces import JointActionCodec


class A3CPolicy:
    """The actor of a trained (multi-task or single-head) A3C: argmax per branch, or a sample."""

    def __init__(self, model: ActorCritic, codec: JointActionCodec | None = None, deterministic: bool = True, seed: int | None = None):
        self.model = model.eval()
        self.codec = codec
        self.deterministic = deterministic
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        action = self.model.act(obs, self._rng, self.deterministic)
        return self.codec.decode(action[:, 0]) if self.codec is not None else action

    def act(self, observation, info=None):
        if isinstance(observation, dict):  # PettingZoo parallel env: one network for every agent
            agents = list(observation)
            actions = self._act(np.stack([observation[a] for a in agents]))
            return {a: actions[i] for i, a in enumerate(agents)}
        return self._act(np.asarray(observation)[None])[0]


class SB3Policy:
    """A Stable-Baselines3 model as a policy (DQN's joint index decoded back to per-block actions)."""

    def __init__(self, model, codec: JointActionCodec | None = None, deterministic: bool = True):
        self.model = model
        self.codec = codec
        self.deterministic = deterministic

    def act(self, observation, info=None):
        action, _ = self.model.predict(np.asarray(observation, dtype=np.float32), deterministic=self.deterministic)
        return self.codec.decode(int(action)) if self.codec is not None else np.asarray(action)


def policy_from_payload(payload: dict, env=None, deterministic: bool = True):
    """Policy of a loaded checkpoint; SB3 checkpoints need the env (their model is built on it)."""
    if payload["algo"] in ("mtl-a3c", "a3c"):
        from agents.a3c import A3COptions, build_network

        options = A3COptions(**{**payload["options"], "workers": 1})
        model, codec = build_network(payload["obs_dim"], payload["nvec"], options)
        model.load_state_dict(payload["model"])
        return A3CPolicy(model, codec, deterministic)
    from agents.sb3 import policy_from_payload as sb3_policy

    if env is None:
        raise ValueError(f"a {payload['algo']} checkpoint needs the env to rebuild its SB3 model")
    return sb3_policy(payload, env, deterministic)


def load_policy(path, env=None, deterministic: bool = True):
    """Policy of the checkpoint at ``path`` (any algorithm of ``edge-envs train``)."""
    return policy_from_payload(load_checkpoint(path), env, deterministic)
