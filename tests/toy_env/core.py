"""Dynamics of the toy env: ``initial`` and ``transition``, and the cost function baselines call.

Action 0 runs the slot's task on the device (size / device rate); action 1 offloads it (size / uplink
rate + size / server rate). The uplink rate of each slot is drawn when the slot starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.toy_env.config import ToyOffloadConfig
from tests.toy_env.generator import Instance

LOCAL, OFFLOAD = 0, 1


@dataclass(frozen=True, eq=False)
class State:
    """Everything the next step depends on."""

    cfg: ToyOffloadConfig
    instance: Instance
    slot: int
    """Index of the current slot's task (num_slots once the episode is over)."""
    uplink_mbit_s: float
    """Uplink rate of the current slot, Mbit/s."""

    @property
    def done(self) -> bool:
        return self.slot >= self.cfg.num_slots


@dataclass(frozen=True)
class Outcome:
    """What a step cost: the reward is minus ``delay_s``."""

    delay_s: float
    offloaded: bool


def initial(cfg: ToyOffloadConfig, instance: Instance, rng: np.random.Generator) -> State:
    """The state at the first slot."""
    return State(cfg, instance, 0, float(rng.uniform(*cfg.uplink_mbit_s)))


def delay(state: State, action: int) -> float:
    """Seconds the current slot's task takes under ``action`` (LOCAL or OFFLOAD)."""
    size, cfg = state.instance.task_mbit[state.slot], state.cfg
    if action == LOCAL:
        return float(size / cfg.device_mbit_s)
    return float(size / state.uplink_mbit_s + size / cfg.server_mbit_s)


def transition(state: State, action: int, rng: np.random.Generator) -> tuple[State, Outcome]:
    """Run the current slot's task under ``action`` and start the next slot."""
    outcome = Outcome(delay(state, action), action == OFFLOAD)
    uplink = float(rng.uniform(*state.cfg.uplink_mbit_s))
    return State(state.cfg, state.instance, state.slot + 1, uplink), outcome
