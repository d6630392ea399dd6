"""Bad input to the EdgePartition envs gets a named error saying what is allowed (issue 13, item 15)."""

import gymnasium as gym
import numba
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import EdgePartitionEnv, ToyGenerator
from edge_envs.edge_partition.env import THREADS_VARIABLE, EdgePartitionVectorEnv


def vector(num_envs=3, **kwargs):
    return gym.make_vec(
        "EdgePartition-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", episode_slots=10, **kwargs
    )


@pytest.mark.parametrize("seed", [1.5, "abc", True, -1, [1, 2], [1, 2, "x"], [0.5, 1, 2], {"a": 1}, b"ab"])
def test_vector_env__bad_seed_raises_naming_what_is_allowed(seed):
    with pytest.raises(ValueError, match=r"seed: expected None, an integer >= 0 .* a list of 3"):
        vector().reset(seed=seed)


def test_vector_env__seed_list_with_numpy_integers_and_none_is_accepted():
    venv = vector()
    first, _ = venv.reset(seed=[np.int64(4), 5, 6])
    again, _ = vector().reset(seed=4)
    assert np.array_equal(first, again)
    venv.reset(seed=[None, 1, None])


@pytest.mark.parametrize(
    "actions, match",
    [
        ([[0] * 6, [0] * 5, [0] * 6], "not a rectangular array"),
        ([[0] * 6, [0] * 6], r"expected shape \(3, 6\)"),
        ([[0] * 6, [0] * 6, None], "not a rectangular array"),
        (None, r"expected shape \(3, 6\)"),
    ],
)
def test_vector_env__ragged_or_missing_actions_raise(actions, match):
    venv = vector()
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=match) as error:
        venv.step(actions)
    assert "integer locations in [0, 4]" in str(error.value)


@pytest.mark.parametrize("make", [lambda: EdgePartitionEnv(episode_slots=5), lambda: vector()])
@pytest.mark.parametrize("options", [{"instance": 1}, {"seed": 3}, "abc", [1]])
def test_reset__unknown_options_raise(make, options):
    with pytest.raises(ValueError, match=r"options: EdgePartition's reset takes no options \(None or \{\}\)"):
        make().reset(seed=0, options=options)


def test_reset__no_options_or_an_empty_dict_are_accepted():
    single = EdgePartitionEnv(episode_slots=5)
    assert np.array_equal(single.reset(seed=0, options={})[0], single.reset(seed=0)[0])
    vec = vector()
    assert np.array_equal(vec.reset(seed=0, options={})[0], vec.reset(seed=0)[0])
    multi = edge_partition_multi_v0.parallel_env(episode_slots=5)
    assert set(multi.reset(seed=0, options={})[0]) == set(multi.possible_agents)


def test_multi__unknown_reset_options_warn_and_non_dicts_raise():
    env = edge_partition_multi_v0.parallel_env(episode_slots=5)
    with pytest.warns(UserWarning, match=r"takes no options .* \['bogus'\]; ignored"):
        env.reset(seed=0, options={"bogus": 1})
    with pytest.raises(ValueError, match="takes no options"):
        env.reset(seed=0, options="bogus")


@pytest.fixture
def multi():
    env = edge_partition_multi_v0.parallel_env(episode_slots=5, models=("vgg16", "nin"))
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("actions", [None, [np.zeros(6, dtype=np.int64)] * 2, np.zeros((2, 6), dtype=np.int64), "x"])
def test_multi__actions_that_are_not_a_dict_raise_a_type_error(multi, actions):
    with pytest.raises(TypeError, match=r"actions must be a dict mapping each live agent \['iot_0', 'iot_1'\]"):
        multi.step(actions)


def test_multi__an_unknown_agent_key_raises(multi):
    good = {agent: np.zeros(6, dtype=np.int64) for agent in multi.agents}
    with pytest.raises(ValueError, match=r"unknown agents \['iot_7'\]; give actions for the live agents only"):
        multi.step({**good, "iot_7": np.zeros(6, dtype=np.int64)})


def test_multi__an_action_for_an_agent_already_done_raises():
    env = edge_partition_multi_v0.parallel_env(episode_slots=20, models=("vgg16", "nin"), energy_budget_j=1.0)
    env.reset(seed=0)
    placements = {"iot_0": np.zeros(6, dtype=np.int64), "iot_1": np.ones(6, dtype=np.int64)}
    _, _, terminations, _, _ = env.step(placements)  # iot_0 computes locally: 1 J is gone at once
    assert terminations == {"iot_0": True, "iot_1": False} and env.agents == ["iot_1"]
    with pytest.raises(ValueError, match=r"agents already done \['iot_0'\]; .* live agents only: \['iot_1'\]"):
        env.step(placements)
    env.step({"iot_1": placements["iot_1"]})


def _none(rng):
    return None


@pytest.mark.parametrize(
    "make",
    [
        lambda: EdgePartitionEnv(config=ToyGenerator.config(), generator=_none),
        lambda: EdgePartitionVectorEnv(2, config=ToyGenerator.config(), generator=_none),
        lambda: edge_partition_multi_v0.parallel_env(episode_slots=5, generator=_none),
    ],
)
def test_reset__a_generator_returning_none_raises_a_type_error(make):
    with pytest.raises(TypeError, match="generator must return an edge_envs.edge_partition.Instance, got NoneType"):
        make().reset(seed=0)


def test_vector_env__threads_default_to_one_and_the_variable_or_argument_opts_in(monkeypatch):
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    assert vector().unwrapped.num_threads == 1
    top = numba.config.NUMBA_NUM_THREADS
    monkeypatch.setenv(THREADS_VARIABLE, str(top))
    assert vector().unwrapped.num_threads == top
    assert vector(num_threads=1).unwrapped.num_threads == 1  # the argument wins over the variable


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, 10_000])
def test_vector_env__bad_num_threads_raises(value):
    with pytest.raises(ValueError, match=r"num_threads must be an integer in \[1, "):
        vector(num_threads=value)


@pytest.mark.parametrize("value", ["0", "many", "1.5", "100000"])
def test_vector_env__bad_threads_variable_raises_naming_it(monkeypatch, value):
    monkeypatch.setenv(THREADS_VARIABLE, value)
    with pytest.raises(ValueError, match=rf"{THREADS_VARIABLE} must be an integer in \[1, "):
        vector()


@pytest.mark.slow
def test_vector_env__threads_do_not_change_the_trajectory():
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 5, size=(8, 300, 6))
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        venv = vector(num_envs=300, num_threads=threads)
        trace = [venv.reset(seed=3)[0]]
        trace += [x for a in actions for x in venv.step(a)[:3]]
        runs.append(trace)
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_multi__a_generator_with_the_wrong_number_of_devices_raises():
    env = edge_partition_multi_v0.parallel_env(episode_slots=5, models=("vgg16", "nin"), generator=ToyGenerator())
    with pytest.raises(
        ValueError, match=r"generator: its instance has 1 devices but the env has one agent per model, 2"
    ):
        env.reset(seed=0)
