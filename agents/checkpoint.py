"""Checkpoints of trained agents: plain dicts of tensors and primitives, written atomically.

A checkpoint loads with ``torch.load(path, weights_only=True)`` (no pickled code runs), so it is
safe to open one from elsewhere. It holds the algorithm, the env it was trained on, the agent's
options, the network and optimizer state, and the step and update counts, which is what
``--resume`` needs to continue with the step count intact. A SHA-256 of the whole content is
stored beside it and checked on loading, so a flipped byte is an error, not a silently different
agent. The hash proves only that the file is unchanged, not that it is sane: weights or optimizer
state that are not finite (a diverged run) and step or update counts that are not counts are refused too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import torch

from edge_envs.io import write_atomically

FORMAT = "edge-envs-agent"
VERSION = 2  # 2: content hash; SB3 options and hyperparameters apart
REQUIRED = (
    "format", "version", "algo", "env_id", "env_kwargs", "seed", "steps", "updates",
    "options", "obs_dim", "nvec", "model", "optimizer", "sha256",
)  # fmt: skip


def run_fields(trainer) -> dict:
    """The fields every trainer's checkpoint holds about its run (algo, env, seed, counts, options, spaces)."""
    return {
        "algo": trainer.algo,
        "env_id": trainer.env_id,
        "env_kwargs": json.dumps(trainer.env_kwargs, sort_keys=True),
        "seed": trainer.seed,
        "steps": trainer.steps,
        "updates": trainer.updates,
        "options": dataclasses.asdict(trainer.options),
        "obs_dim": trainer.obs_dim,
        "nvec": [int(n) for n in trainer.nvec],
    }


def network_fields(trainer) -> dict:
    """A torch trainer's weights (copied) and optimizer state, as its checkpoint holds them."""
    return {
        "model": {k: v.detach().clone() for k, v in trainer.model.state_dict().items()},
        "optimizer": trainer.optimizer.state_dict(),
    }


def restore_network(trainer, payload: dict) -> None:
    """Load :func:`network_fields` and the step and update counts of ``payload`` into ``trainer``."""
    trainer.model.load_state_dict(payload["model"])
    trainer.optimizer.load_state_dict(payload["optimizer"])
    trainer.steps, trainer.updates = int(payload["steps"]), int(payload["updates"])


class CheckpointError(ValueError):
    """A file that is not a readable, intact edge-envs agent checkpoint."""


def _feed(digest, value) -> None:
    """Hash ``value`` by type and content (dict keys in a fixed order, tensors by dtype, shape and bytes)."""
    if isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):  # a tuple may come back as a list: same hash
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif isinstance(value, torch.Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{flat.dtype}{tuple(value.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    elif value is None or isinstance(value, (bool, int, float, str)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    else:
        raise TypeError(f"a checkpoint holds tensors and primitives only, got {type(value).__name__}")


def content_hash(payload: dict) -> str:
    """SHA-256 of every entry of ``payload`` except ``sha256`` itself."""
    digest = hashlib.sha256()
    _feed(digest, {key: value for key, value in payload.items() if key != "sha256"})
    return digest.hexdigest()


def save_checkpoint(path, payload: dict) -> Path:
    """Write ``payload`` plus format, version and content hash to ``path`` atomically."""
    full = {"format": FORMAT, "version": VERSION, **payload}
    full["sha256"] = content_hash(full)
    return write_atomically(path, lambda stream: torch.save(full, stream))


def load_checkpoint(path) -> dict:
    """Read a checkpoint with ``weights_only=True``; a named error for a missing, corrupt, altered,
    incomplete or diverged (non-finite) one."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a checkpoint file (a run folder holds checkpoint.pt)")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (train one with `edge-envs train ... --logdir DIR`)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated?): {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an edge-envs agent checkpoint (no format {FORMAT!r})")
    if "version" in payload and payload["version"] != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {payload['version']}; this edge-envs reads version {VERSION}"
        )
    missing = [key for key in REQUIRED if key not in payload]
    if missing:
        raise CheckpointError(f"{path} lacks the entries {missing}")
    if payload["sha256"] != content_hash(payload):
        raise CheckpointError(f"{path}: content does not match its SHA-256 (the file was altered or corrupted)")
    check_finite(payload, f"{path}: ")
    check_counts(payload, f"{path}: ")
    return payload


def _non_finite(value, where: str) -> list[str]:
    """Where in a nested dict / list of tensors and numbers a value is NaN or infinite."""
    if isinstance(value, dict):
        return [bad for key, item in value.items() for bad in _non_finite(item, f"{where}[{key!r}]")]
    if isinstance(value, (list, tuple)):
        return [bad for i, item in enumerate(value) for bad in _non_finite(item, f"{where}[{i}]")]
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return [] if bool(torch.isfinite(value).all()) else [where]
    if isinstance(value, float):
        return [] if math.isfinite(value) else [where]
    return []


def check_counts(payload: dict, where: str = "") -> None:
    """Refuse step and update counts that are not counts: integers with 0 <= updates <= steps (every
    update of every agent learns from at least one step)."""
    steps, updates = payload["steps"], payload["updates"]
    for name, value in (("steps", steps), ("updates", updates)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CheckpointError(f"{where}{name} must be an integer >= 0 (env steps and updates done), got {value!r}")
    if updates > steps:
        raise CheckpointError(f"{where}updates ({updates}) must not exceed steps ({steps}): each update takes a step")


def check_finite(payload: dict, where: str = "") -> None:
    """Refuse a payload whose network weights or optimizer state are not all finite (a diverged run
    builds no policy and resumes nowhere)."""
    bad = [
        name
        for name, tensor in payload["model"].items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]
    if bad:
        raise CheckpointError(f"{where}non-finite weights (NaN or infinity) in {bad}: the run diverged")
    bad = _non_finite(payload.get("optimizer", {}), "optimizer")
    if bad:
        raise CheckpointError(f"{where}non-finite optimizer state (NaN or infinity) in {bad[:3]}: the run diverged")
