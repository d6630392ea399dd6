"""Run folders of ``edge-envs train``: ``{logdir}/{env_id}__{algo}__{seed}__{timestamp}/`` (cleanrl's names),
each holding the TensorBoard events and ``checkpoint.pt``; ``train --resume`` and ``evaluate --latest``
find the newest one."""

from __future__ import annotations

import time
from pathlib import Path

CHECKPOINT = "checkpoint.pt"


def run_name(env_id: str, algo: str, seed: int) -> str:
    """cleanrl-style run name ``{env_id}__{algo}__{seed}__{timestamp}`` (path-safe)."""
    safe_id = env_id.replace("/", "_").replace(":", "_")
    return f"{safe_id}__{algo}__{seed}__{time.strftime('%Y%m%d-%H%M%S')}"


def new_run_dir(logdir, env_id: str, algo: str, seed: int) -> Path:
    """Create a run folder that no other run uses: the run name, or with a ``-1``, ``-2``, ... suffix."""
    base = Path(logdir) / run_name(env_id, algo, seed)
    for number in range(10_000):
        candidate = base if number == 0 else base.with_name(f"{base.name}-{number}")
        try:
            candidate.mkdir(parents=True)  # atomic: of two runs racing for a name, one gets it
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"10000 runs named {base.name} already exist under {logdir}")


def _run_order(run_dir: Path) -> tuple[str, int]:
    """Sort key of a run folder: its timestamp, then its suffix (none: 0)."""
    parts = run_dir.name.rsplit("__", 1)[-1].split("-", 2)
    return "-".join(parts[:2]), int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0


def latest_run(logdir, env_id: str, algo: str = "*", seed: int | str = "*", flag: str = "--resume") -> Path:
    """Newest run directory of (env, algo, seed) under ``logdir`` that holds a checkpoint (``"*"``: any
    algo or seed; runs are ordered by the timestamp of their name, then their suffix); ``flag`` names the
    option that asked, in the error when there is none."""
    prefix = run_name(env_id, algo, seed).rsplit("__", 1)[0] + "__"
    runs = [p.parent for p in Path(logdir).glob(f"{prefix}*/{CHECKPOINT}")]
    if not runs:
        raise FileNotFoundError(f"{flag}: no run {prefix}* with a {CHECKPOINT} under {logdir}")
    return max(runs, key=_run_order)
