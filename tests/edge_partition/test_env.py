"""EdgePartition-v0 and its vector env: API checkers, determinism, pickling, validation, config."""

import dataclasses
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import edge_envs  # noqa: F401  (registers the ids)
from benchmarks import throughput_edge_partition
from edge_envs.edge_partition import (
    CONTENTION_FREE,
    EdgePartitionConfig,
    EdgePartitionEnv,
    ToyGenerator,
    core,
    processes,
)
from edge_envs.edge_partition.env import observation_layout
from edge_envs.edge_partition.layout import ObservationLayout

SCENARIOS = [
    dict(),
    dict(contention_free=True),
    dict(model="resnet32", num_blocks=9, num_servers=7, task_rate=110),
    dict(config=ToyGenerator.config()),
]


def make(**kwargs):
    return gym.make("EdgePartition-v0", **kwargs)


@pytest.mark.parametrize("kwargs", SCENARIOS)
def test_env__gymnasium_and_sb3_checkers_pass(kwargs):
    gym_check_env(make(**kwargs).unwrapped, skip_render_check=True)
    sb3_check_env(make(**kwargs), warn=False)


def _rollout(env, seed, steps, action_seed=0):
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    trace = [obs]
    for _ in range(steps):
        action = rng.integers(0, env.action_space.nvec)
        obs, reward, terminated, truncated, info = env.step(action)
        trace += [obs, reward, terminated, truncated, info["delay"], info["queue"]]
        if terminated or truncated:
            trace.append(env.reset()[0])
    return trace


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_env__same_seed_and_actions_give_identical_trajectories():
    first = _rollout(make(episode_slots=40), seed=3, steps=100)
    assert _same(first, _rollout(make(episode_slots=40), seed=3, steps=100))
    assert not _same(first, _rollout(make(episode_slots=40), seed=4, steps=100))


def test_env__reset_of_a_used_env_equals_a_fresh_env():
    used = make(episode_slots=40)
    _rollout(used, seed=1, steps=30)  # queues, energy, positions and streams away from their start
    assert _same(_rollout(used, seed=7, steps=50), _rollout(make(episode_slots=40), seed=7, steps=50))


class AlternatingBlocks:
    """The toy instance, with every other episode's edge latencies doubled: blocks that change at a reset."""

    def __init__(self):
        self.episodes = 0

    def __call__(self, rng):
        toy = ToyGenerator()(rng)
        self.episodes += 1
        scale = 2.0 if self.episodes % 2 == 0 else 1.0
        return dataclasses.replace(toy, edge_s=toy.edge_s * scale)


def test_env__reset_to_other_blocks_charges_the_new_blocks():
    env = EdgePartitionEnv(ToyGenerator.config(), generator=AlternatingBlocks())
    lay = observation_layout(env.cfg)
    for _ in range(3):
        obs, _ = env.reset(seed=0)
        np.testing.assert_array_equal(env.state.blocks.edge_work, env.instance.edge_s)
        fresh = EdgePartitionEnv(ToyGenerator.config(), generator=lambda rng, inst=env.instance: inst)
        np.testing.assert_array_equal(obs[lay.edge_latency], fresh.reset(seed=0)[0][lay.edge_latency])
        assert env.step(np.array([1, 1, 1]))[1] == fresh.step(np.array([1, 1, 1]))[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(episode_slots=25),
        dict(episode_slots=25, contention_free=True),
        dict(episode_slots=300, energy_budget_j=300.0, task_rate=100),
    ],
)
def test_vector_env__rows_equal_single_envs_with_the_same_seeds_across_autoresets(kwargs):
    B, seed, steps = 9, 11, 80  # 9 rows: some wait for a batched pre-draw of their next episode
    venv = gym.make_vec("EdgePartition-v0", num_envs=B, vectorization_mode="vector_entry_point", **kwargs)
    singles = [make(**kwargs) for _ in range(B)]
    obs, _ = venv.reset(seed=seed)
    single_obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
    assert all(np.array_equal(obs[i], single_obs[i]) for i in range(B))
    rng = np.random.default_rng(0)
    pending_reset = [False] * B
    ended = 0
    for _ in range(steps):
        actions = rng.integers(0, venv.single_action_space.nvec, size=(B, len(venv.single_action_space.nvec)))
        obs, reward, terminated, truncated, _ = venv.step(actions)
        for i, env in enumerate(singles):
            if pending_reset[i]:  # next-step autoreset: the vector row resets, the action is ignored
                expected, r, te, tr = env.reset()[0], 0.0, False, False
            else:
                expected, r, te, tr, _ = env.step(actions[i])
            assert np.array_equal(obs[i], expected) and reward[i] == r and terminated[i] == te and truncated[i] == tr
            pending_reset[i] = te or tr
            ended += te or tr
    assert ended > 0  # the autoreset path was exercised
    obs, _ = venv.reset()  # without a seed, each row's Generator continues, as a single env's does
    assert all(np.array_equal(obs[i], env.reset()[0]) for i, env in enumerate(singles))


