"""Checkpoints of trained agents: plain dicts of tensors and primitives, written atomically.

A checkpoint loads with ``torch.load(path, weights_only=True)`` (no pickled code runs), so
it is safe to open one from elsewhere. It holds the algorithm, the env it was trained on, the
agent's options, the network and optimizer state, and the step and update counts, which is
what ``--resume`` needs to continue with the step count intact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

FORMAT = "edge-envs-agent"
VERSION = 1
REQUIRED = ("format", "version", "algo", "env_id", "env_kwargs", "seed", "steps", "updates", "options", "model")


class CheckpointError(ValueError):
    """A file that is not a readable edge-envs agent checkpoint."""


def save_checkpoint(path, payload: dict) -> Path:
    """Write ``payload`` (plus format and version) to ``path`` atomically: temp file, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, "version": VERSION, **payload}, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint with ``weights_only=True``; clear errors for a missing, corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (train one with `edge-envs train ... --logdir DIR`)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated?): {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an edge-envs agent checkpoint (no format {FORMAT!r})")
    if payload["version"] != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload['version']}; this edge-envs reads version {VERSION}")
    missing = [key for key in REQUIRED if key not in payload]
    if missing:
        raise CheckpointError(f"{path} lacks the entries {missing}")
    return payload
