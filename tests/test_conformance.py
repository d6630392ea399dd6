"""What every registered environment must pass: a new env gets all of it by being registered.

Parametrised over every Gymnasium id (``edge_envs.ENV_IDS``), every vector entry point of those ids and
every PettingZoo module (``edge_envs.PETTINGZOO_MODULES``), each built with its defaults: the API
checkers (Gymnasium's and SB3's, PettingZoo's parallel API and seed tests), seeded determinism (the same
seed and actions give the same trajectory, bit for bit; another seed another one), pickling mid-episode,
observations inside their space over random episodes, and a ValueError for each kind of bad action.
The checkers also run on non-default configs (``OTHER_CONFIGS``). A checker's warning (an infinite
reward, a live agent left without a reward, ...) is a failure: only ``EXPECTED_WARNINGS`` are let through.
ServiceMigration-v0 runs here on its bound backend (its default; the real backend trains a model every
round); one real-backend smoke below (marked slow) runs the checkers and a seeded rollout on it.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo import ParallelEnv
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, state_test
from pettingzoo.utils.conversions import parallel_to_aec
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import edge_envs
from edge_envs.edge_upload import edge_cloud
from edge_envs.reset import ResetOptionsWarning
from tests.helpers import parallel_rollout, rollout, same, sample_action

GYM_IDS = edge_envs.ENV_IDS
VECTOR_IDS = tuple(env_id for env_id in GYM_IDS if gym.spec(env_id).vector_entry_point is not None)
PZ_MODULES = edge_envs.PETTINGZOO_MODULES
STEPS = 12  # steps per rollout: enough to cover resets of the short envs, cheap for the slow ones
NUM_ENVS = 3
FAST_DEFAULTS = {"ServiceMigration-v0": {"backend": "bound"}}  # registered defaults replaced in this module


@pytest.fixture(autouse=True)
def _fast_defaults(monkeypatch):
    """gym.make(env_id) here builds the env with FAST_DEFAULTS over its registered keywords."""
    for env_id, kwargs in FAST_DEFAULTS.items():
        for key, value in kwargs.items():
            monkeypatch.setitem(gym.spec(env_id).kwargs, key, value)


def pz_module(name: str):
    return importlib.import_module(f"edge_envs.{name}")


# Non-default configs the checkers also run on: other models, spaces, frameworks and ways an episode ends.
OTHER_CONFIGS = {
    "EdgePartition-v0": [
        dict(model="nin", num_servers=2, poisson_tasks=True, contention_free=True, fading=False),
        dict(model="alexnet_224", energy_budget_j=20.0, episode_slots=30, edge_profile="gpu"),  # runs out of energy
    ],
    "ServiceMigration-v0": [
        dict(backend="bound", continuous_rho=True, fading=True),
        dict(backend="bound", pair_rho_levels=False, framework="horizontal", max_rounds=8),
    ],
    "EdgeUpload-v0": [dict(config=edge_cloud()), dict(model="vgg16_224", loss_probability=0.5)],
    "edge_partition_multi_v0": [
        dict(models=("vgg16",)),
        dict(models=("alexnet", "nin"), energy_budget_j=20.0, episode_slots=30),  # agents end at different slots
    ],
    "multiserver_fl_v0": [
        dict(action_levels=3, framework="cloud", num_faulty=1, num_vehicles=10, num_rounds=3),
        dict(num_servers=2, num_vehicles=6, num_rounds=3, handover=False, fault="noise", num_faulty=1),
    ],
}


def _other_configs(names) -> list:
    return [
        pytest.param(name, kwargs, id=f"{name}-{index}")
        for name in names
        for index, kwargs in enumerate(OTHER_CONFIGS[name])
    ]


# What a checker may warn about without failing, each with why it is no defect. Any other warning
# raised while a checker runs is an error.
EXPECTED_WARNINGS = (
    # headless, a 'human' window cannot open: the env says so and carries on
    dict(message="render_mode='human'.*no window"),
    # PettingZoo's API tests reset with options={"options": 1}: the PettingZoo envs warn and ignore it
    dict(category=ResetOptionsWarning),
    # SB3 recommends Box actions in [-1, 1]; ServiceMigration's continuous ratio in [0, 1] is a valid Box
    dict(message="We recommend you to use a symmetric and normalized Box action space"),
    # PettingZoo's AEC test hints at Box or Discrete; MultiDiscrete is a valid PettingZoo action space
    dict(message="Action space for each agent probably should be gymnasium.spaces.box or gymnasium.spaces.discrete"),
)


@contextlib.contextmanager
def checker_warnings_are_errors():
    """Inside: a warning is raised as an error, except the ``EXPECTED_WARNINGS``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for expected in EXPECTED_WARNINGS:
            warnings.filterwarnings("ignore", **expected)
        yield


