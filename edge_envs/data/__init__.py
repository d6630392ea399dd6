"""Data sets shipped inside the package, with their loaders (sources and licences in README.md)."""

from edge_envs.data.mfeat import MFEAT_CLASSES, MFEAT_VIEWS, MultiViewData, load_mfeat

__all__ = ["MFEAT_CLASSES", "MFEAT_VIEWS", "MultiViewData", "load_mfeat"]
