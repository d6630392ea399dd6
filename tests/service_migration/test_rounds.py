"""edge_envs.service_migration.rounds: the compiled round plays core.transition's rounds bit for bit."""

import pickle

import numpy as np
import pytest

from edge_envs.service_migration import ServiceMigrationEnv, ToyGenerator, rounds

CONFIGS = {
    "default": {},
    "continuous": {"continuous_rho": True},
    "grid only, no pair block": {"pair_rho_levels": False, "observe_pair_costs": False},
    "static, log-distance": {"mobility": "static", "path_loss_model": "log_distance"},
    "truncated": {"max_rounds": 7, "beta": 400.0},
    "terminated": {"beta": 5.0},
}


def _play(env: ServiceMigrationEnv, compiled: bool, seed: int, steps: int) -> list:
    """Everything ``steps`` random actions (some of them conflicting: repaired) give, resets included."""
    rng = np.random.default_rng(seed)
    trace = []

    def reset(seed=None):
        obs, info = env.reset(seed=seed)
        if not compiled:
            env._round = None  # core.transition
        return obs, info

    obs, info = reset(seed)
    for _ in range(steps):
        if env.cfg.continuous_rho:
            action = rng.uniform(0.0, 1.0, size=env.action_space.shape).astype(np.float32)
        else:
            action = rng.integers(env.action_space.nvec)
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs.tobytes(), reward, terminated, truncated))
        trace.append(
            {key: np.asarray(value, dtype=float).tobytes() for key, value in info.items() if value is not None}
        )
        if terminated or truncated:
            obs, info = reset()
            trace.append(obs.tobytes())
    return trace


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_rounds__compiled_round_equals_core_transition_bit_for_bit(name):
    env = ServiceMigrationEnv(backend="bound", **CONFIGS[name])
    env.reset(seed=0)
    assert env._round is not None  # the compiled round applies here
    compiled = _play(env, True, seed=5, steps=260)
    assert compiled == _play(ServiceMigrationEnv(backend="bound", **CONFIGS[name]), False, seed=5, steps=260)
    assert any(isinstance(entry, dict) and entry["repaired"] == np.float64(1.0).tobytes() for entry in compiled)


def test_rounds__toy_instance_plays_alike_compiled_or_not():
    def make():
        return ServiceMigrationEnv(config=ToyGenerator.config(), generator=ToyGenerator())

    assert _play(make(), True, seed=1, steps=40) == _play(make(), False, seed=1, steps=40)


def test_rounds__the_paths_it_does_not_play():
    for overrides in ({"fading": True}, {"framework": "horizontal"}, {"mobility": "gauss_markov"}):
        env = ServiceMigrationEnv(backend="bound", **overrides)
        env.reset(seed=0)
        assert env._round is None and not rounds.applies(env.cfg)


def test_rounds__a_refused_action_changes_nothing():
    env = ServiceMigrationEnv(backend="bound", on_conflict="error")
    twin = ServiceMigrationEnv(backend="bound", on_conflict="error")
    env.reset(seed=3)
    twin.reset(seed=3)
    with pytest.raises(ValueError, match=r"two modalities on one edge break Eq. \(20b\)"):
        env.step(env.unwrapped.encode_action([1, 1, 2], pair=0))
    action = env.encode_action([4, 1, 2], pair=1)
    first, second = env.step(action), twin.step(action)
    assert first[0].tobytes() == second[0].tobytes() and first[1] == second[1]
    assert first[4]["wall_clock"] == second[4]["wall_clock"]


def test_rounds__an_unpickled_env_plays_on_alike():
    env = ServiceMigrationEnv(backend="bound")
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        env.step(rng.integers(env.action_space.nvec))
    copy = pickle.loads(pickle.dumps(env))
    assert copy._round is not None
    for _ in range(20):
        action = rng.integers(env.action_space.nvec)
        a, b = env.step(action), copy.step(action)
        assert a[0].tobytes() == b[0].tobytes() and a[1:4] == b[1:4]
        assert a[4]["device_positions"].tolist() == b[4]["device_positions"].tolist()
        if a[2] or a[3]:
            break