def check_gymnasium(make) -> None:
    """Gymnasium's checker on the unwrapped env, then SB3's (with its warnings on: its NaN/inf check over
    random steps only warns), every warning an error."""
    with checker_warnings_are_errors():
        gym_check_env(make().unwrapped)
        sb3_check_env(make(), warn=True)


def check_pettingzoo(parallel_env, aec_env) -> None:
    """PettingZoo's parallel API, AEC API and parallel seed tests, every warning an error (their 'live
    agent was not given a reward' is only a warning)."""
    with checker_warnings_are_errors():
        parallel_api_test(parallel_env(), num_cycles=STEPS)
        api_test(aec_env(), num_cycles=STEPS)
        parallel_seed_test(parallel_env, num_cycles=STEPS)


def bad_actions(space: spaces.Space) -> dict[str, np.ndarray]:
    """Invalid actions of each kind the space allows, by name: out of range, wrong shape, not finite."""
    if isinstance(space, spaces.MultiDiscrete):
        low, high = space.start, space.start + space.nvec - 1
        return {
            "below range": low - 1,
            "above range": high + 1,
            "wrong shape": np.zeros((1, *space.shape), int),
            "NaN": np.full(space.shape, np.nan),
        }
    if isinstance(space, spaces.Discrete):
        return {
            "below range": np.int64(space.start - 1),
            "above range": np.int64(space.start + space.n),
            "wrong shape": np.zeros(2, int),
            "NaN": np.float64(np.nan),
        }
    if isinstance(space, spaces.MultiBinary):
        return {"above range": np.full(space.shape, 2), "wrong shape": np.zeros((1, *space.shape), np.int8)}
    if isinstance(space, spaces.Box):
        return {"wrong shape": np.zeros((1, *space.shape), space.dtype), "NaN": np.full(space.shape, np.nan)}
    raise NotImplementedError(f"no bad actions defined for {type(space).__name__}: extend bad_actions")


def _cases(space_of_id) -> list:
    return [
        pytest.param(key, name, id=f"{key}-{name}") for key in space_of_id for name in bad_actions(space_of_id[key])
    ]


def _in_space(space: spaces.Space, observation) -> bool:
    return space.contains(observation)


def _pickled_copy_continues_identically(env) -> bool:
    """Pickle a Gymnasium env (single or vector) one step into an episode; the copy and the original then
    give the same steps for the same actions."""
    _, info = env.reset(seed=3)
    env.action_space.seed(3)
    info = env.step(sample_action(env, info))[4]
    clone = pickle.loads(pickle.dumps(env))
    steps, clone_steps = [], []
    for _ in range(3):
        action = sample_action(env, info)
        steps.append(env.step(action))
        clone_steps.append(clone.step(action))
        info = steps[-1][4]
    return same([s[:4] for s in steps], [s[:4] for s in clone_steps])


# ---------------------------------------------------------------- Gymnasium ids


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__gymnasium_check_env_passes(env_id):
    with checker_warnings_are_errors():
        gym_check_env(gym.make(env_id).unwrapped)


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__sb3_check_env_passes(env_id):
    with checker_warnings_are_errors():
        sb3_check_env(gym.make(env_id), warn=True)


