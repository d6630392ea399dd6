import gymnasium as gym
import numpy as np
import pytest

from agents.spaces import FlattenMultiDiscrete, JointActionCodec, action_nvec, observation_dim
from tests.agents.bandit import ContextualBandit


def test_joint_action_codec__round_trips_every_joint_action():
    codec = JointActionCodec([3, 2, 4])
    assert codec.size == 24
    actions = codec.decode(np.arange(24))
    assert len({tuple(a) for a in actions}) == 24
    np.testing.assert_array_equal(codec.encode(actions), np.arange(24))


def test_joint_action_codec__block_zero_is_most_significant():
    codec = JointActionCodec([3, 2, 4])
    np.testing.assert_array_equal(codec.decode(1), [0, 0, 1])
    np.testing.assert_array_equal(codec.decode(4), [0, 1, 0])
    np.testing.assert_array_equal(codec.decode(8), [1, 0, 0])


def test_joint_action_codec__refuses_spaces_too_large_to_enumerate():
    with pytest.raises(ValueError, match=r"244140625 actions.*mtl-a3c"):
        JointActionCodec([5] * 12)


def test_joint_action_codec__rejects_out_of_range_input():
    codec = JointActionCodec([2, 2])
    with pytest.raises(ValueError, match="out of range"):
        codec.decode(4)
    with pytest.raises(ValueError, match="does not fit"):
        codec.encode([0, 2])


def test_flatten_multi_discrete__steps_the_decoded_action():
    env = FlattenMultiDiscrete(ContextualBandit(contexts=1, blocks=3, choices=3))
    assert env.action_space == gym.spaces.Discrete(27)
    env.reset(seed=0)
    best = env.codec.encode([0, 1, 2])  # target of context 0
    _, reward, *_ = env.step(int(best))
    assert reward == 3.0


def test_spaces__refuse_what_the_agents_cannot_handle():
    with pytest.raises(ValueError, match="MultiDiscrete or Discrete"):
        action_nvec(gym.spaces.Box(0, 1, (2,)))
    with pytest.raises(ValueError, match="1-D Box"):
        observation_dim(gym.spaces.Box(0, 1, (2, 2)))
    np.testing.assert_array_equal(action_nvec(gym.spaces.Discrete(4)), [4])
