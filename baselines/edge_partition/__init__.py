"""Baselines of EdgePartition-v0 and edge_partition_multi_v0: ``POLICIES`` maps a name to a factory.

``policies`` holds the placement policies (RPDI, APDI, greedy, all-local, best single server, PSO,
GA, the DP oracle); ``search`` the generic chain solvers they use (exact DP, PSO, GA).
"""

from baselines.edge_partition.policies import POLICIES

__all__ = ["POLICIES"]
