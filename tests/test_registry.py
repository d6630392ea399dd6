"""The registry itself, and what every registered id offers beyond the conformance suite (its baselines).

The checks every environment gets by being registered live in tests/test_conformance.py.
"""

import importlib

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs

ENV_IDS = edge_envs.ENV_IDS


def test_registry__every_id_is_registered_with_gymnasium_on_import():
    assert ENV_IDS and len(set(ENV_IDS)) == len(ENV_IDS)
    for env_id in ENV_IDS:
        spec = gym.spec(env_id)
        assert spec.id == env_id and spec.entry_point.startswith("edge_envs.")
        assert spec.vector_entry_point is None or spec.vector_entry_point.startswith("edge_envs.")


def test_registry__every_pettingzoo_module_is_listed_and_follows_the_module_convention():
    assert edge_envs.PETTINGZOO_MODULES and all(name.endswith("_v0") for name in edge_envs.PETTINGZOO_MODULES)
    for name in edge_envs.PETTINGZOO_MODULES:
        module = importlib.import_module(f"edge_envs.{name}")
        assert {"env", "parallel_env", "raw_env"} <= set(dir(module)), name


def test_registry__importing_twice_registers_once():
    before = {env_id: gym.spec(env_id) for env_id in ENV_IDS}
    importlib.reload(edge_envs)
    assert all(gym.spec(env_id) is spec for env_id, spec in before.items())


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registry__every_baseline_acts_validly(env_id):
    env = gym.make(env_id)
    assert baselines.available(env_id), f"{env_id} has no baseline"
    for name in baselines.available(env_id):
        policy = baselines.make_policy(name, env)
        obs, info = env.reset(seed=0)
        if hasattr(policy, "reset"):
            policy.reset(seed=0)
        for _ in range(3):
            action = policy.act(obs, info)
            assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype)), name
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break


def test_registry__unknown_baseline_names_the_choices():
    env = gym.make("EdgePartition-v0")
    with pytest.raises(ValueError, match="available"):
        baselines.make_policy("no-such-policy", env)


def test_aliases__name_the_policies_listed_under_a_second_name():
    assert baselines.aliases("EdgePartition-v0") == {"rpdi": "random"}
    assert baselines.aliases("edge_partition_multi_v0") == {"rpdi": "random"}
    assert baselines.aliases("ServiceMigration-v0") == {"lpt": "mfl-fr", "fedavg": "fedbcd"}
    assert baselines.aliases("multiserver_fl_v0") == {"cloud": "wa"}
    assert baselines.aliases("EdgeUpload-v0") == {}
