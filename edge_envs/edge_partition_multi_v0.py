"""edge_partition_multi_v0: several IoT devices partition their own DNNs over shared edge servers.

PettingZoo's module convention: ``parallel_env(**kwargs)`` (the native Parallel API), ``env(**kwargs)``
(the AEC view, order-enforced) and ``raw_env`` (the AEC view, unwrapped), re-exported from
:mod:`edge_envs.edge_partition.multi`, whose :class:`EdgePartitionMultiEnv` docstring documents the env;
``EdgePartitionMultiVectorEnv(num_envs, **kwargs)`` steps many copies in one array call (for training).
"""

from edge_envs.edge_partition.multi import (
    DEFAULT_MODELS,
    EdgePartitionMultiEnv,
    EdgePartitionMultiVectorEnv,
    env,
    parallel_env,
    raw_env,
)

__all__ = ["DEFAULT_MODELS", "EdgePartitionMultiEnv", "EdgePartitionMultiVectorEnv", "env", "parallel_env", "raw_env"]
