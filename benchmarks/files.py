"""Writing benchmark results: a result file is either the old one or the whole new one, never half."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from edge_envs.io import write_atomically  # the one atomic writer (benchmarks import it from here too)

RESULTS_DIR = Path("benchmarks", "results")
"""Where a benchmark writes by default: ``./benchmarks/results`` under the working directory (the root of a
checkout), never inside the installed package; every benchmark's ``--out`` writes elsewhere."""


def publish(path: Path, lines: list[str], module: str, argv: list[str] | None, started: float) -> None:
    """Close a result with the command that made it and its run time, write it atomically and print it."""
    command = f"python -m {module} " + " ".join(sys.argv[1:] if argv is None else argv)
    text = "\n".join([*lines, f"Command: `{command.strip()}`; {time.perf_counter() - started:.0f} s.", ""])
    write_atomically(path, text)
    print(text)
