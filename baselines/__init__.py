"""Non-learning policies for every environment, reachable by lower-case name.

Each environment's baselines live in one module that exposes ``POLICIES``: a dict from
name to a factory ``factory(env, **kwargs) -> policy``. A policy meets the project's one
protocol: ``act(observation, info) -> action`` and an optional ``reset(seed=None)``.
"""

from __future__ import annotations

import importlib

# env id -> module holding its POLICIES (or "module:NAME" for another dict of that module)
_MODULES = {
    "EdgePartition-v0": "baselines.edge_partition",
    "edge_partition_multi_v0": "baselines.edge_partition:MULTI_POLICIES",
    "ServiceMigration-v0": "baselines.service_migration",
    "EdgeUpload-v0": "baselines.edge_upload",
    "multiserver_fl_v0": "baselines.multiserver_fl",
}


def _policies(env_id: str) -> dict:
    if env_id not in _MODULES:
        raise ValueError(f"no baselines for env id {env_id!r}; known ids: {sorted(_MODULES)}")
    module, _, name = _MODULES[env_id].partition(":")
    return getattr(importlib.import_module(module), name or "POLICIES")


def _env_id(env) -> str:
    spec = getattr(getattr(env, "unwrapped", env), "spec", None) or getattr(env, "spec", None)
    if spec is not None:
        return spec.id
    metadata = getattr(getattr(env, "unwrapped", env), "metadata", {})
    if "name" in metadata:
        return metadata["name"]
    raise ValueError(f"cannot tell the env id of {env!r}: make it with gym.make or edge_envs.<module>.parallel_env()")


def available(env_id: str) -> list[str]:
    """Names of every baseline of ``env_id``, sorted."""
    return sorted(_policies(env_id))


def make_policy(name: str, env, **kwargs):
    """Build baseline ``name`` for ``env`` (an env made by gym.make or a PettingZoo parallel_env)."""
    env_id = _env_id(env)
    policies = _policies(env_id)
    key = name.lower()
    if key not in policies:
        raise ValueError(f"unknown baseline {name!r} for {env_id}; available: {sorted(policies)}")
    return policies[key](env, **kwargs)


__all__ = ["available", "make_policy"]
