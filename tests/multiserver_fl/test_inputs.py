"""Bad input to multiserver_fl_v0 gets a named error saying what is allowed (issue 24, item 6)."""

import numpy as np
import pytest

from edge_envs import multiserver_fl_v0
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.generator import split_sizes

SMALL = dict(num_servers=3, num_vehicles=10, num_rounds=2)


@pytest.fixture(scope="module")
def box():
    env = multiserver_fl_v0.parallel_env(**SMALL)
    env.reset(seed=0)
    return env


@pytest.fixture(scope="module")
def levels():
    env = multiserver_fl_v0.parallel_env(**SMALL, action_levels=3)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("actions", [None, [np.ones(3, np.float32)] * 3, "abc", np.ones((3, 3), np.float32)])
def test_env__actions_that_are_not_a_dict_raise_a_type_error(box, actions):
    with pytest.raises(
        TypeError, match=r"actions must be a dict mapping each live agent \['rsu_0', 'rsu_1', 'rsu_2'\]"
    ):
        box.step(actions)


def test_env__an_unknown_agent_key_raises_naming_the_live_agents(box):
    good = {agent: np.ones(3, np.float32) for agent in box.agents}
    with pytest.raises(ValueError, match=r"unknown agents \['rsu_9'\]; give one action per live agent: \['rsu_0'"):
        box.step({**good, "rsu_9": np.ones(3, np.float32)})


@pytest.mark.parametrize(
    "action, got",
    [
        ("abc", "an array of dtype <U3"),
        (np.array([True, False, True]), "an array of dtype bool"),
        (None, "a NoneType"),
        ([1.0, [0.5], 0.0], "a list"),
    ],
)
def test_env__a_weight_that_is_not_a_number_raises_naming_the_box(box, action, got):
    good = {agent: np.ones(3, np.float32) for agent in box.agents}
    with pytest.raises(ValueError, match=rf"rsu_1: action must be 3 weights in \[0, 1\] \(Box\), got {got}"):
        box.step({**good, "rsu_1": action})


@pytest.mark.parametrize("action", [np.array([0.0, 1.0, 2.0]), [0.0, 1.0, 2.0], np.array([True, False, True])])
def test_env__float_or_bool_levels_raise_naming_the_integer_levels(levels, action):
    good = {agent: np.array([0, 1, 2]) for agent in levels.agents}
    with pytest.raises(ValueError, match=r"rsu_0: action must be 3 integer levels in \[0, 2\] \(MultiDiscrete\)"):
        levels.step({**good, "rsu_0": action})


def test_env__integer_levels_from_a_list_are_accepted(levels):
    w = levels.weights({agent: [2, 1, 0] for agent in levels.possible_agents})
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_env__fractions_that_leave_vehicles_without_data_are_refused_naming_the_fields():
    # digits: 1,797 images; 898 test and 5 x 179 validation samples leave 4 for 10 vehicles
    with pytest.raises(ValueError, match=r"val_fraction=0.5 and test_fraction=0.5 .* for num_vehicles=10"):
        multiserver_fl_v0.parallel_env(num_vehicles=10, val_fraction=0.5, test_fraction=0.5)


def test_split_sizes__counts_add_up_and_a_server_without_validation_data_is_refused():
    cfg = MultiServerFLConfig(num_servers=5, num_vehicles=50)
    n_test, n_val, n_train = split_sizes(cfg, 1797)
    assert (n_test, n_val) == (359, 53) and n_test + 5 * n_val + n_train == 1797
    tiny = MultiServerFLConfig(num_servers=20, val_fraction=0.01)
    with pytest.raises(ValueError, match=r"leave 0 validation samples per server \(num_servers=20\)"):
        split_sizes(tiny, 1797)
