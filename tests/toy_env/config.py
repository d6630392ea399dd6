"""Configuration of the toy env: the template's frozen dataclass with the shared validation helper."""

from __future__ import annotations

from dataclasses import dataclass

from edge_envs.config import Config, check_interval, check_range


@dataclass(frozen=True)
class ToyOffloadConfig(Config):
    """Every parameter of the toy env: one task per slot, run on the device or offloaded to one server."""

    num_slots: int = 8
    """Slots (tasks) per episode, 1-1000."""
    task_mbit: tuple[float, float] = (1.0, 4.0)
    """Size of each task, uniform in this range per slot, Mbit."""
    uplink_mbit_s: tuple[float, float] = (2.0, 16.0)
    """Uplink rate of each slot, uniform in this range, Mbit/s."""
    device_mbit_s: float = 2.0
    """Rate at which the device processes a task, Mbit/s."""
    server_mbit_s: float = 16.0
    """Rate at which the server processes a task, Mbit/s."""

    def __post_init__(self):
        check_range("num_slots", self.num_slots, 1, 1000, integer=True)
        check_interval("task_mbit", self.task_mbit, 1e-3, 1e3)
        check_interval("uplink_mbit_s", self.uplink_mbit_s, 1e-3, 1e3)
        check_range("device_mbit_s", self.device_mbit_s, 1e-3, 1e3)
        check_range("server_mbit_s", self.server_mbit_s, 1e-3, 1e3)
