"""TorchRL's ``GymEnv`` and ``PettingZooWrapper`` take the suite's envs unmodified and pass
``check_env_specs`` (issue 27): Python's TypeError for unknown keywords (GymEnv probes ``frameskip``),
the same info keys at reset and step."""

import pytest

import edge_envs
from edge_envs import edge_partition_multi_v0, multiserver_fl_v0

pytest.importorskip("torchrl")
from torchrl.envs import GymEnv, PettingZooWrapper  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402

pytestmark = pytest.mark.clients


@pytest.mark.parametrize("env_id", edge_envs.ENV_IDS)
def test_torchrl__gym_env_passes_check_env_specs_and_rolls_out(env_id):
    env = GymEnv(env_id)
    check_env_specs(env, seed=0)
    rollout = env.rollout(200, break_when_any_done=False)
    assert rollout.batch_size[0] == 200


def test_torchrl__pettingzoo_wrapper_takes_multiserver_fl():
    env = PettingZooWrapper(multiserver_fl_v0.parallel_env(num_vehicles=10, num_rounds=3), return_state=False)
    check_env_specs(env, seed=0)
    assert list(env.group_map) == ["rsu"]
    assert env.rollout(6, break_when_any_done=False).batch_size[0] == 6


@pytest.mark.parametrize("black_death", [False, True])
def test_torchrl__pettingzoo_wrapper_takes_edge_partition_multi(black_death):
    env = PettingZooWrapper(
        edge_partition_multi_v0.parallel_env(episode_slots=20, black_death=black_death), return_state=False
    )
    assert list(env.group_map) == ["iot"]  # a group "device" would clash with TorchRL's spec attribute
    check_env_specs(env, seed=0)
    assert env.rollout(40, break_when_any_done=False).batch_size[0] == 40
