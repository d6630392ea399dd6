"""Calling numba-compiled kernels without the dispatcher's per-call typing (the single envs' steps).

A numba dispatcher types every argument at each call, about 45 ns an array: a kernel taking a few dozen
arrays, stepping one row, pays more for that than for its work. :func:`compiled_for` returns the compiled
function itself for one set of argument types, for a caller that always passes arguments of those types.
The compiled function still unboxes each array it is passed (about 40 ns each): arguments that are the same
at every call can be held in one numba structref (:func:`hold`), which unboxes as one object.
"""

from __future__ import annotations

import numba
from numba import njit
from numba.core import types
from numba.experimental import structref


def compiled_for(dispatcher, args: tuple):
    """The function ``dispatcher`` compiles (or loads from numba's cache) for the types of ``args``. The
    caller must pass it arguments of exactly these types: no check is made."""
    signature = tuple(numba.typeof(arg) for arg in args)
    dispatcher.compile(signature)
    return dispatcher.get_overload(signature)


@structref.register
class HeldType(types.StructRef):
    """The numba type of :class:`Held`, one per pair of field types."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class Held(structref.StructRefProxy):
    """Arguments a kernel gets at every call, ``constants`` and ``state`` (tuples of arrays and scalars), as one
    object: a compiled function reads ``held.constants`` and ``held.state``, the very arrays given (no
    copies), so what it writes into them the caller sees."""


structref.define_proxy(Held, HeldType, ["constants", "state"])


@njit(cache=True)
def hold(constants: tuple, state: tuple) -> Held:
    """A :class:`Held` of ``constants`` and ``state``, made by compiled code (numba's cache keeps it; the
    proxy's own constructor would be compiled again in every process)."""
    return Held(constants, state)
