"""SuperSuit turns each PettingZoo env of the suite into an SB3 vector env and PPO trains on it (issue 27);
edge_partition_multi_v0 with ``black_death=True``, which keeps every agent to the end (SuperSuit's own
``black_death_v3`` never ends an episode that is truncated rather than terminated)."""

import pytest

from edge_envs import edge_partition_multi_v0, multiserver_fl_v0

pytest.importorskip("supersuit")  # bound to no name: doctest's collector trips on the module's __getattr__
from stable_baselines3 import PPO  # noqa: E402
from supersuit import concat_vec_envs_v1, pettingzoo_env_to_vec_env_v1  # noqa: E402

pytestmark = pytest.mark.clients

MAKERS = {
    "multiserver_fl_v0": lambda: multiserver_fl_v0.parallel_env(num_vehicles=10, num_rounds=4),
    "edge_partition_multi_v0": lambda: edge_partition_multi_v0.parallel_env(episode_slots=20, black_death=True),
}


@pytest.mark.parametrize("name", MAKERS)
def test_supersuit__sb3_ppo_trains_on_the_vector_env(name):
    vec = pettingzoo_env_to_vec_env_v1(MAKERS[name]())
    vec = concat_vec_envs_v1(vec, 1, num_cpus=0, base_class="stable_baselines3")
    model = PPO(
        "MlpPolicy", vec, n_steps=32, batch_size=32, n_epochs=1, device="cpu"
    )  # no seed: SuperSuit 3.11 vec envs lack seed()
    model.learn(total_timesteps=64)
    assert model.num_timesteps >= 64
    vec.close()
