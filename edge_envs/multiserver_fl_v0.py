"""multiserver_fl_v0: RSU federated-learning servers aggregate their peers' models (the MS-FL paper, MS-FL).

PettingZoo module convention: ``parallel_env(**kwargs)`` (the native Parallel API), ``env(**kwargs)``
(the AEC view, order-enforced) and ``raw_env`` (the AEC view, unwrapped). The documentation is
:class:`edge_envs.multiserver_fl.env.MultiServerFLEnv`.
"""

from __future__ import annotations

from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from edge_envs.multiserver_fl.env import MultiServerFLEnv


def parallel_env(**kwargs) -> MultiServerFLEnv:
    """The Parallel API env (see :class:`MultiServerFLEnv` for the arguments)."""
    return MultiServerFLEnv(**kwargs)


class raw_env(parallel_to_aec_wrapper):  # noqa: N801  (PettingZoo's module convention)
    """The AEC view of :class:`MultiServerFLEnv`, without the order-enforcing wrapper."""

    def __init__(self, **kwargs):
        super().__init__(MultiServerFLEnv(**kwargs))


def env(**kwargs):
    """The AEC view of :class:`MultiServerFLEnv`, order-enforced."""
    return parallel_to_aec(MultiServerFLEnv(**kwargs))


__all__ = ["MultiServerFLEnv", "env", "parallel_env", "raw_env"]
