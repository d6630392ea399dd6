"""Tianshou 2.0 collects and learns on EdgeUpload-v0 (Discrete, the space Tianshou's DQN takes) unmodified
(issue 27): its random exploration picks forbidden uploads, which the env replaces by the nearest legal ones.
Tianshou has no MultiDiscrete DQN, so the other Gymnasium ids are out of its reach."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401

pytest.importorskip("tianshou")
from tianshou.algorithm.modelfree.dqn import DQN, DiscreteQLearningPolicy  # noqa: E402
from tianshou.algorithm.optim import AdamOptimizerFactory  # noqa: E402
from tianshou.data import Collector, VectorReplayBuffer  # noqa: E402
from tianshou.env import DummyVectorEnv  # noqa: E402
from tianshou.utils.net.common import Net  # noqa: E402
from tianshou.utils.torch_utils import policy_within_training_step  # noqa: E402

pytestmark = pytest.mark.clients


def test_tianshou__dqn_collects_two_hundred_steps_and_updates_on_edge_upload():
    env = gym.make("EdgeUpload-v0")
    envs = DummyVectorEnv([lambda: gym.make("EdgeUpload-v0") for _ in range(2)])
    net = Net(state_shape=env.observation_space.shape, action_shape=env.action_space.n, hidden_sizes=[32])
    policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space, eps_training=1.0)
    algorithm = DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3))
    collector = Collector(algorithm, envs, VectorReplayBuffer(1000, 2), exploration_noise=True)
    collector.reset()
    stats = collector.collect(n_step=200)
    assert stats.n_collected_steps == 200 and stats.n_collected_episodes >= 2
    assert np.all(np.isfinite(collector.buffer.rew[: len(collector.buffer)]))
    with policy_within_training_step(policy):
        result = algorithm.update(sample_size=32, buffer=collector.buffer)
    assert np.isfinite(result.loss)
