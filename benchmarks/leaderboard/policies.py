"""Policies from a ``--policy`` spec: user code, a baseline, a project checkpoint or an SB3 model.

Specs:

* ``module.path:object`` or ``path/to/file.py:object``: an object of the policy protocol
  (``act(observation, info) -> action``, optional ``reset(seed=None)``), or a class or factory
  that builds one; a class or factory taking an argument is called with the env.
* ``baseline:NAME``: ``baselines.make_policy(NAME, env)``.
* ``checkpoint:PATH[,PATH...]``: checkpoints written by ``edge-envs train``, loaded with
  ``torch.load(weights_only=True)``, so no code in a file runs. A network takes observations and
  actions of fixed sizes, so an agent may bring one checkpoint per size: each instance of the set
  gets the first checkpoint whose observation length and action sizes fit its env.
* ``sb3:ALGO:PATH``: a Stable-Baselines3 zip (ALGO one of ppo, a2c, dqn, sac, td3, ...). Loading
  one runs pickle, i.e. whatever code the file carries: load only files you trust; the command asks
  for ``--trust-pickle``.

Only the leaderboard's worker process calls :func:`load_policy`: a submitted policy's code never
runs in the process that writes results.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
from pathlib import Path

PICKLE_KINDS = ("sb3",)


def kind_of(spec: str) -> str:
    """The entry kind a spec makes: "baseline", "agent" (checkpoint or SB3 model) or "submission"."""
    prefix = spec.split(":", 1)[0]
    return {"baseline": "baseline", "checkpoint": "agent", "sb3": "agent"}.get(prefix, "submission")


def check_spec(spec: str) -> None:
    """ValueError unless ``spec`` has one of the documented forms."""
    prefix, _, rest = spec.partition(":")
    if not prefix or not rest:
        raise ValueError(
            f"--policy {spec!r}: expected module:object, path/file.py:object, baseline:NAME, "
            "checkpoint:PATH or sb3:ALGO:PATH"
        )
    if prefix == "sb3" and rest.count(":") < 1:
        raise ValueError(f"--policy {spec!r}: an SB3 model is given as sb3:ALGO:PATH, e.g. sb3:ppo:model.zip")


def source_files(spec: str) -> list[Path]:
    """The files a spec loads (a .py file, checkpoints, an SB3 zip); none for a module or a baseline."""
    prefix, _, rest = spec.partition(":")
    if prefix == "checkpoint":
        return [Path(path) for path in rest.split(",")]
    if prefix == "sb3":
        return [Path(rest.split(":", 1)[1])]
    if prefix.endswith(".py") or "/" in prefix:
        return [Path(prefix)]
    return []


def sha256(spec: str) -> str | None:
    """The SHA-256 of the file(s) behind ``spec`` (recorded in the result for provenance)."""
    digest, paths = hashlib.sha256(), [path for path in source_files(spec) if path.is_file()]
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest() if paths else None


def _checkpoint_policy(paths: str, env):
    """The policy of the first checkpoint in ``paths`` (comma-separated) whose spaces fit ``env``."""
    from agents.checkpoint import load_checkpoint
    from agents.envs import env_spaces
    from agents.policy import policy_from_payload

    obs_dim, nvec = env_spaces(env)
    found = []
    for path in paths.split(","):
        payload = load_checkpoint(path)
        if payload.get("obs_dim") == obs_dim and list(payload.get("nvec", [])) == [int(n) for n in nvec]:
            return policy_from_payload(payload, env)
        found.append(f"{path}: {payload.get('obs_dim')} / {payload.get('nvec')}")
    raise ValueError(
        f"no checkpoint fits observations of length {obs_dim} and actions {[int(n) for n in nvec]}; "
        f"the checkpoints have {'; '.join(found)}"
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
    if prefix == "baseline":
        import baselines

        return baselines.make_policy(rest, env)
    if prefix == "checkpoint":
        return _checkpoint_policy(rest, env)
    if prefix == "sb3":
        import stable_baselines3

        from agents.policy import SB3Policy

        algo, path = rest.split(":", 1)
        classes = {
            name.lower(): getattr(stable_baselines3, name) for name in ("PPO", "A2C", "DQN", "SAC", "TD3", "DDPG")
        }
        if algo.lower() not in classes:
            raise ValueError(f"unknown SB3 algorithm {algo!r}; choose from {sorted(classes)}")
        return SB3Policy(classes[algo.lower()].load(path, device="cpu"))
    target, _, name = spec.rpartition(":")
    return build(_import_object(target, name), env)
