"""Baselines of EdgePartition-v0 (``POLICIES``: name -> factory) and edge_partition_multi_v0 (``MULTI_POLICIES``).

``policies`` holds the placement policies (RPDI, APDI, greedy, LPT, all-local, best single server, PSO,
GA, the per-slot chain DP, the exact per-slot minimiser ``exact-slot``); ``search`` the generic
chain solvers (chain DP, PSO, GA); ``exact`` the exact per-slot search (enumeration, branch and
bound); ``foresight`` the non-myopic rules (exact-slot with an energy price, its queue-aware variant,
rollout over sampled futures) on ``placements``, every placement of a slot with its terms;
``references`` and ``hindsight`` the bounds on any policy's episode, exposed as ``REFERENCES``. ``STRONGEST``:
the best baselines of the EdgePartition tables (benchmarks/results/baselines_edge_partition.md).
"""

from baselines.edge_partition import foresight, policies
from baselines.edge_partition.policies import MULTI_POLICIES
from baselines.edge_partition.references import REFERENCES

POLICIES = {**policies.POLICIES, **foresight.POLICIES}
"""name -> factory(env, **kwargs): every EdgePartition-v0 baseline (the non-myopic ones are single-device only)."""

STRONGEST = ("exact-slot", "local-search", "ga", "pso", "greedy")

__all__ = ["MULTI_POLICIES", "POLICIES", "REFERENCES", "STRONGEST"]