@pytest.mark.parametrize("env_id, kwargs", _other_configs(GYM_IDS))
def test_conformance__checkers_pass_on_other_configs(env_id, kwargs):
    check_gymnasium(lambda: gym.make(env_id, **kwargs))


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__sb3_make_vec_env_builds_and_resets(env_id):
    # SB3's make_vec_env asks for rgb_array first and falls back to no render mode on an error
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env(env_id, n_envs=2, seed=0)
    assert vec.reset().shape == (2, *gym.make(env_id).observation_space.shape)
    vec.close()


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__same_seed_and_actions_give_the_same_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=7, steps=STEPS)
    assert same(first, rollout(gym.make(env_id), seed=7, steps=STEPS))
    assert not same(first, rollout(gym.make(env_id), seed=8, steps=STEPS))


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__env_pickles_mid_episode_and_the_copy_continues_identically(env_id):
    assert _pickled_copy_continues_identically(gym.make(env_id))


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__an_env_an_older_release_pickled_still_loads(env_id):
    # RLlib checkpoints pickle the env they were made with; its state lacks what later releases added
    env = gym.make(env_id).unwrapped
    restored = type(env).__new__(type(env))
    getattr(restored, "__setstate__", restored.__dict__.update)({"spec": env.spec})  # as pickle.loads does
    assert restored.spec == env.spec


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__observations_lie_in_their_space_over_random_episodes(env_id):
    env = gym.make(env_id)
    for episode in range(2):
        observation, info = env.reset(seed=100 + episode)
        env.action_space.seed(episode)
        assert _in_space(env.observation_space, observation) and isinstance(info, dict)
        for _ in range(STEPS):
            observation, reward, terminated, truncated, info = env.step(sample_action(env, info))
            assert _in_space(env.observation_space, observation), (episode, observation)
            assert np.isfinite(reward) and isinstance(info, dict)
            if terminated or truncated:
                break


