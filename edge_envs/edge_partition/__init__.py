"""EdgePartition-v0: fine-grained DNN partitioning between an IoT device and edge servers (the TMC 2024 paper).

``gym.make("EdgePartition-v0", **fields)`` (fields of :class:`EdgePartitionConfig`), the batched
``gym.make_vec("EdgePartition-v0", num_envs=..., vectorization_mode="vector_entry_point")``, and
the multi-agent variant in :mod:`edge_envs.edge_partition_multi_v0`. The dynamics are in
:mod:`edge_envs.edge_partition.core` (model and costs, batched over instances, used by baselines and
references too), :mod:`~edge_envs.edge_partition.processes` (the exogenous processes),
:mod:`~edge_envs.edge_partition.layout` (observation and outcome layouts) and
:mod:`~edge_envs.edge_partition.kernels` (the compiled step the envs run).
"""

from edge_envs.edge_partition.config import CONTENTION_FREE, EdgePartitionConfig
from edge_envs.edge_partition.env import EdgePartitionEnv, EdgePartitionVectorEnv
from edge_envs.edge_partition.generator import Instance, RandomGenerator, ToyGenerator

__all__ = [
    "CONTENTION_FREE",
    "EdgePartitionConfig",
    "EdgePartitionEnv",
    "EdgePartitionVectorEnv",
    "Instance",
    "RandomGenerator",
    "ToyGenerator",
]
