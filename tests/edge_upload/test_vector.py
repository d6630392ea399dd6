"""EdgeUpload's vector env: row i is the single env seeded seed + i, bit for bit, through autoresets."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401
from edge_envs.edge_upload import IllegalUploadError, edge_cloud

KEYS = ("time", "latency", "deciding", "resends", "sent", "action_mask", "illegal_action")


def _flat(obs):
    return obs["observation"] if isinstance(obs, dict) else obs


SETTINGS = [
    dict(),
    dict(config=edge_cloud(loss_probability=0.3)),
    dict(model="nin", loss_probability=0.5, mask_observation=True),
]


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_vector_env__rows_match_single_envs_through_autoresets(kwargs):
    num_envs, seed, steps = 4, 11, 40
    venv = gym.make_vec("EdgeUpload-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    singles = [gym.make("EdgeUpload-v0", **kwargs) for _ in range(num_envs)]
    obs, infos = venv.reset(seed=seed)
    starts = [env.reset(seed=seed + i) for i, env in enumerate(singles)]
    for i, (single_obs, _) in enumerate(starts):
        assert np.array_equal(_flat(obs)[i], _flat(single_obs))
    rng, ended, resets = np.random.default_rng(0), [False] * num_envs, 0
    for _ in range(steps):
        actions = rng.integers(venv.single_action_space.n, size=num_envs)  # illegal ones get the nearest legal
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        for i, env in enumerate(singles):
            if ended[i]:  # next-step autoreset: this step started the row's next episode
                want_obs, want_info = env.reset()
                want_reward, want_terminated = 0.0, False
                resets += 1
            else:
                want_obs, want_reward, want_terminated, _, want_info = env.step(int(actions[i]))
            assert np.array_equal(_flat(obs)[i], _flat(want_obs)), i
            assert rewards[i] == want_reward and terminated[i] == want_terminated and not truncated[i]
            for key in KEYS:
                assert np.array_equal(infos[key][i], want_info[key]), key
            ended[i] = want_terminated
    assert resets > 0


def test_vector_env__unseeded_reset_continues_each_rows_generator():
    venv = gym.make_vec("EdgeUpload-v0", num_envs=2, vectorization_mode="vector_entry_point")
    single = gym.make("EdgeUpload-v0")
    venv.reset(seed=3)
    single.reset(seed=3)
    obs, _ = venv.reset()
    assert np.array_equal(obs[0], single.reset()[0])


def test_vector_env__illegal_action_raise_names_the_row():
    venv = gym.make_vec(
        "EdgeUpload-v0", num_envs=2, vectorization_mode="vector_entry_point", illegal_action="raise", num_clients=1
    )
    venv.reset(seed=0)
    venv.step(np.array([65, 0]))  # row 0 uploads the last layer
    with pytest.raises(IllegalUploadError, match="row 0 has 65"):
        venv.step(np.array([65, 1]))
    with pytest.raises(IllegalUploadError, match=r"row 1 has 66; expected one integer in \[0, 66\)"):
        venv.step(np.array([0, 66]))
