import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs.service_migration import ServiceMigrationConfig, ServiceMigrationEnv, ToyGenerator, core
from edge_envs.service_migration.learning import round_progress

FAST = dict(backend="bound")


@pytest.mark.parametrize(
    "kwargs",
    [
        FAST,
        dict(FAST, continuous_rho=True),
        dict(FAST, framework="horizontal"),
        pytest.param(dict(backend="real", max_rounds=5, num_devices=3), marks=pytest.mark.slow),
    ],
)
def test_env__gymnasium_and_sb3_checkers_pass(kwargs):
    gym_check_env(gym.make("ServiceMigration-v0", **kwargs).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make("ServiceMigration-v0", **kwargs), warn=False)


def test_env__spaces_follow_the_config():
    env = gym.make("ServiceMigration-v0", **FAST)
    assert env.action_space == gym.spaces.MultiDiscrete([8, 8, 8, 3 + 20])  # 3 pair levels, then the grid
    assert gym.make("ServiceMigration-v0", pair_rho_levels=False, **FAST).action_space == gym.spaces.MultiDiscrete(
        [8, 8, 8, 20]
    )
    assert env.observation_space.shape == (2 * 8 + 3 * 8 + 2 + 3 * 8,)
    assert gym.make("ServiceMigration-v0", observe_pair_costs=False, **FAST).observation_space.shape == (42,)
    env = gym.make("ServiceMigration-v0", continuous_rho=True, num_rho_levels=5, **FAST)
    assert env.action_space == gym.spaces.Box(0.0, 1.0, (4,), np.float32)


def _trajectory(seed, backend, steps=6):
    env = gym.make("ServiceMigration-v0", backend=backend, num_devices=5)
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [obs, info["capability"], info["device_positions"]]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace += [obs, reward, info["loss"], info["accuracy"], info["round_time"], info["slowest_rates"]]
    return trace


def _same(first, second):
    return all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("backend", ["bound", pytest.param("real", marks=pytest.mark.slow)])
def test_env__same_seed_and_actions_give_identical_trajectories(backend):
    first, second = _trajectory(4, backend), _trajectory(4, backend)
    assert _same(first, second)
    assert not _same(first, _trajectory(5, backend))


def test_env__reward_is_minus_the_slowest_modality_and_info_has_the_components():
    env = gym.make("ServiceMigration-v0", **FAST)
    env.reset(seed=1)
    _, reward, _, _, info = env.step(np.array([0, 1, 2, 3 + 3]))
    total = info["communication_time"] + info["computation_time"]
    np.testing.assert_allclose(info["communication_time"], info["migration_time"] + info["upload_time"])
    assert info["round_time"] == pytest.approx(total.max())
    assert reward == pytest.approx(-info["round_time"])
    assert info["wall_clock"] == pytest.approx(info["round_time"])
    assert info["communication_cost"] == pytest.approx(info["communication_time"].sum())
    assert info["rho"] == pytest.approx(env.unwrapped.cfg.rho_grid[3])  # choice 3 + 3: grid level 3
    assert info["samples"] == pytest.approx(info["rho"] * 50 * 1284)
    assert info["edges"].tolist() == [0, 1, 2]


def test_env__migration_costs_only_when_the_edge_changes():
    env = gym.make("ServiceMigration-v0", **FAST)
    _, info = env.reset(seed=2)
    stay = info["edges"]
    _, _, _, _, info = env.step(np.append(stay, 0))
    np.testing.assert_array_equal(info["migration_time"], 0.0)
    moved = (stay + 1) % 8
    if len(set(moved.tolist())) == 3:
        _, _, _, _, info = env.step(np.append(moved, 0))
        assert np.all(info["migration_time"] > 0)


def test_env__conflict_error_mode_raises_and_keeps_state():
    env = gym.make("ServiceMigration-v0", on_conflict="error", **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Eq. \\(20b\\)"):
        env.step(np.array([4, 4, 1, 0]))
    assert env.unwrapped._state.round == 0


def test_env__conflict_repair_is_reported():
    env = gym.make("ServiceMigration-v0", **FAST)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([4, 4, 1, 0]))
    assert info["repaired"] and info["requested_edges"].tolist() == [4, 4, 1]
    assert len(set(info["edges"].tolist())) == 3 and info["edges"][0] == 4


