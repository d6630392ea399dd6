"""ServiceMigration-v0: SM3FL's service migration and sample collection for multi-modal FL (the SM3FL paper)."""

from edge_envs.service_migration.config import (
    PAPER_LITERAL,
    PAPER_MODALITIES,
    PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ,
    SEED_LITERAL,  # noqa: F401  (the old names of the three above, until the next release; not in __all__)
    SEED_MODALITIES,  # noqa: F401
    SEED_PRINTED_NOISE_PSD_DBM_PER_HZ,  # noqa: F401
    Modality,
    ServiceMigrationConfig,
)
from edge_envs.service_migration.env import ServiceMigrationEnv
from edge_envs.service_migration.generator import Instance, RandomGenerator, ToyGenerator

__all__ = [
    "PAPER_LITERAL",
    "PAPER_MODALITIES",
    "PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ",
    "Instance",
    "Modality",
    "RandomGenerator",
    "ServiceMigrationConfig",
    "ServiceMigrationEnv",
    "ToyGenerator",
]
