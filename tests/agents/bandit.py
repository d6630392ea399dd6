"""Tiny envs with a known optimum for the agent tests: a contextual bandit with MultiDiscrete
actions (Gymnasium), and the same bandit with Discrete, Box or masked actions.

Each slot shows one of ``contexts`` one-hot contexts; action block m scores 1 when it picks
``target(context, m)`` (= (context + m) % choices), else 0. The best return per slot is the
number of blocks; a uniform random policy scores blocks / choices. Episodes end after
``length`` slots by truncation, so agents must bootstrap from V(final state). The two-agent
version lives in tests/agents/multi_bandit.py.

Variants (each refuses an action outside its space, as the project's envs do):
- ``DiscreteBandit``: one block, ``Discrete(choices)`` actions (an int, not a shape-(1,) array);
- ``BoxBandit``: ``Box(0, 1, (blocks,))`` actions, block m picks ``min(floor(a_m * choices), choices - 1)``;
- ``MaskedBandit`` and ``MaskedDiscreteBandit``: MultiDiscrete or Discrete, with ``action_masks()`` and
  ``info["action_mask"]`` (flat, one entry per choice of each block) forbidding choice
  ``(target + 1) % choices`` of every block; a forbidden action raises.
"""

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry


def target(context: int, blocks: int, choices: int) -> np.ndarray:
    return (context + np.arange(blocks)) % choices


class ContextualBandit(gym.Env):
    def __init__(self, contexts: int = 2, blocks: int = 3, choices: int = 3, length: int = 8):
        self.contexts, self.blocks, self.choices, self.length = contexts, blocks, choices, length
        self.observation_space = gym.spaces.Box(0.0, 1.0, (contexts,), np.float32)
        self.action_space = gym.spaces.MultiDiscrete([choices] * blocks)

    def _obs(self):
        obs = np.zeros(self.contexts, np.float32)
        obs[self.context] = 1.0
        return obs

    def _info(self) -> dict:
        return {}

    def _choices(self, action) -> np.ndarray:
        return np.asarray(action)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.context, self.t = int(self.np_random.integers(self.contexts)), 0
        return self._obs(), self._info()

    def step(self, action):
        hits = float(np.sum(self._choices(action) == target(self.context, self.blocks, self.choices)))
        self.context, self.t = int(self.np_random.integers(self.contexts)), self.t + 1
        return self._obs(), hits, False, self.t >= self.length, {"delay": self.blocks - hits, **self._info()}


class DiscreteBandit(ContextualBandit):
    def __init__(self, contexts: int = 2, choices: int = 3, length: int = 8):
        super().__init__(contexts, 1, choices, length)
        self.action_space = gym.spaces.Discrete(choices)

    def _choices(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in [0, {self.choices}), got {action!r}")
        return np.array([action])


class BoxBandit(ContextualBandit):
    def __init__(self, contexts: int = 2, blocks: int = 3, choices: int = 3, length: int = 8):
        super().__init__(contexts, blocks, choices, length)
        self.action_space = gym.spaces.Box(0.0, 1.0, (blocks,), np.float32)

    def _choices(self, action):
        action = np.asarray(action)
        if action.shape != (self.blocks,) or not np.all(np.isfinite(action)):
            raise ValueError(f"action must be {self.blocks} finite numbers, got {action!r}")
        return np.minimum(np.floor(np.clip(action, 0.0, 1.0) * self.choices), self.choices - 1)


class _Masked:
    def action_masks(self) -> np.ndarray:
        mask = np.ones((self.blocks, self.choices), bool)
        mask[np.arange(self.blocks), (target(self.context, self.blocks, self.choices) + 1) % self.choices] = False
        return mask.ravel()

    def _info(self) -> dict:
        return {"action_mask": self.action_masks()}

    def _choices(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must lie in {self.action_space}, got {action!r}")
        choices = np.atleast_1d(np.asarray(action))
        if not np.all(self.action_masks().reshape(self.blocks, self.choices)[np.arange(self.blocks), choices]):
            raise ValueError(f"action {action!r} is masked")
        return choices


class MaskedBandit(_Masked, ContextualBandit):
    pass


class MaskedDiscreteBandit(_Masked, DiscreteBandit):
    pass


for _name, _cls in (
    ("ContextualBandit-v0", ContextualBandit),
    ("DiscreteBandit-v0", DiscreteBandit),
    ("BoxBandit-v0", BoxBandit),
    ("MaskedBandit-v0", MaskedBandit),
    ("MaskedDiscreteBandit-v0", MaskedDiscreteBandit),
):
    if _name not in registry:
        register(id=_name, entry_point=_cls)

ENV_ID = "tests.agents.bandit:ContextualBandit-v0"
DISCRETE_ENV_ID = "tests.agents.bandit:DiscreteBandit-v0"
BOX_ENV_ID = "tests.agents.bandit:BoxBandit-v0"
MASKED_ENV_ID = "tests.agents.bandit:MaskedBandit-v0"
MASKED_DISCRETE_ENV_ID = "tests.agents.bandit:MaskedDiscreteBandit-v0"
