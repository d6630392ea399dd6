"""Calling numba-compiled kernels without the dispatcher's per-call typing (the single envs' steps).

A numba dispatcher types every argument at each call, about 45 ns an array: a kernel taking a few dozen
arrays, stepping one row, pays more for that than for its work. :func:`compiled_for` returns the compiled
function itself for one set of argument types, for a caller that always passes arguments of those types.
"""

from __future__ import annotations

import numba


def compiled_for(dispatcher, args: tuple):
    """The function ``dispatcher`` compiles (or loads from numba's cache) for the types of ``args``. The
    caller must pass it arguments of exactly these types: no check is made."""
    signature = tuple(numba.typeof(arg) for arg in args)
    dispatcher.compile(signature)
    return dispatcher.get_overload(signature)