@pytest.mark.parametrize("env_id, kind", _cases({env_id: gym.spec(env_id).make().action_space for env_id in GYM_IDS}))
def test_conformance__bad_action_is_a_value_error(env_id, kind):
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(bad_actions(env.action_space)[kind])
    env.action_space.seed(0)
    env.step(env.action_space.sample())  # the refused action left the env usable


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__unsupported_render_mode_is_a_value_error_naming_the_modes(env_id):
    with pytest.raises(ValueError, match="render_mode"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns about the mode before the env refuses it
        gym.make(env_id, render_mode="no-such-mode")


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_conformance__namespaced_id_makes_the_env(env_id):
    assert gym.make(f"edge_envs:{env_id}").spec.id == env_id


@pytest.mark.slow
def test_conformance__service_migration_real_backend_smoke():
    kwargs = dict(backend="real", max_rounds=4, num_devices=3)
    gym_check_env(gym.make("ServiceMigration-v0", **kwargs).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make("ServiceMigration-v0", **kwargs), warn=False)
    first = rollout(gym.make("ServiceMigration-v0", **kwargs), seed=7, steps=4)
    assert same(first, rollout(gym.make("ServiceMigration-v0", **kwargs), seed=7, steps=4))


# ---------------------------------------------------------------- vector entry points


def make_vec(env_id: str, num_envs: int = NUM_ENVS):
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_conformance__vector_env_spaces_match_the_single_env(env_id):
    venv, env = make_vec(env_id), gym.make(env_id)
    assert venv.num_envs == NUM_ENVS
    assert venv.single_observation_space == env.observation_space
    assert venv.single_action_space == env.action_space
    observations, infos = venv.reset(seed=0)
    assert _in_space(venv.observation_space, observations) and isinstance(infos, dict)


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_conformance__vector_env_same_seed_and_actions_give_the_same_trajectory(env_id):
    first = rollout(make_vec(env_id), seed=7, steps=STEPS)
    assert same(first, rollout(make_vec(env_id), seed=7, steps=STEPS))
    assert not same(first, rollout(make_vec(env_id), seed=8, steps=STEPS))


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_conformance__vector_env_row_i_is_the_single_env_seeded_seed_plus_i(env_id):
    venv, singles = make_vec(env_id), [gym.make(env_id) for _ in range(NUM_ENVS)]
    observations, _ = venv.reset(seed=20)
    single = [env.reset(seed=20 + i)[0] for i, env in enumerate(singles)]
    assert all(same(observations[i], single[i]) for i in range(NUM_ENVS))
    venv.action_space.seed(0)
    for _ in range(STEPS):  # within the first episode of every row (rows reset on their own after it)
        actions = venv.action_space.sample()
        batch = venv.step(actions)
        steps = [env.step(actions[i]) for i, env in enumerate(singles)]
        for i, (observation, reward, terminated, truncated, _) in enumerate(steps):
            assert same(
                [batch[0][i], batch[1][i], batch[2][i], batch[3][i]],
                [observation, np.float64(reward), terminated, truncated],
            ), i
        if any(step[2] or step[3] for step in steps):
            break


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_conformance__vector_env_observations_lie_in_their_space(env_id):
    venv = make_vec(env_id)
    observations, _ = venv.reset(seed=5)
    venv.action_space.seed(5)
    for _ in range(STEPS):
        assert _in_space(venv.observation_space, observations)
        observations, rewards, terminated, truncated, _ = venv.step(venv.action_space.sample())
        assert rewards.shape == terminated.shape == truncated.shape == (NUM_ENVS,)
        assert np.all(np.isfinite(rewards))
    assert _in_space(venv.observation_space, observations)


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_conformance__vector_env_pickles_mid_episode_and_the_copy_continues_identically(env_id):
    assert _pickled_copy_continues_identically(make_vec(env_id))


@pytest.mark.parametrize(
    "env_id, kind", _cases({env_id: gym.spec(env_id).make().action_space for env_id in VECTOR_IDS})
)
def test_conformance__vector_env_bad_action_in_one_row_is_a_value_error(env_id, kind):
    venv = make_vec(env_id)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    actions = venv.action_space.sample()
    bad = bad_actions(venv.single_action_space)[kind]
    if bad.shape == venv.single_action_space.shape:
        actions = actions.astype(bad.dtype) if bad.dtype.kind == "f" else actions
        actions[1] = bad
    else:  # a batch whose rows have the wrong shape
        actions = np.stack([bad] * NUM_ENVS)
    with pytest.raises(ValueError, match="action"):
        venv.step(actions)


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_conformance__vector_env_wrong_number_of_rows_is_a_value_error(env_id):
    venv = make_vec(env_id)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    with pytest.raises(ValueError, match="action"):
        venv.step(venv.action_space.sample()[:-1])


# ---------------------------------------------------------------- PettingZoo modules


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_module_exposes_env_parallel_env_and_raw_env(name):
    module = pz_module(name)
    assert callable(module.env) and callable(module.parallel_env) and isinstance(module.raw_env, type)
    env = module.parallel_env()
    assert env.metadata["name"] == name
    assert env.observation_space(env.possible_agents[0]) is env.observation_space(env.possible_agents[0])


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_parallel_api_test_passes(name):
    with checker_warnings_are_errors():
        parallel_api_test(pz_module(name).parallel_env(), num_cycles=STEPS)


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_aec_api_test_passes(name):
    with checker_warnings_are_errors():
        api_test(pz_module(name).env(), num_cycles=STEPS)


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_parallel_seed_test_passes(name):
    with checker_warnings_are_errors():
        parallel_seed_test(pz_module(name).parallel_env, num_cycles=STEPS)


@pytest.mark.parametrize("name, kwargs", _other_configs(PZ_MODULES))
def test_conformance__pettingzoo_checkers_pass_on_other_configs(name, kwargs):
    module = pz_module(name)
    check_pettingzoo(lambda: module.parallel_env(**kwargs), lambda: module.env(**kwargs))


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_same_seed_and_actions_give_the_same_trajectory(name):
    module = pz_module(name)
    first = parallel_rollout(module.parallel_env(), seed=7, steps=STEPS)
    assert same(first, parallel_rollout(module.parallel_env(), seed=7, steps=STEPS))
    assert not same(first, parallel_rollout(module.parallel_env(), seed=8, steps=STEPS))


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_env_pickles_mid_episode_and_the_copy_continues_identically(name):
    env = pz_module(name).parallel_env()
    env.reset(seed=3)
    for index, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(index)
    env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(3):
        if not env.agents:
            break
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        assert same(env.step(actions)[:4], clone.step(actions)[:4])


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_observations_lie_in_their_spaces_over_random_episodes(name):
    env = pz_module(name).parallel_env()
    for episode in range(2):
        observations, _ = env.reset(seed=100 + episode)
        for index, agent in enumerate(env.possible_agents):
            env.action_space(agent).seed(episode * 100 + index)
        for _ in range(STEPS):
            assert all(_in_space(env.observation_space(a), o) for a, o in observations.items())
            if not env.agents:
                break
            observations, rewards, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
            assert all(np.isfinite(r) for r in rewards.values())


@pytest.mark.parametrize("name", PZ_MODULES)
def test_conformance__pettingzoo_global_state_is_every_agents_observation_in_state_space(name):
    module = pz_module(name)
    with checker_warnings_are_errors():
        state_test(module.env(), module.parallel_env(), num_cycles=2)
    env = module.parallel_env()
    observations, _ = env.reset(seed=5)
    for _ in range(3):  # the centralised critic's input (agents.mappo): the observations, concatenated
        state = env.state()
        assert env.state_space.contains(state)
        assert np.array_equal(state, np.concatenate([observations[a] for a in env.possible_agents]))
        if not env.agents:
            break
        observations, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})


