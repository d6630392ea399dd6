"""Float64 log2, log10, log, powers of ten, sin and cos, evaluated by the C library one element at a time.

numpy's own versions of these functions run SIMD code on CPUs with AVX-512 (Intel's SVML) and the C
library's functions elsewhere, and the two differ in the last bit now and then. Dynamics that feed golden
hashes and leaderboard replays (the radio channel, mobility, ServiceMigration's costs) call these instead,
so a seeded episode gives the same bits on every x86-64 CPU. They cost about ten times numpy's per element,
which does not matter for the small arrays (devices x edges) they are used on.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

_MAX_EXP10 = math.log10(np.finfo(np.float64).max)  # 10 ** v overflows from here (math.pow raises; numpy: inf)


def _map(fn, x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(fn, x.tolist()), np.float64, x.size)


def _elementwise(name: str, fn, domain, outside):
    """numpy-shaped ``fn`` over the entries where ``domain(x)`` holds; ``outside(x)`` gives the others."""

    def apply(x):
        x = np.asarray(x, dtype=np.float64)
        flat = x.ravel()
        inside = domain(flat)
        if inside.all():  # the usual case: no entry needs numpy's value
            return _map(fn, flat).reshape(x.shape)[()]
        out = outside(flat)
        out[inside] = _map(fn, flat[inside])
        return out.reshape(x.shape)[()]

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"Elementwise {name} of a float64 array (or scalar) by the C library, with numpy's values outside."
    return apply


def _log_outside(x: np.ndarray) -> np.ndarray:
    """numpy's log of a non-positive entry: -inf at 0, NaN below 0 and for NaN."""
    return np.where(x == 0, -np.inf, np.nan)


log2 = _elementwise("log2", math.log2, lambda x: x > 0, _log_outside)
log10 = _elementwise("log10", math.log10, lambda x: x > 0, _log_outside)
log = _elementwise("log", math.log, lambda x: x > 0, _log_outside)
log1p = _elementwise(
    "log1p", math.log1p, lambda x: x > -1, lambda x: np.where(x == -1, -np.inf, np.nan)
)  # numpy's log1p: -inf at -1, NaN below it and for NaN
pow10 = _elementwise(
    "pow10", partial(math.pow, 10.0), lambda x: x < _MAX_EXP10, lambda x: np.where(np.isnan(x), np.nan, np.inf)
)
cos = _elementwise("cos", math.cos, np.isfinite, lambda x: np.full(x.shape, np.nan))
sin = _elementwise("sin", math.sin, np.isfinite, lambda x: np.full(x.shape, np.nan))


def geomspace(start: float, stop: float, num: int) -> np.ndarray:
    """``numpy.geomspace(start, stop, num)`` for positive endpoints, its logs and powers taken by the C library."""
    grid = pow10(np.linspace(log10(start), log10(stop), num))
    grid[0] = start
    if num > 1:
        grid[-1] = stop
    return grid
