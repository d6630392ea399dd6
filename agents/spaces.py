"""Action spaces the agents handle: MultiDiscrete (one choice per block), Discrete (one choice), a
flat Box (ppo and a2c only) and the flattening of a MultiDiscrete.

Inside the agents an action is a vector with one entry per dimension; ``env_action`` turns it into
what the env's space takes (an int for Discrete, not a shape-(1,) array).

The single-head A3C and DQN (the learning baselines of "Distributed DNN Inference with Fine-grained
Model Partitioning in MEC Networks", IEEE TMC 2024) choose one of the (N+1)^M joint placements at
once; ``JointActionCodec`` maps a joint index to the per-block vector and back (mixed radix, block 0
most significant) and refuses joint spaces too large to enumerate.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

# Largest joint action space the single-head agents enumerate: a 100k-way softmax or Q-head
# is still cheap; beyond it (e.g. 5^12 = 244M placements) only the branched agents can act.
MAX_JOINT_ACTIONS = 100_000


def action_nvec(space: gym.Space, continuous: bool = False) -> np.ndarray:
    """Choices per action dimension of a MultiDiscrete (or Discrete) space, as an int64 vector; with
    ``continuous``, a flat Box too, as one 0 (no finite set of choices) per dimension."""
    if continuous and isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        return np.zeros(space.shape[0], dtype=np.int64)
    if isinstance(space, gym.spaces.MultiDiscrete):
        if space.nvec.ndim != 1:
            raise ValueError(f"agents need a 1-D MultiDiscrete action space, got nvec of shape {space.nvec.shape}")
        if np.any(space.start != 0):
            raise ValueError("agents need MultiDiscrete actions that start at 0")
        return space.nvec.astype(np.int64)
    if isinstance(space, gym.spaces.Discrete):
        if space.start != 0:
            raise ValueError("agents need Discrete actions that start at 0")
        return np.array([space.n], dtype=np.int64)
    raise ValueError(f"agents need a MultiDiscrete or Discrete action space (ppo and a2c also a flat Box), got {space}")


def env_action(space: gym.Space, action):
    """A per-dimension action vector (M,) as ``space`` takes it: an int for a Discrete space, an array
    of the space's dtype for a MultiDiscrete one."""
    if isinstance(space, gym.spaces.Discrete):
        return int(np.asarray(action).reshape(-1)[0])
    return np.asarray(action).astype(space.dtype)


def observation_dim(space: gym.Space) -> int:
    """Length of a flat Box observation; other spaces are refused."""
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"agents need a flat 1-D Box observation space, got {space}")
    return int(space.shape[0])


class JointActionCodec:
    """Bijection between per-dimension actions (M,) and joint indices in [0, prod(nvec))."""

    def __init__(self, nvec, max_actions: int = MAX_JOINT_ACTIONS):
        self.nvec = np.asarray(nvec, dtype=np.int64)
        size = math.prod(int(n) for n in self.nvec)
        if size > max_actions:
            raise ValueError(
                f"joint action space has {size} actions (prod of {self.nvec.tolist()}), more than the "
                f"{max_actions} a single-head agent can enumerate; use a branched agent (mtl-a3c) or "
                "one that acts on MultiDiscrete directly (ppo, a2c)"
            )
        self.size = size
        # place value of each dimension, block 0 most significant
        self._radix = np.array(
            [math.prod(int(n) for n in self.nvec[i + 1 :]) for i in range(len(self.nvec))], dtype=np.int64
        )

    def decode(self, index) -> np.ndarray:
        """Joint index (scalar or array of shape (B,)) -> actions (M,) or (B, M)."""
        index = np.asarray(index, dtype=np.int64)
        if np.any(index < 0) or np.any(index >= self.size):
            raise ValueError(f"joint action index out of range [0, {self.size}): {index}")
        return (index[..., None] // self._radix) % self.nvec

    def encode(self, action) -> np.ndarray:
        """Actions (M,) or (B, M) -> joint index (scalar array or (B,))."""
        action = np.asarray(action, dtype=np.int64)
        if action.shape[-1] != len(self.nvec) or np.any(action < 0) or np.any(action >= self.nvec):
            raise ValueError(f"action {action.tolist()} does not fit nvec {self.nvec.tolist()}")
        return action @ self._radix


class FlattenMultiDiscrete(gym.ActionWrapper):
    """Exposes a MultiDiscrete (or Discrete) action space as Discrete(prod(nvec)) (for SB3's DQN)."""

    def __init__(self, env: gym.Env, max_actions: int = MAX_JOINT_ACTIONS):
        super().__init__(env)
        self.codec = JointActionCodec(action_nvec(env.action_space), max_actions)
        self.action_space = gym.spaces.Discrete(self.codec.size)

    def action(self, action):
        return env_action(self.env.action_space, self.codec.decode(int(action)))
