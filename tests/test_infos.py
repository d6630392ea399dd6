"""PettingZoo envs give the same info keys, shapes and kinds at reset and at step (issue 27, item 3), as
PettingZoo's wrappers expect (TorchRL's PettingZooWrapper builds its info spec from reset's infos)."""

import numpy as np
import pytest

from edge_envs import edge_partition_multi_v0, multiserver_fl_v0

MAKERS = {
    "edge_partition_multi_v0": lambda: edge_partition_multi_v0.parallel_env(episode_slots=4),
    "multiserver_fl_v0": lambda: multiserver_fl_v0.parallel_env(num_vehicles=10, num_rounds=2),
}


@pytest.mark.parametrize("name", MAKERS)
def test_infos__reset_and_step_have_the_same_keys_shapes_and_kinds(name):
    env = MAKERS[name]()
    _, at_reset = env.reset(seed=0)
    _, _, _, _, at_step = env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    for agent in env.possible_agents:
        assert list(at_reset[agent]) == list(at_step[agent])
        for key, value in at_reset[agent].items():
            first, then = np.asarray(value), np.asarray(at_step[agent][key])
            assert (first.shape, first.dtype.kind) == (then.shape, then.dtype.kind), key
