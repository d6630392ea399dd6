"""edge-envs: reinforcement-learning environments for mobile edge computing.

Importing the package registers every Gymnasium id, so ``gym.make("EdgePartition-v0")``
works after ``import edge_envs`` (and ``gym.make("edge_envs:EdgePartition-v0")`` without it).
PettingZoo environments follow PettingZoo's module convention:
``edge_envs.edge_partition_multi_v0.parallel_env()``.
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

# id -> (entry point, vector entry point, registration kwargs)
_GYM_ENVS = {
    "EdgePartition-v0": (
        "edge_envs.edge_partition.env:EdgePartitionEnv",
        "edge_envs.edge_partition.env:EdgePartitionVectorEnv",
        {"max_episode_steps": None},
    ),
    "ServiceMigration-v0": (
        "edge_envs.service_migration.env:ServiceMigrationEnv",
        "edge_envs.service_migration.vector:ServiceMigrationVectorEnv",
        {"max_episode_steps": None},
    ),
    "EdgeUpload-v0": (
        "edge_envs.edge_upload.env:EdgeUploadEnv",
        "edge_envs.edge_upload.vector:EdgeUploadVectorEnv",
        {"max_episode_steps": None},
    ),
}

for _env_id, (_entry, _vector_entry, _kwargs) in _GYM_ENVS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry, vector_entry_point=_vector_entry, **_kwargs)

ENV_IDS = tuple(_GYM_ENVS)
PETTINGZOO_MODULES = ("edge_partition_multi_v0", "multiserver_fl_v0")

__all__ = ["ENV_IDS", "PETTINGZOO_MODULES", "__version__"]
