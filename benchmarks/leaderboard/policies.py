"""Policies from a ``--policy`` spec: user code, a baseline, a project checkpoint or an SB3 model.

Specs:

* ``module.path:object`` or ``path/to/file.py:object``: an object of the policy protocol
  (``act(observation, info) -> action``, optional ``reset(seed=None)``), or a class or factory
  that builds one; a class or factory taking an argument is called with the env.
* ``baseline:NAME``: ``baselines.make_policy(NAME, env)``.
* ``checkpoint:PATH[,PATH...]``: checkpoints written by ``edge-envs train``, loaded with
  ``torch.load(weights_only=True)``, so no code in a file runs. A network takes observations and
  actions of fixed sizes, so an agent may bring one checkpoint per size: each instance of the set
  gets the first checkpoint whose observation length and action sizes fit its env. A checkpoint
  trained on an env's discrete weight levels (config ``action_levels=L``: level l is the weight
  l / (L - 1), as multiserver_fl_v0 defines them) also fits the same env with its ``Box(0, 1)``
  weights: it acts through those weights. A maskable-ppo checkpoint acts among the legal actions
  of ``info["action_mask"]``. A priced checkpoint (agents.priced) fits every EdgePartition-v0 size: each
  instance gets the one trained on its config, else the first.
* ``rllib:PATH[,PATH...]``: RLModule folders of ``edge-envs train --algo rllib-ppo`` (the policy alone,
  ``agents.rllib.export_module``), one per size as for checkpoints; needs Ray RLlib (the ``[ray]``
  extra) and unpickles the folder: ``--trust-pickle``.
* ``local-search:SPEC``: the policy of any other spec, its EdgePartition placement improved each step by
  local search over single-block moves priced by the env's own cost
  (``baselines.edge_partition.policies.Refined``); the entry's kind is SPEC's.
* ``sb3:ALGO:PATH``: a Stable-Baselines3 zip (ALGO one of ppo, a2c, dqn, sac, td3, ..., or
  maskable-ppo for sb3-contrib's MaskablePPO, which reads ``info["action_mask"]``). Loading one
  runs pickle, i.e. whatever code the file carries: load only files you trust; the command asks
  for ``--trust-pickle``.

Only the leaderboard's worker process calls :func:`load_policy`: a submitted policy's code never
runs in the process that writes results.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
from pathlib import Path

import numpy as np

PICKLE_KINDS = ("sb3", "rllib")
MASKABLE = "maskable-ppo"  # sb3-contrib's MaskablePPO, given as sb3:maskable-ppo:PATH


REFINED = "local-search"  # the prefix of a spec whose policy local search improves


def inner(spec: str) -> str:
    """The spec a ``local-search:`` spec wraps (any other spec as it is)."""
    while spec.startswith(REFINED + ":"):
        spec = spec[len(REFINED) + 1 :]
    return spec


def kind_of(spec: str) -> str:
    """The entry kind a spec makes: "baseline", "agent" (checkpoint or SB3 model) or "submission"."""
    prefix = inner(spec).split(":", 1)[0]
    return {"baseline": "baseline", "checkpoint": "agent", "sb3": "agent", "rllib": "agent"}.get(prefix, "submission")


def check_spec(spec: str) -> None:
    """ValueError unless ``spec`` has one of the documented forms."""
    prefix, _, rest = inner(spec).partition(":")
    if not prefix or not rest:
        raise ValueError(
            f"--policy {spec!r}: expected module:object, path/file.py:object, baseline:NAME, "
            "checkpoint:PATH, rllib:PATH, sb3:ALGO:PATH or local-search: before any of these"
        )
    if prefix == "sb3" and rest.count(":") < 1:
        raise ValueError(f"--policy {spec!r}: an SB3 model is given as sb3:ALGO:PATH, e.g. sb3:ppo:model.zip")


def source_files(spec: str) -> list[Path]:
    """The files a spec loads (a .py file, checkpoints, an SB3 zip); none for a module or a baseline."""
    prefix, _, rest = inner(spec).partition(":")
    if prefix == "checkpoint":
        return [Path(path) for path in rest.split(",")]
    if prefix == "rllib":  # every file of each module folder
        return [file for folder in rest.split(",") for file in sorted(Path(folder).rglob("*")) if file.is_file()]
    if prefix == "sb3":
        return [Path(rest.split(":", 1)[1])]
    if prefix.endswith(".py") or "/" in prefix:
        return [Path(prefix)]
    return []


def absolute(spec: str) -> str:
    """``spec`` with its file paths made absolute, for a process about to leave the directory they are relative to."""
    if spec != inner(spec):
        return spec[: len(spec) - len(inner(spec))] + absolute(inner(spec))
    prefix, _, rest = spec.partition(":")
    if prefix in ("checkpoint", "rllib"):
        return f"{prefix}:" + ",".join(os.path.abspath(path) for path in rest.split(","))
    if prefix == "sb3":
        algo, path = rest.split(":", 1)
        return f"sb3:{algo}:{os.path.abspath(path)}"
    target, _, name = spec.rpartition(":")
    if prefix != "baseline" and (target.endswith(".py") or "/" in target):
        return f"{os.path.abspath(target)}:{name}"
    return spec


def sha256(spec: str) -> str | None:
    """The SHA-256 of the file(s) behind ``spec`` (recorded in the result for provenance)."""
    digest, paths = hashlib.sha256(), [path for path in source_files(spec) if path.is_file()]
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest() if paths else None


class LevelWeights:
    """A policy trained on discrete weight levels acting on ``Box(0, 1)`` weights: level l of L is l / (L - 1)."""

    def __init__(self, policy, levels: int):
        self.policy, self.levels = policy, levels

    def reset(self, seed: int | None = None) -> None:
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset(seed)

    def _weights(self, action) -> np.ndarray:
        return (np.asarray(action, dtype=np.float64) / (self.levels - 1)).astype(np.float32)

    def act(self, observation, info=None):
        action = self.policy.act(observation, info)
        if isinstance(action, dict):
            return {agent: self._weights(value) for agent, value in action.items()}
        return self._weights(action)


def _spaces(env) -> tuple[int, list[int] | None, int | None]:
    """(observation length, action nvec, None) of ``env`` (every agent alike), or (length, None, S) when its
    actions are ``Box(0, 1, (S,))`` weights."""
    from gymnasium import spaces

    from agents.envs import env_spaces
    from agents.spaces import observation_dim

    multi = hasattr(env, "possible_agents")
    space = env.action_space(env.possible_agents[0]) if multi else env.action_space
    if isinstance(space, spaces.Box) and space.shape and len(space.shape) == 1:
        if np.all(space.low == 0) and np.all(space.high == 1):
            obs_space = env.observation_space(env.possible_agents[0]) if multi else env.observation_space
            return observation_dim(obs_space), None, int(space.shape[0])
    obs_dim, nvec = env_spaces(env)
    return obs_dim, [int(n) for n in nvec], None


def _agents(payload: dict) -> int:
    """How many agents the env of a checkpoint has (0 for a Gymnasium env): an instance of a PettingZoo env
    with as many agents (devices, servers) gets it, as an id input or a shared queue's load depends on it."""
    if "num_agents" in payload:
        return int(payload["num_agents"])
    import json

    from agents.envs import make_env, pettingzoo_module

    if pettingzoo_module(payload["env_id"]) is None:
        return 0
    return len(make_env(payload["env_id"], json.loads(payload.get("env_kwargs") or "{}")).possible_agents)


