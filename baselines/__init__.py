"""Non-learning policies for every environment, reachable by lower-case name.

Each environment's baselines live in one module that exposes ``POLICIES``: a dict from
name to a factory ``factory(env, **kwargs) -> policy``. A policy meets the project's one
protocol: ``act(observation, info) -> action`` and an optional ``reset(seed=None)``. The module
also names its ``STRONGEST`` baselines (what ``edge-envs evaluate`` compares with by default) and
its ``REFERENCES``: ``{name: fn(env, seed) -> float}``, each an upper bound on the return of the
episode that ``env.reset(seed=seed)`` starts, or its exact optimum (the module documents which).
"""

from __future__ import annotations

import copy
import importlib

# env id -> (module, its dict of policies, its dict of references or None)
_MODULES = {
    "EdgePartition-v0": ("baselines.edge_partition", "POLICIES", "REFERENCES"),
    # the bound is for one device's episode: the multi-agent env has none
    "edge_partition_multi_v0": ("baselines.edge_partition", "MULTI_POLICIES", None),
    "ServiceMigration-v0": ("baselines.service_migration", "POLICIES", "REFERENCES"),
    "EdgeUpload-v0": ("baselines.edge_upload", "POLICIES", "REFERENCES"),
    "multiserver_fl_v0": ("baselines.multiserver_fl", "POLICIES", "REFERENCES"),
}


def _module(env_id: str):
    if env_id not in _MODULES:
        raise ValueError(f"no baselines for env id {env_id!r}; known ids: {sorted(_MODULES)}")
    return importlib.import_module(_MODULES[env_id][0])


def _policies(env_id: str) -> dict:
    return getattr(_module(env_id), _MODULES[env_id][1])


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


def aliases(env_id: str) -> dict[str, str]:
    """``{alias: name}``: the names of ``env_id`` whose factory an earlier name of its module already has
    (e.g. ``rpdi`` for ``random``), and those its module's ``ALIASES`` lists (a policy that acts as another
    and differs only in the env config it is meant for); the leaderboard ranks each policy once, under
    its first name."""
    first, out = {}, {}
    for name, factory in _policies(env_id).items():
        if factory in first:
            out[name] = first[factory]
        else:
            first[factory] = name
    return out | {alias: name for alias, name in getattr(_module(env_id), "ALIASES", {}).items()}


def strongest(env_id: str) -> list[str]:
    """The strongest baselines of ``env_id`` (its module's ``STRONGEST`` that the env has), best first."""
    known = _policies(env_id)
    return [name for name in _module(env_id).STRONGEST if name in known]


def references(env_id: str) -> dict:
    """``{name: fn(env, seed) -> float}``: the env's references (empty when it has none)."""
    module, name = _module(env_id), _MODULES[env_id][2]
    return copy.copy(getattr(module, name)) if name else {}  # a copy of its kind: renamed names still answer


def make_policy(name: str, env, **kwargs):
    """Build baseline ``name`` for ``env`` (an env made by gym.make or a PettingZoo parallel_env)."""
    env_id = _env_id(env)
    policies = _policies(env_id)
    key = name.lower()
    if key not in policies:
        raise ValueError(f"unknown baseline {name!r} for {env_id}; available: {sorted(policies)}")
    return policies[key](env, **kwargs)


__all__ = ["available", "make_policy", "references", "strongest"]
