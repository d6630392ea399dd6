"""edge_envs.compiled: a compiled function for fixed argument types, and arguments held as one object."""

import numpy as np
from numba import njit

from edge_envs.compiled import compiled_for, hold


@njit(cache=True)
def _add_into(x, held):
    total, (values,) = held.constants[0], held.state
    for i in range(values.shape[0]):
        values[i] += x
        total[0] += values[i]
    return total[0]


def test_hold__the_compiled_function_reads_and_writes_the_very_arrays_given():
    total, values = np.zeros(1), np.arange(3.0)
    held = hold((total,), (values,))
    run = compiled_for(_add_into, (1.0, held))
    assert run(1.0, held) == 1.0 + 2.0 + 3.0
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])  # written in place: no copy was held
    values[0] = 10.0  # and a write from Python is what the next call reads
    assert run(0.5, held) == 6.0 + 10.5 + 2.5 + 3.5
    assert total[0] == 22.5
