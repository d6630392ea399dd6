"""Tiny envs with a known optimum for the agent tests: a contextual bandit with MultiDiscrete
actions (Gymnasium).

Each slot shows one of ``contexts`` one-hot contexts; action block m scores 1 when it picks
``target(context, m)`` (= (context + m) % choices), else 0. The best return per slot is the
number of blocks; a uniform random policy scores blocks / choices. Episodes end after
``length`` slots by truncation, so agents must bootstrap from V(final state). The two-agent
version lives in tests/agents/multi_bandit.py.
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

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.context, self.t = int(self.np_random.integers(self.contexts)), 0
        return self._obs(), {}

    def step(self, action):
        hits = float(np.sum(np.asarray(action) == target(self.context, self.blocks, self.choices)))
        self.context, self.t = int(self.np_random.integers(self.contexts)), self.t + 1
        return self._obs(), hits, False, self.t >= self.length, {"delay": self.blocks - hits}


if "ContextualBandit-v0" not in registry:
    register(id="ContextualBandit-v0", entry_point=ContextualBandit)

ENV_ID = "tests.agents.bandit:ContextualBandit-v0"
