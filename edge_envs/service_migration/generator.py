"""Scenario instances of ServiceMigration-v0: where each modality's sub-model starts, and (toy) fixed devices.

The system itself (edges, server, modalities) is the config; a scenario adds what is drawn per
episode before round 1. ``RandomGenerator`` is the default; ``ToyGenerator`` with ``toy_config()``
is an instance small enough to check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_envs.service_migration.config import Modality, ServiceMigrationConfig


@dataclass(frozen=True)
class Scenario:
    """Initial edge of each modality (n_k^0) and, optionally, fixed device positions (static devices)."""

    name: str
    initial_edges: tuple[int, ...]
    device_positions: tuple | None = None  # ((x, y), ...) of static devices; None: the mobility model places them


class RandomGenerator:
    """Each modality's sub-model starts on a distinct edge drawn uniformly (FedBCD's random n_k^0, Section 6.1)."""

    name = "random"

    def __call__(self, cfg: ServiceMigrationConfig, rng: np.random.Generator) -> Scenario:
        edges = rng.choice(cfg.n_edges, size=cfg.n_modalities, replace=False)
        return Scenario(name=self.name, initial_edges=tuple(int(e) for e in edges))


def toy_config(**overrides) -> ServiceMigrationConfig:
    """Three edges on a line, two modalities, one static device; constant capability; bound backend.

    Edges at x = 100, 500, 900 m (y = 500); the device at (450, 500): 350, 50 and 450 m away.
    Modality "big" has 2 Mbit samples, "small" 0.1 Mbit; both sub-models have 10^6 parameters and
    need 1000 cycles per sample; every edge has 10^6 cycles/s; S = 100 samples, E = 1.
    """
    params = dict(
        area_m=1000.0, edge_positions_m=((100.0, 500.0), (500.0, 500.0), (900.0, 500.0)),
        server_position_m=(500.0, 900.0), n_devices=1, mobility="static",
        capability_mean_hz=1e6, capability_std_hz=0.0, capability_min_hz=1e5,
        modalities=(Modality("big", sample_bits=2e6, params=1_000_000, density_cycles=1000.0),
                    Modality("small", sample_bits=1e5, params=1_000_000, density_cycles=1000.0)),
        n_samples=100, epochs=1, backend="bound", max_rounds=1000,
    )
    params.update(overrides)
    return ServiceMigrationConfig(**params)


class ToyGenerator:
    """``toy_config()``'s instance: "big" starts on edge 2, "small" on edge 0, the device at (450, 500)."""

    name = "toy"

    def __call__(self, cfg: ServiceMigrationConfig, rng: np.random.Generator) -> Scenario:
        if cfg.n_edges != 3 or cfg.n_modalities != 2 or cfg.n_devices != 1:
            raise ValueError("ToyGenerator needs toy_config(): 3 edges, 2 modalities, 1 device")
        return Scenario(name=self.name, initial_edges=(2, 0), device_positions=((450.0, 500.0),))
