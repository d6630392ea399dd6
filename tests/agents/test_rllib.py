"""RLlib PPO builds and trains one iteration on every env of the suite (needs the ``[ray]`` extra)."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("ray.rllib", reason='the optional extra is not installed: pip install -e ".[ray]"')

import edge_envs  # noqa: E402
from agents.rllib import RLlibOptions, RLlibPolicy, algorithm_config, export_module, init_ray, train  # noqa: E402

# Short episodes keep one iteration cheap; an env missing here runs with its defaults.
SMALL = {"EdgePartition-v0": {"episode_slots": 20}, "edge_partition_multi_v0": {"episode_slots": 20}}
TINY = RLlibOptions(train_batch=64, minibatch=32, epochs=1)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    import ray

    init_ray()
    yield
    ray.shutdown()


@pytest.mark.parametrize("env_id", list(edge_envs.ENV_IDS) + list(edge_envs.PETTINGZOO_MODULES))
def test_rllib__one_training_iteration_on_every_env(env_id):
    algo = algorithm_config(env_id, SMALL.get(env_id, {}), TINY, seed=0).build_algo()
    try:
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= TINY.train_batch
        module_id = "shared" if env_id in edge_envs.PETTINGZOO_MODULES else "default_policy"
        policy = RLlibPolicy(algo.get_module(module_id))
    finally:
        algo.stop()
    if env_id in edge_envs.ENV_IDS:
        env = gym.make(env_id, **SMALL.get(env_id, {}))
        obs, info = env.reset(seed=0)
        assert env.action_space.contains(np.asarray(policy.act(obs, info), dtype=env.action_space.dtype))


def test_rllib__checkpoint_round_trips_to_a_policy(tmp_path):
    summary = train("EdgePartition-v0", 64, tmp_path, SMALL["EdgePartition-v0"], TINY, seed=1)
    assert summary["steps"] >= 64 and (tmp_path / "rllib_checkpoint").is_dir()
    assert list(tmp_path.glob("events.out.tfevents.*")), "no TensorBoard events"
    policy = RLlibPolicy.from_checkpoint(summary["checkpoint"], "EdgePartition-v0")
    env = gym.make("EdgePartition-v0", **SMALL["EdgePartition-v0"])
    obs, info = env.reset(seed=0)
    first = policy.act(obs, info)
    assert env.action_space.contains(first) and np.array_equal(first, policy.act(obs, info))  # deterministic
    module = export_module(summary["checkpoint"], "EdgePartition-v0", tmp_path / "module")
    assert np.array_equal(RLlibPolicy.from_module(module).act(obs, info), first)  # the policy alone, same actions


def test_rllib__committed_leaderboard_module_replays_its_recorded_actions(monkeypatch):
    from benchmarks.leaderboard.play import play_episode
    from benchmarks.leaderboard.policies import load_policy
    from benchmarks.leaderboard.populate import ROOT
    from benchmarks.leaderboard.results import decode_actions, read_result
    from benchmarks.leaderboard.scenarios import make_env, scenario_set

    monkeypatch.chdir(ROOT)  # the entry names its module folder relative to the root
    result = read_result(Path("benchmarks/leaderboard/results/ServiceMigration-v0__rllib-ppo.json"))
    episode = result["episodes"][0]
    scenarios = scenario_set(result["env"])
    env = make_env(scenarios, scenarios.instance(episode["instance"]))
    policy = load_policy(result["policy"], env)
    played = play_episode(env, episode["seed"], policy.act, scenarios.metrics)
    recorded = decode_actions(episode["actions"])
    assert len(played["actions"]) == len(recorded) and played["return"] == episode["return"]
    assert all(np.array_equal(a, b) for a, b in zip(played["actions"], recorded))


@pytest.mark.parametrize(
    ("field", "value"),
    [("env_runners", -1), ("train_batch", 0), ("gamma", 2.0), ("lr", float("nan")), ("minibatch", 10**6)],
)
def test_rllib_options__bad_value_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        RLlibOptions(**{field: value})


def test_rllib__unknown_env_is_refused():
    with pytest.raises(ValueError, match="unknown env 'CartPole-v1'"):
        algorithm_config("CartPole-v1")
