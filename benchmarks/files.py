"""Writing benchmark results: a result file is either the old one or the whole new one, never half."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

RESULTS_DIR = Path("benchmarks", "results")
"""Where a benchmark writes by default: ``./benchmarks/results`` under the working directory (the root of a
checkout), never inside the installed package; every benchmark's ``--out`` writes elsewhere."""


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def publish(path: Path, lines: list[str], module: str, argv: list[str] | None, started: float) -> None:
    """Close a result with the command that made it and its run time, write it atomically and print it."""
    command = f"python -m {module} " + " ".join(sys.argv[1:] if argv is None else argv)
    text = "\n".join([*lines, f"Command: `{command.strip()}`; {time.perf_counter() - started:.0f} s.", ""])
    write_atomically(path, text)
    print(text)
