"""multiserver_fl_v0: PettingZoo API and seed tests, determinism, spaces, actions, config errors."""

import pickle

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

from edge_envs import multiserver_fl_v0
from edge_envs.multiserver_fl import core
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.generator import ToyGenerator

SMALL = dict(num_servers=3, num_vehicles=12, num_rounds=4)


def _rollout(seed, **fields):
    env = multiserver_fl_v0.parallel_env(**{**SMALL, **fields})
    obs, infos = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    trace = [obs, infos]
    while env.agents:
        actions = {a: rng.random(env.action_space(a).shape).astype(np.float32) for a in env.agents}
        trace += list(env.step(actions))
    return trace


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def test_env__parallel_api_test_passes():
    parallel_api_test(multiserver_fl_v0.parallel_env(**SMALL), num_cycles=10)


def test_env__parallel_seed_test_passes():
    parallel_seed_test(lambda: multiserver_fl_v0.parallel_env(**SMALL), num_cycles=5)


def test_env__aec_api_test_passes():
    api_test(multiserver_fl_v0.env(**SMALL), num_cycles=5)


def test_env__same_seed_and_actions_give_the_same_run_bit_for_bit():
    first = _rollout(7, num_faulty=1, fault="noise")
    assert _same(first, _rollout(7, num_faulty=1, fault="noise"))
    assert not _same(first, _rollout(8, num_faulty=1, fault="noise"))


def test_env__metadata_agents_and_observations_in_their_spaces():
    env = multiserver_fl_v0.parallel_env(**SMALL)
    assert env.metadata["name"] == "multiserver_fl_v0"
    assert env.possible_agents == ["rsu_0", "rsu_1", "rsu_2"]
    obs, _ = env.reset(seed=1)
    while env.agents:
        assert all(env.observation_space(a).contains(o) for a, o in obs.items())
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})


def test_env__env_pickles_mid_episode():
    env = multiserver_fl_v0.parallel_env(**SMALL)
    env.reset(seed=3)
    actions = {a: np.full(3, 0.5, np.float32) for a in env.agents}
    env.step(actions)
    clone = pickle.loads(pickle.dumps(env))
    assert _same(env.step(actions), clone.step(actions))


def test_env__actions_are_normalised_in_the_agents_own_order():
    env = multiserver_fl_v0.parallel_env(**SMALL)
    env.reset(seed=0)
    w = env.weights({"rsu_0": np.array([1.0, 1.0, 0.0]), "rsu_1": np.zeros(3), "rsu_2": np.array([0.0, 0.5, 0.0])})
    np.testing.assert_allclose(w, [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_env__bad_actions_raise_named_errors():
    env = multiserver_fl_v0.parallel_env(**SMALL)
    env.reset(seed=0)
    good = {a: np.ones(3, np.float32) for a in env.agents}
    with pytest.raises(ValueError, match="rsu_1: action must be 3 weights in"):
        env.step({**good, "rsu_1": np.array([2.0, 0.0, 0.0])})
    with pytest.raises(ValueError, match="missing an action for agent 'rsu_2'"):
        env.step({"rsu_0": good["rsu_0"], "rsu_1": good["rsu_1"]})
    levels = multiserver_fl_v0.parallel_env(**SMALL, action_levels=3)
    levels.reset(seed=0)
    with pytest.raises(ValueError, match="integer levels in \\[0, 2\\]"):
        levels.step({a: np.array([0, 3, 1]) for a in levels.agents})


@pytest.mark.parametrize(
    "field, value",
    [
        ("num_servers", 1),
        ("dirichlet_alpha", 0.0),
        ("dataset", "gtsrb"),
        ("num_faulty", 3),
        ("framework", "p2p"),
        ("action_levels", 1),
        ("cloud_period", 0),
        ("fault", "sign"),
        ("fault_flip_scale", -1.0),
    ],
)
def test_env__bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        MultiServerFLConfig(**{**SMALL, field: value})


def test_env__toy_generator_reports_the_handover_in_infos():
    cfg = MultiServerFLConfig(num_servers=2, num_vehicles=3, num_rounds=2)
    env = multiserver_fl_v0.parallel_env(config=cfg, generator=ToyGenerator(cfg))
    _, infos = env.reset(seed=0)
    assert [infos[a]["handovers"] for a in env.agents] == [0, 1]
    assert [infos[a]["served"] for a in env.agents] == [1, 2]
    _, _, _, truncations, infos = env.step({a: np.array([1.0, 0.0], np.float32) for a in env.agents})
    assert not any(truncations.values()) and 0.0 <= infos["rsu_0"]["f1"] <= 1.0


@pytest.mark.numerics
@pytest.mark.parametrize("fault", ["label-flip", "noise"])
def test_env__faulty_server_shares_a_worse_model(fault):
    env = multiserver_fl_v0.parallel_env(num_servers=3, num_vehicles=30, num_rounds=6, num_faulty=1, fault=fault)
    env.reset(seed=0)
    for _ in range(5):
        env.step({a: np.eye(3, dtype=np.float32)[0] for a in env.agents})  # no exchange: each trains alone
    bad = int(np.flatnonzero(env.core_state.instance.faulty)[0])
    acc = env.core_state.acc  # acc[s, j]: model j on s's validation data
    honest = [s for s in range(3) if s != bad]
    assert all(acc[s, bad] < min(acc[s, j] for j in honest) for s in honest)


def test_env__sign_flip_server_shares_the_model_of_largest_loss():
    env = multiserver_fl_v0.parallel_env(num_servers=3, num_vehicles=30, num_rounds=6, num_faulty=1, fault="sign-flip")
    env.reset(seed=0)
    for _ in range(5):
        env.step({a: np.eye(3, dtype=np.float32)[0] for a in env.agents})  # no exchange: each trains alone
    bad = int(np.flatnonzero(env.state.instance.faulty)[0])
    loss = env.state.loss  # loss[s, j]: model j on s's validation data
    honest = [s for s in range(3) if s != bad]
    assert all(loss[s, bad] > 10 * max(loss[s, j] for j in honest) for s in honest)  # 4x reversed updates diverge


def test_env__observation_layout_names_every_position():
    s = 4
    slices = core.observation_slices(s)
    covered = set()
    for where in slices.values():
        covered |= set(range(core.observation_size(s))[where]) if isinstance(where, slice) else {where}
    assert covered == set(range(core.observation_size(s)))


@pytest.mark.slow
def test_env__mnist_rounds_train_on_28x28_images():
    env = multiserver_fl_v0.parallel_env(dataset="mnist", num_servers=2, num_vehicles=6, num_rounds=1)
    obs, _ = env.reset(seed=0)
    assert env.core_state.instance.shape.inputs == 784
    _, rewards, _, truncations, infos = env.step({a: np.ones(2, np.float32) for a in env.agents})
    assert all(truncations.values()) and 0.0 <= infos["rsu_0"]["test_acc"] <= 1.0
    assert obs["rsu_0"][core.observation_slices(2)["time_left"]] == 1.0
