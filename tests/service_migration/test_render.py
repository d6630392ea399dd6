"""rgb_array pictures of ServiceMigration-v0 (issue 13, item 18)."""

import pickle

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)


@pytest.mark.slow
def test_render__rgb_array_is_uint8_hxwx3_and_changes_with_the_state():
    env = gym.make("ServiceMigration-v0", backend="bound", render_mode="rgb_array")
    _, info = env.reset(seed=0)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3 and first.shape[0] >= 200
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 5  # not a blank canvas
    moved = (info["edges"] + 1) % 8
    if len(set(moved.tolist())) < 3:
        moved = np.array([0, 1, 2])
    env.step(np.append(moved, 5))
    second = env.render()
    assert second.shape == first.shape and not np.array_equal(first, second)
    assert np.array_equal(second, env.render())  # same state, same picture
    env.close()


def test_render__the_picture_shows_where_each_modality_sits():
    """Same devices and capabilities (seed), two placements: the pictures differ."""
    pictures = []
    for edges in ([0, 1, 2], [5, 6, 7]):
        env = gym.make("ServiceMigration-v0", backend="bound", render_mode="rgb_array", mobility="static")
        env.reset(seed=3)
        env.step(np.array(edges + [3]))
        pictures.append(env.render())
    assert not np.array_equal(*pictures)


def test_render__human_without_a_display_warns_once_and_shows_nothing():
    env = gym.make("ServiceMigration-v0", backend="bound", render_mode="human")  # headless: Agg backend
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="(?i)render_mode='human': matplotlib's backend 'agg' has no window"):
        assert env.render() is None
    env.step(np.array([0, 1, 2, 0]))
    assert env.render() is None  # the warning is not repeated


def test_render__ansi_still_summarises_the_round():
    env = gym.make("ServiceMigration-v0", backend="bound", render_mode="ansi")
    env.reset(seed=0)
    env.step(np.array([0, 1, 2, 0]))
    assert "round 1" in env.render() and "rho" in env.render()


def test_render__an_env_that_has_rendered_still_pickles():

    env = gym.make("ServiceMigration-v0", backend="bound", render_mode="rgb_array")
    env.reset(seed=0)
    env.render()
    clone = pickle.loads(pickle.dumps(env))
    assert np.array_equal(clone.render(), env.render())
