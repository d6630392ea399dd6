"""Instances of the toy env: the task sizes of an episode, drawn from a numpy Generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.toy_env.config import ToyOffloadConfig


@dataclass(frozen=True, eq=False)
class Instance:
    """What stays fixed during an episode."""

    name: str
    """Generator name and sizes, so an episode can be replayed from (name, seed, config)."""
    task_mbit: np.ndarray
    """(num_slots,) size of each slot's task, Mbit."""


class RandomGenerator:
    """Task sizes uniform in the config's range."""

    def __init__(self, cfg: ToyOffloadConfig):
        self.cfg = cfg
        self.name = f"random:T{cfg.num_slots}"

    def __call__(self, rng: np.random.Generator) -> Instance:
        return Instance(self.name, rng.uniform(*self.cfg.task_mbit, size=self.cfg.num_slots))


class ToyGenerator:
    """Two tasks of 2 and 4 Mbit; with :meth:`config` the uplink is always 8 Mbit/s, so on the device they
    take 1 s and 2 s, offloaded 2/8 + 2/16 = 0.375 s and 4/8 + 4/16 = 0.75 s."""

    name = "toy"

    @staticmethod
    def config(**overrides) -> ToyOffloadConfig:
        return ToyOffloadConfig.from_kwargs(ToyOffloadConfig(num_slots=2, uplink_mbit_s=(8.0, 8.0)), **overrides)

    def __call__(self, rng: np.random.Generator | None = None) -> Instance:
        return Instance(self.name, np.array([2.0, 4.0]))