def _checkpoint_policy(paths: str, env):
    """The policy of the first checkpoint in ``paths`` (comma-separated) whose spaces fit ``env``."""
    import json

    from agents.checkpoint import load_checkpoint
    from agents.envs import make_env
    from agents.generalist import GENERALIST
    from agents.policy import policy_from_payload
    from agents.priced import ENV_ID as PRICED_ENV
    from agents.priced import PRICED

    obs_dim, nvec, weights = _spaces(env)
    found, priced = [], []
    for path in paths.split(","):
        payload = load_checkpoint(path)
        if payload["algo"] == GENERALIST:  # its parameters depend on no instance size
            return policy_from_payload(payload, env)
        if payload["algo"] == PRICED:  # any size; the one trained on this instance's config first
            if make_env(PRICED_ENV, json.loads(payload["env_kwargs"])).unwrapped.cfg == env.unwrapped.cfg:
                return policy_from_payload(payload, env)
            priced.append(payload)
            continue
        saved = [int(n) for n in payload.get("nvec", [])]
        if payload.get("obs_dim") == obs_dim and _agents(payload) == len(getattr(env, "possible_agents", ())):
            if saved == nvec:
                return policy_from_payload(payload, env)
            levels = json.loads(payload.get("env_kwargs") or "{}").get("action_levels", 0)
            if weights is not None and levels >= 2 and saved == [levels] * weights:
                return LevelWeights(policy_from_payload(payload, env), levels)
        found.append(f"{path}: {payload.get('obs_dim')} / {saved} / {_agents(payload)} agents")
    if priced:
        return policy_from_payload(priced[0], env)
    wanted = f"actions {nvec}" if weights is None else f"Box(0, 1) weights of length {weights}"
    wanted += f" for {len(env.possible_agents)} agents" if hasattr(env, "possible_agents") else ""
    raise ValueError(
        f"no checkpoint fits observations of length {obs_dim} and {wanted}; the checkpoints have {'; '.join(found)}"
    )


