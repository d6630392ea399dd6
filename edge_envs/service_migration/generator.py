"""Instances of ServiceMigration-v0: where each modality's sub-model starts, and (toy) fixed devices.

The system itself (edges, server, modalities) is the config; an instance adds what is drawn per
episode before round 1. A generator is a callable ``rng -> Instance``: ``RandomGenerator(cfg)`` is the
default; ``ToyGenerator()`` with ``ToyGenerator.config()`` is an instance small enough to check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_envs.service_migration.config import Modality, ServiceMigrationConfig


@dataclass(frozen=True)
class Instance:
    """Initial edge of each modality (n_k^0) and, optionally, fixed device positions (static devices)."""

    name: str
    """generator name and sizes, so an episode can be replayed from (name, seed, config)."""
    initial_edges: tuple[int, ...]
    """n_k^0: distinct edges, one per modality."""
    device_positions: tuple | None = None
    """((x, y), ...) of static devices; None: the mobility model places them."""


class RandomGenerator:
    """Each modality's sub-model starts on a distinct edge drawn uniformly (FedBCD's random n_k^0, Section 6.1)."""

    def __init__(self, cfg: ServiceMigrationConfig):
        self.cfg = cfg
        self.name = f"random:N{cfg.num_edges}:K{cfg.num_modalities}"

    def __call__(self, rng: np.random.Generator) -> Instance:
        edges = rng.choice(self.cfg.num_edges, size=self.cfg.num_modalities, replace=False)
        return Instance(name=self.name, initial_edges=tuple(int(e) for e in edges))


class ToyGenerator:
    """``ToyGenerator.config()``'s instance: "big" starts on edge 2, "small" on edge 0, the device at (450, 500).

    Three edges on a line at x = 100, 500, 900 m (y = 500); the static device is 350, 50 and 450 m
    away. Modality "big" has 2 Mbit samples, "small" 0.1 Mbit; both sub-models have 10^6 parameters and
    need 1000 cycles per sample; every edge has 10^6 cycles/s; S = 100 samples, E = 1; bound backend.
    """

    name = "toy"

    @staticmethod
    def config(**overrides) -> ServiceMigrationConfig:
        base = ServiceMigrationConfig(
            area_m=1000.0,
            edge_positions_m=((100.0, 500.0), (500.0, 500.0), (900.0, 500.0)),
            server_position_m=(500.0, 900.0),
            num_devices=1,
            mobility="static",
            noise_reading="density",
            capability_mean_hz=1e6,
            capability_std_hz=0.0,
            capability_min_hz=1e5,
            modalities=(
                Modality("big", sample_bits=2e6, params=1_000_000, density_cycles=1000.0),
                Modality("small", sample_bits=1e5, params=1_000_000, density_cycles=1000.0),
            ),
            num_samples=100,
            epochs=1,
            backend="bound",
            max_rounds=1000,
            pair_rho_levels=False,
            observe_pair_costs=False,
        )
        return ServiceMigrationConfig.from_kwargs(base, **overrides)

    def __call__(self, rng: np.random.Generator | None = None) -> Instance:
        return Instance(name=self.name, initial_edges=(2, 0), device_positions=((450.0, 500.0),))
