"""edge_envs.libm: the C library's values element by element, with numpy's shapes and out-of-domain values."""

import math

import numpy as np
import pytest

from edge_envs import libm
from edge_envs.net import channel, mobility


def test_libm__values_are_the_c_librarys_bit_for_bit():
    x = np.random.default_rng(0).uniform(1e-3, 1e4, size=(7, 5))
    for ours, reference in [(libm.log2, math.log2), (libm.log10, math.log10), (libm.log, math.log),
                            (libm.log1p, math.log1p), (libm.cos, math.cos), (libm.sin, math.sin),
                            (libm.pow10, lambda v: 10.0**v)]:  # fmt: skip
        out = ours(x / 1e3)
        assert out.shape == x.shape and out.dtype == np.float64
        assert out.tolist() == [[reference(v / 1e3) for v in row] for row in x]


def test_libm__scalar_in_scalar_out_and_numpy_values_outside_the_domain():
    assert isinstance(libm.log10(100.0), np.float64) and libm.log10(100.0) == 2.0
    with np.errstate(all="ignore"):  # numpy's own functions warn there too
        assert libm.log(0.0) == -np.inf and np.isnan(libm.log2(-1.0)) and np.isnan(libm.log10(np.nan))
        assert libm.pow10(400.0) == np.inf and libm.pow10(-400.0) == 0.0
        assert libm.log1p(-1.0) == -np.inf and np.isnan(libm.log1p(-2.0)) and libm.log1p(1e-300) == 1e-300


@pytest.mark.parametrize("num", [1, 2, 20])
def test_libm__geomspace_is_numpys_with_exact_endpoints(num):
    grid = libm.geomspace(0.025, 1.0, num)
    np.testing.assert_allclose(grid, np.geomspace(0.025, 1.0, num), rtol=1e-15)
    assert grid[0] == 0.025 and (num == 1 or grid[-1] == 1.0)


def test_libm__channel_and_mobility_compute_through_it():
    """The dynamics feeding golden hashes use the C library's logs and powers (the same bits on every CPU)."""
    d = np.array([60.0, 800.0, 4000.0])
    expected = [(44.9 - 6.55 * math.log10(25.0)) * math.log10(v) + 34.46 + 5.83 * math.log10(25.0)
                + 23.0 * math.log10(2.1 / 5.0) for v in d]  # fmt: skip
    assert channel.winner2_c2_path_loss_db(d).tolist() == expected
    gain = np.array([1e-9, 1e-12])
    assert channel.shannon_rate(1e6, 0.2, gain, 1e-17).tolist() == [1e6 * math.log1p(0.2 * g / (1e-17 * 1e6))
                                                                    / math.log(2.0) for g in gain]  # fmt: skip
    walk = mobility.GaussMarkov(1000.0)
    walk.reset(3, np.random.default_rng(0))
    start, directions, speeds = walk.positions, walk.directions.copy(), walk.speeds.copy()
    moved = walk.step(1.0, np.random.default_rng(1))
    heading = np.array([[math.cos(a), math.sin(a)] for a in directions])
    np.testing.assert_array_equal(moved, np.clip(start + speeds[:, None] * heading, 0.0, 1000.0))


def test_libm__compiled_loop_matches_the_math_module_over_wide_ranges():
    """The compiled loop calls the same C functions as ``math``: equal bits over many magnitudes."""
    rng = np.random.default_rng(1)
    x = 10.0 ** rng.uniform(-300, 300, size=20_000)
    angles = rng.uniform(-1e4, 1e4, size=20_000)
    exponents = rng.uniform(-320, 308, size=20_000)
    for ours, reference, values in [(libm.log2, math.log2, x), (libm.log10, math.log10, x), (libm.log, math.log, x),
                                    (libm.log1p, math.log1p, x - 0.5 * np.minimum(x, 1.0)),
                                    (libm.cos, math.cos, angles), (libm.sin, math.sin, angles),
                                    (libm.pow10, lambda v: math.pow(10.0, v), exponents)]:  # fmt: skip
        assert ours(values).tolist() == [reference(v) for v in values.tolist()]


def test_libm__entries_outside_the_domain_get_numpys_values_beside_the_c_librarys():
    cases = [(libm.log2, np.log2, math.log2, (0.0, -1.0)), (libm.log10, np.log10, math.log10, (0.0, -2.0)),
             (libm.log, np.log, math.log, (0.0, -np.inf)), (libm.log1p, np.log1p, math.log1p, (-1.0, -3.0)),
             (libm.cos, np.cos, math.cos, (np.inf, -np.inf)), (libm.sin, np.sin, math.sin, (np.inf,)),
             (libm.pow10, lambda v: 10.0**v, lambda v: math.pow(10.0, v), (400.0,))]  # fmt: skip
    with np.errstate(all="ignore"):  # numpy's own functions warn there too
        for ours, numpy_fn, math_fn, outside in cases:
            for value in (*outside, np.nan):
                got = ours(np.array([[value, 0.5], [0.25, value]]))
                np.testing.assert_array_equal(got[[0, 1], [0, 1]], numpy_fn(np.array([value, value])))
                assert got[[0, 1], [1, 0]].tolist() == [math_fn(0.5), math_fn(0.25)]