def test_vector_env__make_vec_passes_config_kwargs():
    venv = gym.make_vec(
        "EdgePartition-v0",
        num_envs=4,
        vectorization_mode="vector_entry_point",
        model="resnet32",
        num_blocks=9,
        num_servers=7,
        task_rate=110,
    )
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (4, 5 * 9 + 3 * 7 + 4) and venv.single_action_space.nvec.tolist() == [8] * 9
    obs, reward, *_ = venv.step(np.zeros((4, 9), dtype=np.int64))
    assert obs.dtype == np.float32 and reward.shape == (4,) and venv.observation_space.contains(obs)


def test_env__gym_make_passes_fields_and_config():
    env = make(model="resnet32", num_blocks=9, num_servers=7, task_rate=110)
    assert env.unwrapped.cfg.model == "resnet32" and env.action_space.nvec.tolist() == [8] * 9
    env = make(config=CONTENTION_FREE, num_servers=3)
    assert env.unwrapped.cfg.contention_free and env.unwrapped.cfg.num_servers == 3


def test_env__contention_free_scenario_has_no_queues_and_fixed_links():
    env = make(contention_free=True, episode_slots=30)
    _, info = env.reset(seed=0)
    speed, rate = info["server_speed"].copy(), info["rate"].copy()
    for _ in range(29):
        _, _, terminated, truncated, info = env.step(np.ones(6, dtype=np.int64))
        assert not terminated and (info["queue"] == 0).all() and (info["block_wait"] == 0).all()
        assert np.array_equal(info["server_speed"], speed) and np.array_equal(info["rate"], rate)


def test_env__info_reports_reward_components_and_slot_state():
    env = make(episode_slots=10)
    _, info = env.reset(seed=1)
    assert {"energy_left", "queue", "device_queue", "server_speed", "rate", "tasks", "deadline"} <= set(info)
    _, reward, _, _, info = env.step(np.array([0, 1, 2, 3, 4, 1]))
    assert reward == pytest.approx(-(info["delay"] + env.unwrapped.cfg.penalty_weight * info["penalty"]))
    assert info["block_delay"].sum() == pytest.approx(info["delay"])
    np.testing.assert_allclose(
        info["block_delay"], info["block_transfer"] + info["block_compute"] + info["block_wait"], rtol=1e-12
    )
    assert info["placement"].tolist() == [0, 1, 2, 3, 4, 1] and info["energy"] > 0
    assert info["queue"].shape == (4,) and info["rate"].shape == (4,) and info["block_delay"].shape == (6,)


def test_env__observation_reflects_queues_energy_and_time():
    env = make(episode_slots=10)
    obs, _ = env.reset(seed=2)
    lay = observation_layout(env.unwrapped.cfg)
    assert obs[lay.energy] == 1.0 and obs[lay.time_left] == 1.0 and (obs[lay.queue] == 0).all()
    for _ in range(3):  # all blocks on server 1 overload it
        obs, _, _, _, info = env.step(np.ones(6, dtype=np.int64))
    assert obs[lay.queue][0] > 0.5 and obs[lay.energy] < 1.0 and obs[lay.time_left] == pytest.approx(0.7)
    q = info["queue"][0]
    assert obs[lay.queue][0] == pytest.approx(q / (1 + q), rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("vector", [False, True])
def test_env__pickles_mid_episode(vector):
    if vector:
        env = gym.make_vec("EdgePartition-v0", num_envs=3, vectorization_mode="vector_entry_point", episode_slots=20)
        action = np.ones((3, 6), dtype=np.int64)
    else:
        env = make(episode_slots=20)
        action = np.ones(6, dtype=np.int64)
    env.reset(seed=5)
    env.step(action)
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(3):
        a, b = env.step(action), clone.step(action)
        assert all(np.array_equal(x, y) for x, y in zip(a[:4], b[:4]))


def test_env__state_property_matches_the_core():
    env = make(episode_slots=10).unwrapped
    env.reset(seed=4)
    env.step(np.ones(6, dtype=np.int64))
    state = env.state
    outcome = core.slot_cost(state, np.array([[1, 2, 3, 4, 0, 1]]))
    _, reward, *_ = env.step(np.array([1, 2, 3, 4, 0, 1]))
    assert outcome.reward[0] == reward


@pytest.mark.parametrize(
    "action, match",
    [
        (np.zeros(5, dtype=np.int64), "wrong shape"),
        (np.full(6, 5), "out of range"),
        (np.full(6, -1), "out of range"),
        (np.array([0, 1, 2, 3, 4, np.nan]), "NaN"),
        (np.zeros(6), "not an integer"),
        ([0, 1, 2, 3, 4, 1.0], "not an integer"),
        ([0, 1, 2], "wrong length"),
        ("abc", "type str"),
        ([0, 1, 2, 3, 4, float("nan")], "NaN"),
    ],
)
def test_env__bad_action_raises_naming_what_is_allowed(action, match):
    env = make(episode_slots=10)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match) as error:
        env.step(action)
    assert r"[0, 4]" in str(error.value)


