"""Gymnasium's async vector envs sample and step every Gymnasium id of the suite unmodified (issue 27):
the batched space's ``sample()`` ignores EdgeUpload's mask, whose forbidden actions the env now replaces."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs

# Each worker process imports torch and the suite (tens of seconds on a busy machine): this runs in the clients
# tier's venv (CI's .venv-clients), not in the main suite, whose time budget it would strain.
pytest.importorskip("rl_zoo3", reason="the clients tier runs the async-vector tests (pip install -e '.[clients]')")
pytestmark = pytest.mark.clients


@pytest.mark.parametrize("env_id", edge_envs.ENV_IDS)
def test_async_vectors__random_sampling_runs_two_hundred_steps(env_id):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="async")
    try:
        envs.reset(seed=0)
        envs.action_space.seed(0)
        for _ in range(100):
            _, rewards, _, _, _ = envs.step(envs.action_space.sample())
            assert rewards.shape == (2,) and np.all(np.isfinite(rewards))
    finally:
        envs.close()
