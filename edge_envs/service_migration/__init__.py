"""ServiceMigration-v0: SM3FL's service migration and sample collection for multi-modal FL (the SM3FL paper)."""

from edge_envs.service_migration.config import (
    SEED_LITERAL,
    SEED_MODALITIES,
    SEED_PRINTED_NOISE_PSD_DBM_PER_HZ,
    Modality,
    ServiceMigrationConfig,
)
from edge_envs.service_migration.env import ServiceMigrationEnv
from edge_envs.service_migration.generator import Instance, RandomGenerator, ToyGenerator

__all__ = [
    "SEED_LITERAL",
    "SEED_MODALITIES",
    "SEED_PRINTED_NOISE_PSD_DBM_PER_HZ",
    "Instance",
    "Modality",
    "RandomGenerator",
    "ServiceMigrationConfig",
    "ServiceMigrationEnv",
    "ToyGenerator",
]
