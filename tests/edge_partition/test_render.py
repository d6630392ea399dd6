"""Rendering of EdgePartition-v0 and the multi-agent env: rgb_array pictures that follow the state."""

import warnings

import gymnasium as gym
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import EdgePartitionEnv, ToyGenerator, render, snapshot
from edge_envs.render import RenderModeError

SHAPE = (render.HEIGHT_PX, render.WIDTH_PX, 3)


def test_render__rgb_array_is_a_uint8_picture_that_changes_with_the_state():
    env = gym.make("EdgePartition-v0", render_mode="rgb_array", episode_slots=10)
    env.reset(seed=0)
    start = env.render()
    assert start.shape == SHAPE and start.dtype == np.uint8
    env.step(np.ones(6, dtype=np.int64))  # every block on server 1: a queue and a placement appear
    loaded = env.render()
    env.step(np.array([0, 2, 2, 3, 3, 4]))
    spread = env.render()
    assert loaded.shape == SHAPE and loaded.dtype == np.uint8
    assert not np.array_equal(start, loaded) and not np.array_equal(loaded, spread)
    assert np.array_equal(spread, env.render())  # the same state draws the same picture


def test_render__server_colours_mark_where_the_blocks_ran():
    env = EdgePartitionEnv(render_mode="rgb_array", episode_slots=10)
    env.reset(seed=1)
    env.step(np.full(6, 2))  # all on server 2
    colour = np.round(np.array(render.server_colour(2)) * 255)
    on_2 = np.all(np.abs(env.render().astype(int) - colour) <= 1, axis=-1).sum()
    env.step(np.full(6, 3))
    assert on_2 > 2000 > np.all(np.abs(env.render().astype(int) - colour) <= 1, axis=-1).sum()


@pytest.mark.filterwarnings("ignore:render_mode='human'")  # no display here
def test_render__gymnasium_checker_passes_in_every_render_mode():
    check_env(gym.make("EdgePartition-v0", render_mode="rgb_array", config=ToyGenerator.config()).unwrapped)


def test_render__multi_agent_rgb_array_follows_the_devices():
    env = edge_partition_multi_v0.parallel_env(render_mode="rgb_array", episode_slots=10)
    env.reset(seed=0)
    start = env.render()
    env.step({agent: np.full(6, 1 + i) for i, agent in enumerate(env.agents)})
    after = env.render()
    assert start.shape == after.shape == SHAPE and after.dtype == np.uint8
    assert not np.array_equal(start, after)


def test_render__human_mode_draws_at_each_step_in_a_window(monkeypatch):
    monkeypatch.setattr(plt, "get_backend", lambda: "tkagg")  # as if a display existed
    monkeypatch.setattr(plt, "pause", lambda interval: None)  # none here: nothing to wait for
    env = EdgePartitionEnv(render_mode="human", episode_slots=3)
    env.reset(seed=0)
    env.step(np.ones(6, dtype=np.int64))
    assert env.render() is None and plt.fignum_exists(env._window._figure.number)
    env.close()
    assert not plt.get_fignums()


def test_render__human_mode_without_a_display_warns_once_and_shows_nothing():
    env = edge_partition_multi_v0.parallel_env(render_mode="human", episode_slots=3)
    with pytest.warns(UserWarning, match="(?i)render_mode='human': matplotlib's backend 'agg' has no window"):
        env.reset(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env.step({agent: np.ones(6, dtype=np.int64) for agent in env.agents})
    assert not caught and not plt.get_fignums()


@pytest.mark.parametrize(
    "make",
    [lambda: EdgePartitionEnv(render_mode="video"), lambda: edge_partition_multi_v0.parallel_env(render_mode="rgb")],
)
def test_render__unknown_mode_raises_naming_the_modes(make):
    with pytest.raises(RenderModeError, match=r"\['ansi', 'rgb_array', 'human'\]"):
        make()


def test_snapshot__writes_the_picture_as_a_png(tmp_path):
    out = tmp_path / "picture.png"
    assert snapshot.main(["--out", str(out), "--slots", "2"]) == 0
    assert matplotlib.image.imread(out).shape[:2] == SHAPE[:2]
