"""EdgeUpload-v0: incremental DNN uploading to edge/cloud servers while queries keep running (the DNN-migration paper).

``gym.make("EdgeUpload-v0", **fields)`` (fields of :class:`EdgeUploadConfig`; ``config=edge_cloud()`` for
the paper's multi-user edge-cloud setting). The dynamics are in :mod:`edge_envs.edge_upload.core`.
"""

from edge_envs.edge_upload.config import EdgeUploadConfig, edge_cloud
from edge_envs.edge_upload.core import IllegalUploadError
from edge_envs.edge_upload.env import EdgeUploadEnv
from edge_envs.edge_upload.generator import Instance, RandomGenerator, ToyGenerator

__all__ = [
    "EdgeUploadConfig",
    "EdgeUploadEnv",
    "IllegalUploadError",
    "Instance",
    "RandomGenerator",
    "ToyGenerator",
    "edge_cloud",
]
