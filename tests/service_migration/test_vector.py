"""ServiceMigration's vector env: row i is the single env seeded seed + i, bit for bit, through autoresets."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401

SETTINGS = [  # the first four in compiled rounds (rounds.applies), the others row by row
    dict(max_rounds=6),
    dict(max_rounds=9, continuous_rho=True),
    dict(beta=3.0),
    dict(max_rounds=5, mobility="static", observe_pair_costs=False, pair_rho_levels=False),
    dict(max_rounds=5, fading=True, continuous_rho=True),
    dict(max_rounds=4, mobility="gauss_markov", observe_pair_costs=False, num_devices=7),
]
KEYS = ("round", "wall_clock", "edges", "capability", "slowest_rates", "progress", "communication_cost", "repaired")


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_vector_env__rows_match_single_envs_through_autoresets(kwargs):
    num_envs, seed, steps = 3, 5, 14
    venv = gym.make_vec("ServiceMigration-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    singles = [gym.make("ServiceMigration-v0", **kwargs) for _ in range(num_envs)]
    obs, _ = venv.reset(seed=seed)
    for i, env in enumerate(singles):
        assert np.array_equal(obs[i], env.reset(seed=seed + i)[0])
    venv.action_space.seed(0)
    ended, resets = [False] * num_envs, 0
    for _ in range(steps):
        actions = venv.action_space.sample()
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        for i, env in enumerate(singles):
            if ended[i]:  # next-step autoreset: this step started the row's next episode
                want_obs, want_info = env.reset()
                want, ended[i] = (0.0, False, False), False
                resets += 1
            else:
                want_obs, reward, term, trunc, want_info = env.step(actions[i])
                want = (reward, term, trunc)
                ended[i] = term or trunc
            assert np.array_equal(obs[i], want_obs), i
            assert (rewards[i], terminated[i], truncated[i]) == want
            for key in KEYS:
                assert np.array_equal(infos[key][i], want_info.get(key, False)), key
    assert resets > 0


@pytest.mark.parametrize("mobility", ["random_waypoint", "gauss_markov"])
def test_vector_env__a_refused_row_is_named_and_nothing_changes(mobility):
    kwargs = dict(on_conflict="error", mobility=mobility)
    venv = gym.make_vec("ServiceMigration-v0", num_envs=3, vectorization_mode="vector_entry_point", **kwargs)
    twin = gym.make_vec("ServiceMigration-v0", num_envs=3, vectorization_mode="vector_entry_point", **kwargs)
    venv.reset(seed=4)
    twin.reset(seed=4)
    with pytest.raises(ValueError, match=r"row 2: two modalities on one edge break Eq. \(20b\)"):
        venv.step(np.array([[0, 1, 2, 3], [3, 4, 5, 6], [1, 1, 2, 3]]))
    actions = np.array([[0, 1, 2, 3], [3, 4, 5, 6], [1, 7, 2, 3]])
    (obs, rewards, *_), (want_obs, want_rewards, *_) = venv.step(actions), twin.step(actions)
    assert np.array_equal(obs, want_obs) and np.array_equal(rewards, want_rewards)


def test_vector_env__refuses_the_real_backend_and_horizontal_fl():
    with pytest.raises(ValueError, match="backend='bound' with framework='split' only"):
        gym.make_vec("ServiceMigration-v0", num_envs=2, vectorization_mode="vector_entry_point", backend="real")
    with pytest.raises(ValueError, match="framework='horizontal'"):
        gym.make_vec("ServiceMigration-v0", num_envs=2, vectorization_mode="vector_entry_point", framework="horizontal")


def test_vector_env__an_out_of_range_action_names_its_row():
    venv = gym.make_vec("ServiceMigration-v0", num_envs=3, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions: row 1: action .* out of range"):
        venv.step(np.array([[0, 1, 2, 3], [0, 1, 9, 3], [0, 1, 2, 99]]))
