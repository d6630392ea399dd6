"""``render_mode="rgb_array"`` on every env of the suite (issue 27, item 5): a uint8 (H, W, 3) picture
after reset that changes once a step has run."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs
from edge_envs import edge_partition_multi_v0, multiserver_fl_v0

SMALL = {"ServiceMigration-v0": {"backend": "bound", "num_devices": 5}}
MAKERS = {
    **{
        env_id: (lambda env_id=env_id: gym.make(env_id, render_mode="rgb_array", **SMALL.get(env_id, {})))
        for env_id in edge_envs.ENV_IDS
    },
    "edge_partition_multi_v0": lambda: edge_partition_multi_v0.parallel_env(render_mode="rgb_array", episode_slots=4),
    "multiserver_fl_v0": lambda: multiserver_fl_v0.parallel_env(render_mode="rgb_array", num_vehicles=10, num_rounds=2),
}


@pytest.mark.parametrize("name", MAKERS)
def test_render__rgb_array_on_every_env_is_a_picture_that_follows_the_steps(name):
    env = MAKERS[name]()
    assert "rgb_array" in env.metadata["render_modes"]
    env.reset(seed=0)
    before = env.render()
    if hasattr(env, "possible_agents"):
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    else:
        env.action_space.seed(0)
        env.step(env.action_space.sample())
    after = env.render()
    assert before.dtype == after.dtype == np.uint8 and before.ndim == 3 and before.shape[2] == 3
    assert before.shape == after.shape and before.shape[0] >= 100 and before.shape[1] >= 100
    assert not np.array_equal(before, after)
