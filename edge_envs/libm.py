"""Float64 log2, log10, log, powers of ten, sin and cos, evaluated by the C library one element at a time.

numpy's own versions of these functions run SIMD code on CPUs with AVX-512 (Intel's SVML) and the C
library's functions elsewhere, and the two differ in the last bit now and then. Dynamics that feed golden
hashes and leaderboard replays (the radio channel, mobility, ServiceMigration's costs) call these instead,
so a seeded episode gives the same bits on every x86-64 CPU.

The loop over the elements is compiled (numba) and calls the C functions through their addresses: the very
functions Python's ``math`` module calls, and an opaque call, so the compiler can neither vectorise it (SVML)
nor rewrite it (e.g. ``pow(10, x)`` into ``exp10(x)``). Passing the address at run time keeps the kernel
cacheable on disk.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_MAX_EXP10 = math.log10(np.finfo(np.float64).max)  # 10 ** v overflows from here (math.pow raises; numpy: inf)
_PROCESS = ctypes.CDLL(None)  # the symbols the process resolves: log10 is the one the math module calls


def address(c_name: str) -> int:
    """Where the C library's function ``c_name`` lives in this process (pass it to compiled code at run time:
    a cached kernel must not hold it, as it changes from process to process)."""
    return ctypes.cast(getattr(_PROCESS, c_name), ctypes.c_void_p).value


def _pointer_call(context, builder, sig, llargs):
    """Code calling the C function at address ``llargs[0]`` with the doubles ``llargs[1:]``."""
    fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * (len(llargs) - 1))
    return builder.call(builder.inttoptr(llargs[0], fnty.as_pointer()), list(llargs[1:]))


@intrinsic
def c_call1(typingctx, address, x):
    """``f(x)`` for the C function ``double f(double)`` at ``address`` (an integer), inside numba code."""
    return types.float64(types.intp, types.float64), _pointer_call


@intrinsic
def c_call2(typingctx, address, x, y):
    """``f(x, y)`` for the C function ``double f(double, double)`` at ``address``, inside numba code."""
    return types.float64(types.intp, types.float64, types.float64), _pointer_call


@njit(cache=True)
def _map(address: int, arity: int, low: float, high: float, x: np.ndarray, out: np.ndarray) -> bool:
    """``out[i] = f(x[i])`` (arity 1) or ``f(10, x[i])`` (arity 2) for the C function at ``address``, where
    ``low <= x[i] <= high``; says whether every entry was in that domain (the others are left to the caller)."""
    inside = True
    for i in range(x.size):
        if low <= x[i] <= high:
            out[i] = c_call1(address, x[i]) if arity == 1 else c_call2(address, 10.0, x[i])
        else:
            inside = False
    return inside


def _elementwise(name: str, c_name: str, arity: int, low: float, high: float, outside):
    """numpy-shaped C function ``c_name`` over the entries in [low, high]; ``outside(x)`` gives the others."""
    pointer = address(c_name)

    def apply(x):
        x = np.asarray(x, dtype=np.float64)
        flat = np.ascontiguousarray(x.ravel())
        out = np.empty(flat.size)
        if not _map(pointer, arity, low, high, flat, out):  # rare: some entry needs numpy's value
            with np.errstate(invalid="ignore"):
                rest = ~((flat >= low) & (flat <= high))
            out[rest] = outside(flat[rest])
        return out.reshape(x.shape)[()]

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"Elementwise {name} of a float64 array (or scalar) by the C library, with numpy's values outside."
    return apply


def _log_outside(x: np.ndarray) -> np.ndarray:
    """numpy's log of a non-positive entry: -inf at 0, NaN below 0 and for NaN."""
    return np.where(x == 0, -np.inf, np.nan)


_TINY = 5e-324  # the least positive double: x > 0 is x >= _TINY
log2 = _elementwise("log2", "log2", 1, _TINY, np.inf, _log_outside)
log10 = _elementwise("log10", "log10", 1, _TINY, np.inf, _log_outside)
log = _elementwise("log", "log", 1, _TINY, np.inf, _log_outside)
log1p = _elementwise(
    "log1p", "log1p", 1, np.nextafter(-1.0, 0.0), np.inf, lambda x: np.where(x == -1, -np.inf, np.nan)
)  # numpy's log1p: -inf at -1, NaN below it and for NaN
pow10 = _elementwise(
    "pow10", "pow", 2, -np.inf, np.nextafter(_MAX_EXP10, 0.0), lambda x: np.where(np.isnan(x), np.nan, np.inf)
)  # 10 ** x by the C library's pow; inf from where it overflows
_FINITE = np.finfo(np.float64).max
cos = _elementwise("cos", "cos", 1, -_FINITE, _FINITE, lambda x: np.full(x.shape, np.nan))
sin = _elementwise("sin", "sin", 1, -_FINITE, _FINITE, lambda x: np.full(x.shape, np.nan))


def geomspace(start: float, stop: float, num: int) -> np.ndarray:
    """``numpy.geomspace(start, stop, num)`` for positive endpoints, its logs and powers taken by the C library."""
    grid = pow10(np.linspace(log10(start), log10(stop), num))
    grid[0] = start
    if num > 1:
        grid[-1] = stop
    return grid