@pytest.mark.parametrize(
    "actions, match",
    [
        (np.zeros((2, 6), dtype=np.int64), "shape"),
        (np.full((3, 6), 7), r"\[0, 4\]"),
        (np.zeros((3, 6)), "dtype"),
        (np.full((3, 6), np.nan), "NaN"),
        (np.full((3, 6), -1), r"\[0, 4\]"),
    ],
)
def test_vector_env__bad_actions_raise(actions, match):
    venv = gym.make_vec("EdgePartition-v0", num_envs=3, vectorization_mode="vector_entry_point", episode_slots=10)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        venv.step(actions)


def test_env__step_before_reset_and_after_the_end_raise():
    env = EdgePartitionEnv(episode_slots=1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(6, dtype=np.int64))
    env.reset(seed=0)
    *_, truncated, _ = env.step(np.zeros(6, dtype=np.int64))
    assert truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(6, dtype=np.int64))


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("num_servers", 1, r"num_servers must be an integer in \[2, 9\]"),
        ("num_servers", 10, "num_servers"),
        ("num_blocks", 2, "num_blocks"),
        ("num_blocks", 4.5, "num_blocks"),
        ("task_rate", 0.0, "task_rate"),
        ("task_rate", float("nan"), "task_rate"),
        ("deadline_s", (7.0, 1.0), "deadline_s"),
        ("server_speed_factor", (0.0, 1.0), "server_speed_factor"),
        ("background_load", 1.0, "background_load"),
        ("model", "lenet", "model"),
        ("episode_slots", 0, "episode_slots"),
        ("contention_free", 1, "contention_free"),
        ("walk_speed_mps", (0.0, 2.0), "walk_speed_mps"),
        ("energy_budget_j", -1.0, "energy_budget_j"),
        ("penalty_weight", -1.0, "penalty_weight"),
        ("rate_range_bps", (2e7, 1e7), "rate_range_bps"),
    ],
)
def test_config__bad_value_raises_naming_the_field_and_range(field, value, match):
    with pytest.raises(ValueError, match=match):
        EdgePartitionConfig(**{field: value})


def test_config__too_many_blocks_for_the_model_names_num_blocks():
    with pytest.raises(ValueError, match="num_blocks"):
        make(model="alexnet", num_blocks=500)


def test_config__unknown_field_raises():
    with pytest.raises(ValueError, match="unknown EdgePartitionConfig field"):
        make(num_server=3)


def test_env__render_ansi_describes_the_slot():
    env = make(render_mode="ansi", episode_slots=5)
    env.reset(seed=0)
    env.step(np.ones(6, dtype=np.int64))
    text = env.render()
    assert text.startswith("slot 1:") and "placement [1, 1, 1, 1, 1, 1]" in text


def test_throughput_benchmark__runs_at_a_tiny_size(tmp_path):
    out = tmp_path / "throughput.md"
    argv = ["--steps", "50", "--vector-steps", "3", "--num-envs", "8", "--episode-slots", "20", "--rounds", "1"]
    argv += ["--multi-steps", "30", "--multi-num-envs", "4"]
    assert throughput_edge_partition.main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    assert "| parallel env, agent-steps/s |" in text and "| vector form x4, agent-steps/s (1 thread) |" in text
    assert "| single env, steps/s |" in text and "| vector env x8, env-steps/s (default: 1 thread) |" in text
    assert "(default: 1 thread) beside a busy process |" in text and "opted in) |" in text
    assert text.count("| 0.3x ") == 1 and text.count("| reference |") == 3  # the target: on the default
    assert "Beside a busy process, the default keeps" in text


def test_env__docstring_observation_table_matches_the_core_layout():
    doc = EdgePartitionEnv.__doc__
    table = doc[doc.index("| index") : doc.index("## Rewards")].strip().splitlines()[2:]
    rows = [tuple(cell.strip() for cell in line.strip().strip("|").split("|")) for line in table]
    assert rows == ObservationLayout.table()


def test_reflect__a_tiny_top_stays_inside_it():
    # the compiled fold took math.floor of x / (2 top): for top = 1e-30 an int64 overflow gave -x
    for x in (0.05, -0.3, 0.9, 1e-31):
        assert 0.0 <= processes._reflect(x, 1e-30) <= 1e-30
    assert processes._reflect(0.3, 0.25) == pytest.approx(0.2) and processes._reflect(-0.1, 0.25) == pytest.approx(0.1)
