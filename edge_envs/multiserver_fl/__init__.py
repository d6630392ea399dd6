"""MultiServerFL (the MS-FL paper): RSU federated-learning servers weigh their peers' models for moving vehicles."""

from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.env import MultiServerFLEnv

__all__ = ["MultiServerFLConfig", "MultiServerFLEnv"]
