"""Atomic file writing: a file is either the old one or the whole new one, never half of either.

Every file the project writes (profiles, checkpoints, benchmark results) goes through
:func:`write_atomically`: the content goes to a temporary file ``.{name}.<random>.tmp`` in the
same folder, is flushed to disk, and replaces the target with ``os.replace``. A process killed
mid-write leaves only such a temporary behind; :func:`remove_stale_temporaries` clears them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _temporary_pattern(path: Path) -> tuple[str, str]:
    return f".{path.name}.", ".tmp"


def write_atomically(path, content: str | bytes | Callable[[BinaryIO], None]) -> Path:
    """Write ``content`` to ``path`` atomically (text as UTF-8, bytes as they are, or a callable
    given the open binary file, e.g. ``lambda f: torch.save(obj, f)``); the file is world-readable."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = _temporary_pattern(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            if callable(content):
                content(stream)
            else:
                stream.write(content.encode("utf-8") if isinstance(content, str) else content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def remove_stale_temporaries(path) -> list[Path]:
    """Delete the temporaries that interrupted writes of ``path`` left behind; call it only while
    no process writes ``path``. Returns what was deleted."""
    path = Path(path)
    prefix, suffix = _temporary_pattern(path)
    stale = sorted(path.parent.glob(f"{prefix}*{suffix}"))
    for temporary in stale:
        temporary.unlink(missing_ok=True)
    return stale
