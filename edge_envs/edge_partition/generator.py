"""Scenario instances of EdgePartition: the DNN blocks of each device and the edge servers.

An :class:`Instance` is what stays fixed for an episode: per device (agent) the block table of its
model, and per edge server its position and base speed factor. The per-slot processes (tasks,
deadlines, background load, mobility, fading) are drawn by ``core.initial``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_envs.edge_partition.config import EdgePartitionConfig


@dataclass(frozen=True, eq=False)
class Instance:
    """Static scenario of one episode. Arrays are float64; A devices, M blocks, N servers.

    ``local_s``/``edge_s`` (A, M): block latency in the device's / the edge servers' profile, before
    speed factors. ``input_bytes`` (A, M): activation entering each block (block 0: the raw image);
    ``output_bytes`` (A, M): activation leaving it (the last block's is the result sent back).
    ``server_xy`` (N, 2) m; ``server_speed`` (N,): base speed factor of each server.
    ``fixed_rate_bps`` (A, N) or None: when given, every server is reached directly at these constant
    rates (no radio model, no mobility); ``device_xy`` (A, 2) or None: start positions (None: uniform).
    """

    name: str
    models: tuple[str, ...]
    local_s: np.ndarray
    edge_s: np.ndarray
    input_bytes: np.ndarray
    output_bytes: np.ndarray
    server_xy: np.ndarray
    server_speed: np.ndarray
    fixed_rate_bps: np.ndarray | None = None
    device_xy: np.ndarray | None = None

    @property
    def num_devices(self) -> int:
        return self.local_s.shape[0]

    def same_blocks(self, other: Instance) -> bool:
        """Whether ``other`` has this instance's block tables (then ``core.make_blocks`` makes the same
        Blocks of both): the same arrays, as RandomGenerator's instances share, or equal ones."""
        return all(
            x is y or np.array_equal(x, y)
            for x, y in zip(
                (self.local_s, self.edge_s, self.input_bytes, self.output_bytes),
                (other.local_s, other.edge_s, other.input_bytes, other.output_bytes),
            )
        )

    @property
    def num_blocks(self) -> int:
        return self.local_s.shape[1]

    @property
    def num_servers(self) -> int:
        return self.server_speed.shape[0]


class RandomGenerator:
    """Blocks from the measured profiles (edge_envs.dnn.block_table); servers uniform in the area
    (the TMC 2024 paper, Section 5.1: ESs distributed randomly) with base speeds uniform in
    ``cfg.server_speed_factor``. ``models``: one model per device (default: ``(cfg.model,)``)."""

    def __init__(self, cfg: EdgePartitionConfig, models: tuple[str, ...] | None = None):
        from edge_envs.dnn import block_table  # torch is imported only when real profiles are needed

        self.cfg = cfg
        self.models = tuple(models) if models is not None else (cfg.model,)
        tables = []
        for model in self.models:
            try:
                tables.append(block_table(model, cfg.num_blocks, local=cfg.local_profile, edge=cfg.edge_profile))
            except ValueError as error:
                for prefix, field in (("M:", "num_blocks"), ("local:", "local_profile")):
                    if str(error).startswith(prefix):
                        raise ValueError(f"{field}: {error}") from error
                raise
        self.tables = tables
        stack = lambda field: np.array([getattr(t, field) for t in tables], dtype=np.float64)  # noqa: E731
        self._blocks = {f: stack(f) for f in ("local_s", "edge_s", "input_bytes", "output_bytes")}
        self._name = f"random:{'+'.join(self.models)}:M{cfg.num_blocks}:N{cfg.num_servers}"

    def __call__(self, rng: np.random.Generator) -> Instance:
        cfg = self.cfg
        N = cfg.num_servers
        # one draw of 3 N uniforms: the values of ``rng.uniform(0, area_m, (N, 2))`` then
        # ``rng.uniform(low, high, N)`` (uniform computes low + (high - low) u from the same stream),
        # at a third of the cost (a vector env draws an instance at every autoreset)
        u = rng.random(3 * N)
        low, high = cfg.server_speed_factor
        servers = (cfg.area_m * u[: 2 * N]).reshape(N, 2)
        speeds = low + (high - low) * u[2 * N :]
        return Instance(name=self._name, models=self.models, server_xy=servers, server_speed=speeds, **self._blocks)


class ToyGenerator:
    """One device, 3 blocks, 2 servers, fixed rates: small enough to check every number by hand.

    Device (speed factor 1): blocks take 20, 40, 10 ms. Edge profile: 10, 20, 5 ms; server 1 has
    speed 1.0, server 2 speed 0.5. Inputs 1000, 2000, 500 bytes; the result is 100 bytes. Server 1
    is reached at 1 Mbit/s, server 2 at 0.5 Mbit/s; servers are linked at 10 Mbit/s. Use it with
    :meth:`config` (60 tasks per slot, deadlines fixed at 0.5 s, no background load, no fading).
    """

    @staticmethod
    def config(**overrides) -> EdgePartitionConfig:
        base = EdgePartitionConfig(
            model="toy",
            num_blocks=3,
            num_servers=2,
            task_rate=60.0,
            poisson_tasks=False,
            slot_s=1.0,
            episode_slots=5,
            deadline_s=(0.5, 0.5),
            penalty_weight=2.0,
            device_speed_factor=1.0,
            device_clock_hz=1e9,
            energy_coefficient=1e-26,
            energy_budget_j=100.0,
            outage_cost_s=10.0,
            server_speed_factor=(1.0, 1.0),
            background_load=0.0,
            tx_power_w=0.1,
            wired_rate_bps=1e7,
            walk_speed_mps=(0.0, 0.0),
            fading=False,
        )
        return EdgePartitionConfig.from_kwargs(base, **overrides)

    def __call__(self, rng: np.random.Generator | None = None) -> Instance:
        return Instance(
            name="toy",
            models=("toy",),
            local_s=np.array([[0.020, 0.040, 0.010]]),
            edge_s=np.array([[0.010, 0.020, 0.005]]),
            input_bytes=np.array([[1000.0, 2000.0, 500.0]]),
            output_bytes=np.array([[2000.0, 500.0, 100.0]]),
            server_xy=np.array([[0.0, 0.0], [100.0, 0.0]]),
            server_speed=np.array([1.0, 0.5]),
            fixed_rate_bps=np.array([[1e6, 0.5e6]]),
            device_xy=np.array([[50.0, 0.0]]),
        )
