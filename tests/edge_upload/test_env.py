"""EdgeUpload env shell: checkers on every setting, mask in info, named errors, determinism, docs."""

import doctest

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import edge_envs  # noqa: F401
from edge_envs.edge_upload import EdgeUploadEnv, IllegalUploadError, ToyGenerator, edge_cloud
from edge_envs.edge_upload import env as env_module

SETTINGS = [dict(), dict(model="vgg16_224"), dict(config=edge_cloud()), dict(model="resnet32", loss_probability=0.5)]


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_env__gymnasium_and_sb3_checkers_pass(kwargs):
    gym_check_env(EdgeUploadEnv(**kwargs), skip_render_check=True)
    sb3_check_env(EdgeUploadEnv(**kwargs), warn=False)


def _episode(env, seed):
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace, done = [obs, info["action_mask"]], False
    while not done:
        action = env.action_space.sample()
        assert info["action_mask"][action] == 1  # sampling respects the mask
        obs, reward, done, _, info = env.step(action)
        trace += [obs, reward, info["resends"], info["time"]]
    return trace


@pytest.mark.parametrize("kwargs", [dict(loss_probability=0.5), dict(config=edge_cloud(loss_probability=0.3))])
def test_env__same_seed_same_trajectory(kwargs):
    first, second = _episode(gym.make("EdgeUpload-v0", **kwargs), 3), _episode(gym.make("EdgeUpload-v0", **kwargs), 3)
    assert len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second))
    other = _episode(gym.make("EdgeUpload-v0", **kwargs), 4)
    assert len(first) != len(other) or not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_env__mask_in_info_forbids_reupload_and_masked_action_raises():
    env = gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator(), illegal_action="raise")
    _, info = env.reset(seed=0)
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].sum() == 10
    _, reward, done, _, info = env.step(2)  # run [0, 3)
    assert reward == pytest.approx(-1.0 * 6.0) and not done
    assert info["action_mask"].tolist() == [0] * 9 + [1]
    assert np.array_equal(env.unwrapped.action_masks(), info["action_mask"])
    with pytest.raises(IllegalUploadError, match="already uploaded"):
        env.step(4)
    with pytest.raises(ValueError, match="one integer"):
        env.step(2.0)
    _, _, done, _, info = env.step(np.int64(9))
    assert done and info["time"] == pytest.approx(10.0)


def test_env__forbidden_action_by_default_uploads_the_nearest_legal_one():
    env = gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator())
    _, info = env.reset(seed=0)
    _, _, _, _, info = env.step(2)  # run [0, 3); only action 9, run [3, 4), is legal now
    assert info["illegal_action"] is False
    reference = gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator())
    reference.reset(seed=0)
    reference.step(2)
    expected = reference.step(9)
    got = env.step(4)  # run [1, 2) holds layer 1, uploaded: replaced by 9
    assert got[4]["illegal_action"] is True and got[4]["partition"] == (3, 4)
    assert np.array_equal(got[0], expected[0]) and got[1:4] == expected[1:4]
    with pytest.raises(IllegalUploadError, match=r"integer in \[0, 10\)"):  # out of range still raises
        env.reset(seed=0)
        env.step(10)


@pytest.mark.parametrize(
    "legal, requested, expected", [([0, 2], 1, 0), ([0, 2], 2, 2), ([3, 7], 5, 3), ([3, 7], 6, 7), ([4], 0, 4)]
)
def test_nearest_legal__picks_the_closest_index_and_the_lower_on_a_tie(legal, requested, expected):
    mask = np.zeros(10, dtype=np.int8)
    mask[legal] = 1
    assert env_module.nearest_legal(mask, requested) == expected


def test_env__illegal_action_and_mask_observation_are_checked():
    with pytest.raises(ValueError, match=r"illegal_action must be one of \('nearest', 'raise'\)"):
        EdgeUploadEnv(illegal_action="skip")
    with pytest.raises(ValueError, match="mask_observation must be True or False"):
        EdgeUploadEnv(mask_observation="yes")


def test_env__mask_observation_gives_a_dict_with_the_mask_and_passes_the_checker():
    env = gym.make("EdgeUpload-v0", mask_observation=True)
    gym_check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert set(obs) == {"observation", "action_mask"} and obs in env.observation_space
    obs, *_, info = env.step(65)
    assert np.array_equal(obs["action_mask"], info["action_mask"]) and obs["action_mask"][65] == 0
    flat = gym.make("EdgeUpload-v0")
    flat.reset(seed=0)
    assert np.array_equal(flat.step(65)[0], obs["observation"])


def test_env__rgb_array_colours_uploaded_layers():
    env = gym.make("EdgeUpload-v0", render_mode="rgb_array", loss_probability=0.0)
    env.reset(seed=0)
    before = env.render()
    env.step(65)  # the last layer to the server
    after = env.render()
    assert before.dtype == np.uint8 and before.ndim == 3 and before.shape == after.shape
    assert not np.array_equal(before, after)


def test_env__episode_ends_when_every_client_uploaded_everything():
    env = gym.make("EdgeUpload-v0", config=edge_cloud(model="alexnet", loss_probability=0.0))
    _, info = env.reset(seed=1)
    steps, done = 0, False
    while not done:
        _, _, done, _, info = env.step(int(np.flatnonzero(info["action_mask"])[-1]))  # last run, last server
        steps += 1
    assert steps == 2 * env.unwrapped.num_layers and (env.unwrapped.state.where >= 0).all()


def test_env__unknown_field_and_bad_value_are_named():
    with pytest.raises(ValueError, match="unknown EdgeUploadConfig field"):
        gym.make("EdgeUpload-v0", bandwidth=3)
    with pytest.raises(ValueError, match=r"loss_probability must be a number in \[0.0, 0.9\]"):
        gym.make("EdgeUpload-v0", loss_probability=1.0)


def test_env__docstring_examples_run():
    assert doctest.testmod(env_module, raise_on_error=True).attempted >= 1


def test_env__render_ansi_summarises():
    env = gym.make("EdgeUpload-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    assert "uploaded c0:" in env.render()
