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
    env = gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator())
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