@pytest.mark.parametrize(
    "action, match",
    [
        ([0, 1, 2], "shape"),
        ([0, 1, 8, 0], "out of range"),
        ([0, 1, 2, 23], "out of range"),
        ([0.0, 1.0, 2.0, 0.0], "integers"),
    ],
)
def test_env__bad_actions_raise(action, match):
    env = gym.make("ServiceMigration-v0", **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(np.array(action))


def test_env__box_action_decodes_edges_and_geometric_rho():
    env = gym.make("ServiceMigration-v0", continuous_rho=True, **FAST).unwrapped
    edges, rho = env.decode_action(np.array([0.0, 0.5, 0.99, 0.5], dtype=np.float32))
    assert edges.tolist() == [0, 4, 7]
    assert rho == pytest.approx(np.sqrt(0.025 * 1.0))
    edges, rho = env.decode_action(env.encode_action([5, 2, 7], 0.0404))
    assert edges.tolist() == [5, 2, 7] and rho == pytest.approx(0.0404, rel=1e-5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        env.decode_action(np.array([0.0, 0.5, 1.5, 0.5]))


def test_env__bound_backend_terminates_after_corollary1_rounds():
    # fixed rho = 0.04: R = beta rho / (rho - alpha) = 100 * 0.04 / 0.02 = 200 rounds exactly
    env = gym.make("ServiceMigration-v0", continuous_rho=True, **FAST)
    _, info = env.reset(seed=0)
    action = env.unwrapped.encode_action(info["edges"], 0.04)
    _, rho = env.unwrapped.decode_action(action)
    needed = int(np.ceil(1.0 / round_progress(rho, 0.02, 100.0) - 1e-9))
    assert needed in (200, 201)
    for r in range(1, needed + 1):
        _, _, terminated, truncated, info = env.step(action)
        assert terminated == (r == needed) and not truncated
    assert info["loss"] == pytest.approx(1.0, abs=1e-6)  # Theorem 1's bound reaches the target


def test_env__truncates_at_max_rounds():
    env = gym.make("ServiceMigration-v0", max_rounds=3, **FAST)
    env.reset(seed=0)
    flags = [env.step(np.array([0, 1, 2, 0]))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


@pytest.mark.slow
@pytest.mark.numerics
def test_env__real_backend_loss_falls_over_rounds():
    """At the default SGD step the loss falls every round, so the few-ulp differences between torch's CPU
    kernels stay near 1e-5 in the loss (measured: 0.1552 after 15 rounds, accuracy 0.968, under
    ATEN_CPU_CAPABILITY=default and avx2 alike) and the thresholds below keep a wide margin. (A step of 0.2
    overshoots: the loss climbed to 5.9 and back, and the end accuracy ranged 0.75 to 0.81 across kernels.)"""
    env = gym.make("ServiceMigration-v0", backend="real")
    _, info = env.reset(seed=0)
    losses = [info["loss"]]
    for _ in range(15):
        info = env.step(np.array([0, 1, 2, 3]))[4]
        losses.append(info["loss"])
    assert losses[0] > 2.0  # ten classes, untrained: about ln 10
    assert np.all(np.diff(losses) < 0)  # every round falls (the smallest fall measured: 0.02)
    assert losses[-1] < 0.5 * losses[0]  # measured 0.155
    assert info["accuracy"] > 0.8  # measured 0.968


def test_env__devices_move_by_the_round_duration():
    env = gym.make("ServiceMigration-v0", noise_psd_dbm_per_hz=-220.0, **FAST)
    _, info = env.reset(seed=0)
    before = info["device_positions"]
    _, _, _, _, info = env.step(np.array([0, 1, 2, 0]))
    step = np.hypot(*(info["device_positions"] - before).T)
    assert np.all(step <= 10.0 * info["round_time"] + 1e-6) and np.any(step > 0)


@pytest.mark.slow
def test_env__capability_draws_do_not_depend_on_the_actions():
    """Common random numbers: under one seed every policy meets the same edge capabilities each round."""
    seen = []
    for action in ([0, 1, 2, 0], [5, 6, 7, 19]):
        env = gym.make("ServiceMigration-v0", backend="real", max_rounds=4, num_devices=5)
        _, info = env.reset(seed=9)
        trace = [info["capability"]]
        for _ in range(3):
            trace.append(env.step(np.array(action))[4]["capability"])
        seen.append(np.array(trace))
    np.testing.assert_array_equal(seen[0], seen[1])


def test_env__pickles_mid_episode_with_the_real_model():
    env = gym.make("ServiceMigration-v0", backend="real")
    env.reset(seed=3)
    env.step(np.array([0, 1, 2, 0]))
    clone = pickle.loads(pickle.dumps(env))
    a, b = env.step(np.array([3, 4, 5, 1])), clone.step(np.array([3, 4, 5, 1]))
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[4]["loss"] == b[4]["loss"]


def test_env__kwargs_and_config_reach_the_core():
    env = gym.make(
        "ServiceMigration-v0", config=ServiceMigrationConfig(backend="bound", num_devices=7), num_rho_levels=4
    )
    assert env.unwrapped.cfg.num_devices == 7 and env.unwrapped.cfg.num_rho_levels == 4
    with pytest.raises(ValueError, match=r"unknown ServiceMigrationConfig field\(s\) \['n_device'\]"):
        gym.make("ServiceMigration-v0", n_device=7)


def test_env__toy_instance_is_static_and_hand_checkable():
    env = ServiceMigrationEnv(config=ToyGenerator.config(), generator=ToyGenerator())
    _, info = env.reset(seed=0)
    assert info["edges"].tolist() == [2, 0]
    np.testing.assert_array_equal(info["capability"], [1e6, 1e6, 1e6])
    np.testing.assert_array_equal(info["device_positions"], [[450.0, 500.0]])
    _, _, _, _, info2 = env.step(env.encode_action([1, 0], 0.05))
    np.testing.assert_array_equal(info2["device_positions"], [[450.0, 500.0]])
    # "big" moved 400 m: 4e6 bytes * log2(1 + 400/3000) / 12.5e6 bytes/s
    assert info2["migration_time"][0] == pytest.approx(4e6 * np.log2(1 + 400 / 3000) / 12.5e6)
    assert info2["computation_time"][1] == pytest.approx(info2["rho"] * 1 * 1 * 100 * 1000 / 1e6)


def test_env__render_ansi_summarises_the_round():
    env = gym.make("ServiceMigration-v0", render_mode="ansi", **FAST)
    env.reset(seed=0)
    env.step(np.array([0, 1, 2, 0]))
    assert "round 1" in env.render() and "rho" in env.render()


def test_core_transition__rejects_rho_at_or_below_alpha():
    cfg = ServiceMigrationConfig(backend="bound")
    env = ServiceMigrationEnv(config=cfg)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="rho"):
        core.transition(env._state, ([0, 1, 2], 0.02), np.random.default_rng(0))
