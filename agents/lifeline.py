"""Worker processes that end with their parent, so a killed trainer leaves no orphans behind.

``multiprocessing``'s daemon flag only ends workers when the parent exits normally; after a
SIGKILL they would run on (and keep the resource tracker alive). A worker calls
:func:`exit_with_parent` first thing: a daemon thread then ends it within ``poll_s`` seconds
of its parent's death (the parent id changes when the parent is gone).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time


def exit_with_parent(parent_pid: int | None = None, poll_s: float = 0.5) -> None:
    """End this process (``os._exit(1)``) once ``parent_pid`` is gone (default: the process that
    started this one, as multiprocessing recorded it, so a parent that died during the worker's
    start-up is noticed too)."""
    if parent_pid is None:
        parent = multiprocessing.parent_process()
        parent_pid = parent.pid if parent is not None else os.getppid()

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
