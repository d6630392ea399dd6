"""Loader for the UCI "Multiple Features" digits data set shipped in this folder (CC BY 4.0, see README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

MFEAT_VIEWS = ("fou", "fac", "kar", "pix", "zer", "mor")
MFEAT_CLASSES = 10


@dataclass(frozen=True)
class MultiViewData:
    """Aligned views of the same samples: ``views[name]`` is (n, d_name) float32, ``labels`` is (n,) int64."""

    views: dict
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def load_mfeat() -> MultiViewData:
    """The 2,000 digits with their six views (``MFEAT_VIEWS``) and labels 0-9."""
    with resources.files("edge_envs.data").joinpath("uci_mfeat.npz").open("rb") as f:
        archive = np.load(f)
        views = {name: np.ascontiguousarray(archive[name], dtype=np.float32) for name in MFEAT_VIEWS}
        labels = np.asarray(archive["labels"], dtype=np.int64)
    return MultiViewData(views=views, labels=labels)
