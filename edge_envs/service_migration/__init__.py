"""ServiceMigration-v0: SM3FL's service migration and sample collection for multi-modal FL (seed 000)."""

from edge_envs.service_migration.config import (
    SEED_MODALITIES,
    SEED_PRINTED_NOISE_PSD_DBM_PER_HZ,
    Modality,
    ServiceMigrationConfig,
)
from edge_envs.service_migration.env import ServiceMigrationEnv
from edge_envs.service_migration.generator import RandomGenerator, Scenario, ToyGenerator, toy_config

__all__ = [
    "SEED_MODALITIES",
    "SEED_PRINTED_NOISE_PSD_DBM_PER_HZ",
    "Modality",
    "RandomGenerator",
    "Scenario",
    "ServiceMigrationConfig",
    "ServiceMigrationEnv",
    "ToyGenerator",
    "toy_config",
]
