"""ToyOffload: the thin Gymnasium shell around :mod:`tests.toy_env.core` (spaces, action check, observation,
seeding, render)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from edge_envs.render import check_render_mode
from edge_envs.reset import check_reset_options, check_seed, draw_instance
from tests.toy_env import core
from tests.toy_env.config import ToyOffloadConfig
from tests.toy_env.generator import Instance, RandomGenerator


class ToyOffloadEnv(gym.Env):
    """Run each slot's task on the device or offload it to an edge server.

    ## Description
    One task per slot; offloading pays the slot's uplink rate, drawn when the slot starts.

    ## Action Space
    ``Discrete(2)``: 0 runs the task on the device, 1 offloads it. Anything else raises a ValueError.

    ## Observation Space
    ``Box(0, 1, (3,), float32)``: task size / the largest size, uplink rate / the largest rate, share of
    the slots left.

    ## Rewards
    Minus the task's delay in seconds; ``info["delay_s"]`` and ``info["offloaded"]`` after a step.

    ## Starting State
    Task sizes and uplink rates from the generator seeded by ``reset(seed=...)``.

    ## Episode End
    Terminated after ``num_slots`` slots. Never truncated.

    ## Arguments
    ``config=ToyOffloadConfig(...)``, ``generator=None`` (RandomGenerator), any config field as a keyword,
    ``render_mode="ansi"``.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self, config: ToyOffloadConfig | None = None, generator=None, render_mode: str | None = None, **fields
    ):
        self.cfg = cfg = ToyOffloadConfig.from_kwargs(config, **fields)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.generator = generator if generator is not None else RandomGenerator(cfg)
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(0.0, 1.0, (3,), np.float32)
        self.state: core.State | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        check_reset_options(options, "ToyOffload")
        super().reset(seed=check_seed(seed))
        instance = draw_instance(self.generator, self.np_random, Instance)
        self.state = core.initial(self.cfg, instance, self.np_random)
        return self._observation(), {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        self.state, outcome = core.transition(self.state, _action(action), self.np_random)
        info = {"delay_s": outcome.delay_s, "offloaded": outcome.offloaded}
        return self._observation(), -outcome.delay_s, self.state.done, False, info

    def _observation(self) -> np.ndarray:
        st, cfg = self.state, self.cfg
        size = st.instance.task_mbit[st.slot] / cfg.task_mbit[1] if not st.done else 0.0
        left = (cfg.num_slots - st.slot) / cfg.num_slots
        return np.array([size, st.uplink_mbit_s / cfg.uplink_mbit_s[1], left], dtype=np.float32)

    def render(self):
        if self.render_mode == "ansi" and self.state is not None:
            return f"slot {self.state.slot}/{self.cfg.num_slots} uplink {self.state.uplink_mbit_s:.2f} Mbit/s"
        return None


def _action(action) -> int:
    """0 or 1 from an int, a numpy integer or a one-element integer array; a ValueError naming both otherwise."""
    value = np.asarray(action)
    if value.size == 1 and value.dtype.kind in "iu" and int(value.reshape(())) in (core.LOCAL, core.OFFLOAD):
        return int(value.reshape(()))
    raise ValueError(f"action must be 0 (run on the device) or 1 (offload), got {action!r}")
