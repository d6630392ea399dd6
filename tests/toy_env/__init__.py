"""ToyOffload: the smallest env built by the steps of docs/ARCHITECTURE.md, for tests/test_architecture.py.

It follows the per-env template (config, generator, core, env, baselines) and is never registered by
``import edge_envs``: the test registers it under a test-only id and unregisters it afterwards.
"""

from tests.toy_env.config import ToyOffloadConfig
from tests.toy_env.env import ToyOffloadEnv
from tests.toy_env.generator import Instance, RandomGenerator, ToyGenerator

__all__ = ["Instance", "RandomGenerator", "ToyGenerator", "ToyOffloadConfig", "ToyOffloadEnv"]
