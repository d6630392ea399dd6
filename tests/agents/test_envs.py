import numpy as np

from agents.envs import GymStreams, PettingZooStreams, make_streams, pettingzoo_module
from tests.agents.bandit import ENV_ID


def test_make_streams__tells_gymnasium_ids_from_pettingzoo_modules():
    assert pettingzoo_module(ENV_ID) is None
    assert pettingzoo_module("EdgePartition-v0") is None
    assert pettingzoo_module("tests.agents.multi_bandit") is not None
    assert isinstance(make_streams(ENV_ID, {}, 2, 0), GymStreams)
    assert isinstance(make_streams("tests.agents.multi_bandit", {}, 2, 0), PettingZooStreams)


def test_gym_streams__reset_ended_episodes_and_report_them():
    streams = GymStreams(ENV_ID, {"length": 3}, num_envs=2, seed=0)
    obs = streams.reset()
    assert obs.shape == (2, 2) and obs.dtype == np.float32
    episodes = []
    for t in range(6):
        batch = streams.step(np.zeros((2, 3), np.int64))
        episodes += batch.episodes
        assert batch.active.all()
        assert batch.truncated.all() == (t % 3 == 2)
    assert [e.length for e in episodes] == [3, 3, 3, 3]
    assert all(e.metrics["delay"] == 9.0 - e.episode_return for e in episodes)


def test_gym_streams__same_seed_same_observations():
    a, b = GymStreams(ENV_ID, {}, 3, seed=5), GymStreams(ENV_ID, {}, 3, seed=5)
    np.testing.assert_array_equal(a.reset(), b.reset())
    actions = np.ones((3, 3), np.int64)
    for _ in range(10):
        np.testing.assert_array_equal(a.step(actions).obs, b.step(actions).obs)


def test_pettingzoo_streams__an_agent_that_ends_early_waits_inactive():
    streams = PettingZooStreams("tests.agents.multi_bandit", {"length": 2, "stagger": 2}, seed=0)
    streams.reset()
    actives, lengths = [], []
    for _ in range(8):
        batch = streams.step(np.zeros((2, 3), np.int64))
        actives.append(batch.active.tolist())
        lengths += [e.length for e in batch.episodes]
        assert not batch.reward[~batch.active].any()
    # device_0 plays 2 slots then waits 2 while device_1 plays its 4; then both restart
    assert actives == [[True, True], [True, True], [False, True], [False, True]] * 2
    assert lengths == [2, 4, 2, 4]
