"""edge_partition_multi_v0: PettingZoo API and seed tests, spaces, shared queues, validation."""

import pickle

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import core


def test_multi__parallel_api_test_passes():
    parallel_api_test(edge_partition_multi_v0.parallel_env(episode_slots=60), num_cycles=100)


def test_multi__parallel_api_test_passes_when_agents_run_out_of_energy():
    env = edge_partition_multi_v0.parallel_env(episode_slots=200, energy_budget_j=200.0)
    parallel_api_test(env, num_cycles=200)


def test_multi__parallel_seed_test_passes():
    parallel_seed_test(lambda: edge_partition_multi_v0.parallel_env(episode_slots=30), num_cycles=30)


def test_multi__aec_api_test_passes():
    api_test(edge_partition_multi_v0.env(episode_slots=20), num_cycles=20)


def test_multi__module_metadata_and_fixed_agents():
    env = edge_partition_multi_v0.parallel_env()
    assert env.metadata["name"] == "edge_partition_multi_v0"
    assert env.possible_agents == ["iot_0", "iot_1", "iot_2", "iot_3"]
    assert env.observation_space("iot_0") is env.observation_space("iot_0")
    assert isinstance(edge_partition_multi_v0.raw_env(episode_slots=5), edge_partition_multi_v0.raw_env)


def test_multi__observations_lie_in_their_spaces():
    env = edge_partition_multi_v0.parallel_env(episode_slots=40, task_rate=90)
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(0)
    while env.agents:
        assert all(env.observation_space(a).contains(o) for a, o in obs.items())
        actions = {a: rng.integers(0, env.action_space(a).nvec) for a in env.agents}
        obs, *_ = env.step(actions)


def test_multi__devices_share_the_servers_queues():
    # Device 1 alone on server 1 vs device 1 with device 0 also on server 1: the shared queue makes it wait.
    def iot_1_delay(iot_0_location):
        env = edge_partition_multi_v0.parallel_env(episode_slots=5, models=("vgg16", "vgg16"), task_rate=60)
        env.reset(seed=3)
        placements = {"iot_0": np.full(6, iot_0_location), "iot_1": np.ones(6, dtype=np.int64)}
        env.step(placements)
        _, _, _, _, infos = env.step(placements)
        return infos["iot_1"]["delay"], infos["iot_1"]["queue"][0]

    alone, alone_queue = iot_1_delay(0)
    shared, shared_queue = iot_1_delay(1)
    assert shared > alone and shared_queue > alone_queue


def test_multi__one_device_equals_the_single_env_core():
    env = edge_partition_multi_v0.parallel_env(episode_slots=10, models=("vgg16",), task_rate=60)
    env.reset(seed=9)
    state = env.core_state
    placement = np.array([1, 2, 0, 3, 4, 1])
    expected = core.slot_cost(state, placement[None]).reward[0]
    _, rewards, *_ = env.step({"iot_0": placement})
    assert rewards["iot_0"] == expected


def test_multi__bad_actions_raise_naming_the_agent():
    env = edge_partition_multi_v0.parallel_env(episode_slots=5)
    env.reset(seed=0)
    good = {a: np.zeros(6, dtype=np.int64) for a in env.agents}
    with pytest.raises(ValueError, match="iot_2: action: location out of range"):
        env.step({**good, "iot_2": np.full(6, 9)})
    with pytest.raises(ValueError, match="missing an action for live agent 'iot_1'"):
        env.step({a: v for a, v in good.items() if a != "iot_1"})
    with pytest.raises(ValueError, match="models"):
        edge_partition_multi_v0.parallel_env(models=("lenet",))


def test_multi__pickles_mid_episode():
    env = edge_partition_multi_v0.parallel_env(episode_slots=10)
    env.reset(seed=2)
    actions = {a: np.ones(6, dtype=np.int64) for a in env.agents}
    env.step(actions)
    clone = pickle.loads(pickle.dumps(env))
    a, b = env.step(actions), clone.step(actions)
    assert a[1] == b[1] and all(np.array_equal(a[0][k], b[0][k]) for k in a[0])


def test_multi_vector__copies_equal_separate_parallel_envs_across_episode_ends():
    # B = 3 copies seeded 5, 6, 7 against three parallel_envs: the same observations, rewards, flags and
    # infos for the live agents, bit for bit, through energy outages, truncation and next-step autoresets
    kwargs = dict(episode_slots=12, energy_budget_j=40.0, task_rate=60)
    vec = edge_partition_multi_v0.EdgePartitionMultiVectorEnv(num_envs=3, **kwargs)
    envs = [edge_partition_multi_v0.parallel_env(**kwargs) for _ in range(3)]
    obs, _ = vec.reset(seed=5)
    singles = [env.reset(seed=5 + i)[0] for i, env in enumerate(envs)]
    agents = envs[0].possible_agents
    for i, single in enumerate(singles):
        assert all(np.array_equal(obs[i, a], single[agent]) for a, agent in enumerate(agents))
    rng = np.random.default_rng(0)
    ended = outages = 0
    for _ in range(40):
        actions = rng.integers(0, 5, size=(3, 4, 6))
        obs, rewards, terminations, truncations, infos = vec.step(actions)
        for i, env in enumerate(envs):
            if not env.agents:  # the copy restarts: the vector env's next-step autoreset
                first, _ = env.reset()
                assert not infos["active"][i].any() and not rewards[i].any()
                assert all(np.array_equal(obs[i, a], first[agent]) for a, agent in enumerate(agents))
                ended += 1
                continue
            live = [agent in env.agents for agent in agents]
            assert infos["active"][i].tolist() == live
            step = env.step({agent: actions[i, a] for a, agent in enumerate(agents) if live[a]})
            for a, agent in enumerate(agents):
                if not live[a]:
                    assert rewards[i, a] == 0.0 and not terminations[i, a] and not truncations[i, a]
                    continue
                assert np.array_equal(obs[i, a], step[0][agent])
                assert rewards[i, a] == step[1][agent]
                assert terminations[i, a] == step[2][agent] and truncations[i, a] == step[3][agent]
                assert infos["delay"][i, a] == step[4][agent]["delay"]
                outages += bool(step[2][agent])
    assert ended >= 3 and outages >= 1  # the run crossed episode ends and energy outages


def test_multi_vector__bad_actions_raise_naming_shape_and_range():
    vec = edge_partition_multi_v0.EdgePartitionMultiVectorEnv(num_envs=2, episode_slots=5)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected shape \(2, 4, 6\)"):
        vec.step(np.zeros((2, 6), dtype=np.int64))
    bad = np.zeros((2, 4, 6), dtype=np.int64)
    bad[1, 2, 0] = 7
    with pytest.raises(ValueError, match=r"copy 1, agent iot_2 has locations \[7, 0, 0, 0, 0, 0\]"):
        vec.step(bad)
    with pytest.raises(ValueError, match="num_envs"):
        edge_partition_multi_v0.EdgePartitionMultiVectorEnv(num_envs=0)