def _rllib_policy(paths: str, env):
    """The policy of the first RLModule folder in ``paths`` (comma-separated) whose spaces fit ``env``."""
    try:
        from agents.rllib import RLlibPolicy
    except ImportError as error:
        raise ValueError(f"rllib:PATH needs Ray RLlib (pip install -e '.[ray]'): {error}") from None
    multi = hasattr(env, "possible_agents")
    obs_space = env.observation_space(env.possible_agents[0]) if multi else env.observation_space
    action_space = env.action_space(env.possible_agents[0]) if multi else env.action_space
    found = []
    for path in paths.split(","):
        policy = RLlibPolicy.from_module(path)
        observations = policy.module.observation_space
        observations = getattr(observations, "spaces", {}).get("observations", observations)  # masked: a Dict
        if observations.shape == obs_space.shape and policy.module.action_space == action_space:
            return policy
        found.append(f"{path}: {observations.shape} / {policy.module.action_space}")
    raise ValueError(
        f"no RLlib module fits observations of shape {obs_space.shape} and actions {action_space}; "
        f"the modules have {'; '.join(found)}"
    )


def _import_object(target: str, name: str):
    if target.endswith(".py") or "/" in target:
        path = Path(target)
        if not path.is_file():
            raise FileNotFoundError(f"no policy file {path}")
        module_spec = importlib.util.spec_from_file_location(f"_leaderboard_policy_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{target} has no {name!r}")
        obj = getattr(obj, part)
    return obj


def _takes_argument(factory) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)


def build(obj, env):
    """A policy from ``obj``: returned as is if it has ``act``, else called (with the env if it takes an argument)."""
    if inspect.isclass(obj) or not callable(getattr(obj, "act", None)):
        if not callable(obj):
            raise ValueError(f"{obj!r} is neither a policy (no act method) nor a class or factory")
        obj = obj(env) if _takes_argument(obj) else obj()
    if not callable(getattr(obj, "act", None)):
        raise ValueError(f"the policy {obj!r} has no act(observation, info) method")
    return obj


def load_policy(spec: str, env):
    """The policy ``spec`` names, built for ``env``."""
    check_spec(spec)
    prefix, _, rest = spec.partition(":")
    if prefix == REFINED:
        from baselines.edge_partition.policies import Refined
        from edge_envs.edge_partition.env import EdgePartitionEnv
        from edge_envs.edge_partition.multi import EdgePartitionMultiEnv

        if not isinstance(getattr(env, "unwrapped", env), (EdgePartitionEnv, EdgePartitionMultiEnv)):
            raise ValueError(
                f"--policy {spec!r}: local search improves EdgePartition-v0 and edge_partition_multi_v0 placements, "
                f"not {type(getattr(env, 'unwrapped', env)).__name__}'s actions"
            )
        return Refined(env, load_policy(rest, env))
    if prefix == "baseline":
        import baselines

        return baselines.make_policy(rest, env)
    if prefix == "checkpoint":
        return _checkpoint_policy(rest, env)
    if prefix == "rllib":
        return _rllib_policy(rest, env)
    if prefix == "sb3":
        import stable_baselines3

        from agents.sb3 import SB3Policy

        algo, path = rest.split(":", 1)
        classes = {
            name.lower(): getattr(stable_baselines3, name) for name in ("PPO", "A2C", "DQN", "SAC", "TD3", "DDPG")
        }
        if algo.lower() not in (*classes, MASKABLE):
            raise ValueError(f"unknown SB3 algorithm {algo!r}; choose from {sorted((*classes, MASKABLE))}")
        if not Path(path).is_file():
            raise FileNotFoundError(f"no SB3 model file {path}")
        if algo.lower() == MASKABLE:
            from agents.maskable import load_maskable  # sb3-contrib

            return load_maskable(path)
        return SB3Policy(classes[algo.lower()].load(path, device="cpu"))
    target, _, name = spec.rpartition(":")
    return build(_import_object(target, name), env)