@pytest.mark.parametrize(
    "name, kind",
    _cases(
        {
            name: pz_module(name).parallel_env().action_space(pz_module(name).parallel_env().possible_agents[0])
            for name in PZ_MODULES
        }
    ),
)
def test_conformance__pettingzoo_bad_action_of_one_agent_is_a_value_error(name, kind):
    env = pz_module(name).parallel_env()
    env.reset(seed=0)
    actions = {agent: env.action_space(agent).sample() for agent in env.agents}
    first = env.agents[0]
    actions[first] = bad_actions(env.action_space(first))[kind]
    with pytest.raises(ValueError, match="action"):
        env.step(actions)


# ---------------------------------------------------------------- the checks fail broken envs


class _InfRewardEnv(gym.Env):
    """A valid Gymnasium env but for its reward, which is +inf at every step."""

    observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.full(2, 0.5, np.float32), {}

    def step(self, action):
        return np.full(2, 0.5, np.float32), float("inf"), False, False, {}


class _SilentAgentEnv(ParallelEnv):
    """A valid PettingZoo parallel env but that live agent "b" never gets a reward."""

    metadata = {"name": "silent_agent_v0"}
    possible_agents = ["a", "b"]
    _observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
    _action_space = spaces.Discrete(2)

    def __init__(self):
        self.agents = []

    def observation_space(self, agent):
        return self._observation_space

    def action_space(self, agent):
        return self._action_space

    def _observations(self):
        return {agent: np.full(1, 0.5, np.float32) for agent in self.possible_agents}

    def reset(self, seed=None, options=None):
        self.agents, self._steps = list(self.possible_agents), 0
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions):
        self._steps += 1
        done = self._steps >= 3
        flags = {agent: done for agent in self.possible_agents}
        infos = {agent: {} for agent in self.possible_agents}
        self.agents = [] if done else self.agents
        return self._observations(), {"a": 1.0}, dict.fromkeys(flags, False), flags, infos


def test_conformance__gymnasium_checker_fails_an_env_whose_reward_is_inf():
    with pytest.raises(UserWarning, match="The reward is an inf value"), checker_warnings_are_errors():
        gym_check_env(_InfRewardEnv())


def test_conformance__sb3_checker_fails_an_env_whose_reward_is_inf():
    with pytest.raises(UserWarning, match="inf"), checker_warnings_are_errors():
        sb3_check_env(_InfRewardEnv(), warn=True)
    with pytest.raises(UserWarning, match="inf"):
        check_gymnasium(_InfRewardEnv)


def test_conformance__pettingzoo_checkers_fail_an_env_that_gives_a_live_agent_no_reward():
    with pytest.raises(UserWarning, match="Live agent was not given reward"):
        check_pettingzoo(_SilentAgentEnv, lambda: parallel_to_aec(_SilentAgentEnv()))
