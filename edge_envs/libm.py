"""Float64 log2, log10, log, powers of ten, sin and cos, evaluated by the C library one element at a time.

numpy's own versions of these functions run SIMD code on CPUs with AVX-512 (Intel's SVML) and the C
library's functions elsewhere, and the two differ in the last bit now and then. Dynamics that feed golden
hashes and leaderboard replays (the radio channel, mobility, ServiceMigration's costs) call these instead,
so a seeded episode gives the same bits on every x86-64 CPU. They are slower than numpy's per element, which
does not matter for the small arrays (devices x edges) they are used on.
"""

from __future__ import annotations

import math

import numpy as np


def _log_of(fn):
    """``fn`` with numpy's values outside its domain: -inf at 0, NaN below 0 (and for NaN)."""

    def log(v: float) -> float:
        if v > 0:
            return fn(v)
        return -math.inf if v == 0 else math.nan

    return log


def _pow10(v: float) -> float:
    try:
        return 10.0**v
    except OverflowError:
        return math.inf


def _elementwise(scalar, name: str):
    ufunc = np.frompyfunc(scalar, 1, 1)

    def apply(x):
        return np.asarray(ufunc(np.asarray(x, dtype=np.float64)), dtype=np.float64)[()]

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"Elementwise {name} of a float64 array (or scalar) by the C library; numpy's shape rules."
    return apply


log2 = _elementwise(_log_of(math.log2), "log2")
log10 = _elementwise(_log_of(math.log10), "log10")
log = _elementwise(_log_of(math.log), "log")
pow10 = _elementwise(_pow10, "pow10")
cos = _elementwise(math.cos, "cos")
sin = _elementwise(math.sin, "sin")


def geomspace(start: float, stop: float, num: int) -> np.ndarray:
    """``numpy.geomspace(start, stop, num)`` for positive endpoints, its logs and powers taken by the C library."""
    grid = pow10(np.linspace(log10(start), log10(stop), num))
    grid[0] = start
    if num > 1:
        grid[-1] = stop
    return grid
