import numpy as np

from edge_envs.data import MFEAT_CLASSES, MFEAT_VIEWS, load_mfeat

SHAPES = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


def test_load_mfeat__six_aligned_views_and_balanced_labels():
    data = load_mfeat()
    assert len(data) == 2000 and set(data.views) == set(MFEAT_VIEWS)
    for name, width in SHAPES.items():
        assert data.views[name].shape == (2000, width) and data.views[name].dtype == np.float32
    assert data.labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(data.labels), [200] * MFEAT_CLASSES)
    # rows are in class order (README): the first 200 are zeros
    assert np.all(data.labels[:200] == 0) and np.all(data.labels[-200:] == 9)
    assert data.views["pix"].min() == 0 and data.views["pix"].max() == 6  # pixel averages 0..6
