"""The image data sets that install with the package load offline, scaled to [0, 1]."""

import numpy as np
import pytest

from edge_envs.data.images import load_images


@pytest.mark.parametrize(
    "name, shape", [("digits", (1797, 64)), pytest.param("mnist", (5000, 784), marks=pytest.mark.slow)]
)
def test_images__load_with_labels_0_to_9_and_pixels_in_unit_range(name, shape):
    x, y = load_images(name)
    assert x.shape == shape and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(np.unique(y).tolist()) == list(range(10))
    with pytest.raises(ValueError):
        x[0, 0] = 2.0  # shared cached copy: read-only


def test_images__unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="dataset must be one of \\('digits', 'mnist'\\), got 'gtsrb'"):
        load_images("gtsrb")
