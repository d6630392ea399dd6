"""``--policy`` specs: what is built from them, and the errors for bad ones."""

import dataclasses

import numpy as np
import pytest

from benchmarks.leaderboard import policies


class _Env:
    pass


class WithEnv:
    def __init__(self, env):
        self.env = env

    def act(self, observation, info):
        return 0


class NoArgs:
    def act(self, observation, info):
        return 1


def test_build__classes_and_factories_get_the_env_when_they_take_it_and_objects_stay():
    env = _Env()
    assert policies.build(WithEnv, env).env is env
    assert policies.build(NoArgs, env).act(None, None) == 1
    instance = NoArgs()
    assert policies.build(instance, env) is instance
    assert policies.build(lambda e: WithEnv(e), env).env is env


def test_build__object_without_act_is_refused():
    with pytest.raises(ValueError, match="has no act"):
        policies.build(lambda: object(), _Env())
    with pytest.raises(ValueError, match="neither a policy"):
        policies.build(3, _Env())


def test_load_policy__file_path_spec_imports_the_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("class P:\n    def act(self, observation, info):\n        return 2\n")
    assert policies.load_policy(f"{path}:P", _Env()).act(None, None) == 2
    with pytest.raises(ValueError, match="has no 'Q'"):
        policies.load_policy(f"{path}:Q", _Env())
    with pytest.raises(FileNotFoundError):
        policies.load_policy(f"{tmp_path}/none.py:P", _Env())


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("baseline:greedy", "baseline"),
        ("checkpoint:a.pt", "agent"),
        ("sb3:ppo:m.zip", "agent"),
        ("my.module:Policy", "submission"),
        ("local-search:checkpoint:a.pt,b.pt", "agent"),
        ("local-search:baseline:greedy", "baseline"),
        ("local-search:my.module:Policy", "submission"),
    ],
)
def test_kind_of__follows_the_spec(spec, kind):
    assert policies.kind_of(spec) == kind


@pytest.mark.parametrize("spec", ["nocolon", ":x", "sb3:model.zip", "local-search:", "local-search:nocolon"])
def test_check_spec__malformed_spec_names_the_forms(spec):
    with pytest.raises(ValueError, match="--policy"):
        policies.check_spec(spec)


@pytest.mark.parametrize("spec", ["rllib:m", "rllib:a,b"])
def test_kind_of__rllib_modules_are_agents_that_unpickle(spec):
    assert policies.kind_of(spec) == "agent" and spec.split(":")[0] in policies.PICKLE_KINDS


def test_local_search_spec__wraps_the_files_and_paths_of_the_spec_it_holds(tmp_path):
    checkpoint = tmp_path / "a.pt"
    checkpoint.write_bytes(b"weights")
    spec = f"local-search:checkpoint:{checkpoint}"
    assert policies.source_files(spec) == [checkpoint]
    assert policies.sha256(spec) == policies.sha256(f"checkpoint:{checkpoint}")
    assert policies.absolute("local-search:checkpoint:a.pt").startswith("local-search:checkpoint:/")
    assert policies.inner("local-search:sb3:ppo:m.zip").split(":")[0] in policies.PICKLE_KINDS


def test_load_policy__local_search_improves_the_inner_policys_placement_each_step():
    from baselines.edge_partition import local
    from edge_envs import edge_partition_multi_v0

    env = edge_partition_multi_v0.parallel_env(episode_slots=3)
    observation, info = env.reset(seed=1)
    refined = policies.load_policy("local-search:baseline:all-local", env)
    plain = policies.load_policy("baseline:all-local", env)
    while env.agents:
        state = env.unwrapped.core_state
        start, action = plain.act(observation, info), refined.act(observation, info)
        order = env.possible_agents
        expected = local.improve(state, np.stack([start[agent] for agent in order])[None]).placement[0]
        np.testing.assert_array_equal(np.stack([action[agent] for agent in order]), expected)
        observation, _, _, _, info = env.step(action)
    assert refined.searches == 3 and refined.moves > 0


def test_load_policy__local_search_refuses_envs_without_placements():
    with pytest.raises(ValueError, match="local search improves EdgePartition-v0 and edge_partition_multi_v0"):
        policies.load_policy("local-search:baseline:random", _edge_upload())


# ---- trained agents: maskable-ppo, levels on Box weights, named errors ----


@pytest.fixture(scope="module")
def maskable_run(tmp_path_factory):
    """A MaskablePPO trained for one short rollout on EdgeUpload-v0's defaults: model.zip and checkpoint.pt."""
    from agents.maskable import MaskableOptions, train_maskable

    run_dir = tmp_path_factory.mktemp("maskable")
    train_maskable("EdgeUpload-v0", 64, 0, {}, options=MaskableOptions(n_steps=64), run_dir=run_dir)
    return run_dir


def _edge_upload(**kwargs):
    import gymnasium as gym

    import edge_envs  # noqa: F401  (registers the ids)

    return gym.make("EdgeUpload-v0", **kwargs)


def test_load_policy__maskable_checkpoint_acts_only_among_the_masked_actions(maskable_run):
    env = _edge_upload()
    policy = policies.load_policy(f"checkpoint:{maskable_run / 'checkpoint.pt'}", env)
    observation, info = env.reset(seed=0)
    mask = np.asarray(info["action_mask"], dtype=bool)
    for legal in np.flatnonzero(mask)[:5]:  # whichever single action the mask leaves, the policy takes it
        only = np.zeros_like(mask)
        only[legal] = True
        assert policy.act(observation, {"action_mask": only}) == legal
    while True:  # and a whole episode with the env's own masks plays without an illegal partition
        action = policy.act(observation, info)
        assert info["action_mask"][action]
        observation, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break


def test_load_policy__maskable_zip_and_its_checkpoint_choose_the_same_actions(maskable_run):
    env = _edge_upload()
    from_zip = policies.load_policy(f"sb3:maskable-ppo:{maskable_run / 'model.zip'}", env)
    from_checkpoint = policies.load_policy(f"checkpoint:{maskable_run / 'checkpoint.pt'}", env)
    for seed in range(3):
        observation, info = env.reset(seed=seed)
        assert from_zip.act(observation, info) == from_checkpoint.act(observation, info)


def test_load_policy__checkpoint_of_another_size_is_refused_with_both_sizes(maskable_run):
    with pytest.raises(
        ValueError, match=r"no checkpoint fits observations of length 76 and actions \[78\].*70 / \[66\]"
    ):
        policies.load_policy(f"checkpoint:{maskable_run / 'checkpoint.pt'}", _edge_upload(model="nin"))


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("sb3:maskable:m.zip", ValueError, "unknown SB3 algorithm 'maskable'.*maskable-ppo"),
        ("sb3:maskable-ppo:/nonexistent/m.zip", FileNotFoundError, "no SB3 model file"),
        ("checkpoint:/nonexistent/a.pt", FileNotFoundError, "no checkpoint at"),
    ],
)
def test_load_policy__unknown_algorithm_or_missing_file_is_named(spec, error, match):
    with pytest.raises(error, match=match):
        policies.load_policy(spec, _edge_upload())


def test_load_policy__rllib_module_without_ray_or_folder_is_a_named_error(tmp_path):
    try:
        import ray  # noqa: F401
    except ImportError:
        expected = "rllib:PATH needs Ray RLlib"
    else:
        expected = "not an RLlib module folder"
    with pytest.raises((ValueError, FileNotFoundError), match=expected):
        policies.load_policy(f"rllib:{tmp_path}", _edge_upload())


class _Levels:
    def __init__(self, action):
        self.action, self.seeds = action, []

    def reset(self, seed=None):
        self.seeds.append(seed)

    def act(self, observation, info=None):
        return self.action


def test_level_weights__level_l_of_L_is_the_weight_l_over_L_minus_1():
    policy = policies.LevelWeights(_Levels(np.array([0, 1, 2])), 3)
    weights = policy.act(None)
    assert weights.dtype == np.float32 and weights.tolist() == [0.0, 0.5, 1.0]
    per_agent = policies.LevelWeights(_Levels({"a": np.array([1, 0])}), 2).act(None)
    assert per_agent["a"].tolist() == [1.0, 0.0]
    policy.reset(seed=7)
    assert policy.policy.seeds == [7]


def test_load_policy__a3c_trained_on_levels_acts_on_box_weights(tmp_path):
    from agents.a3c import build_network
    from agents.checkpoint import save_checkpoint
    from agents.train import make_options
    from edge_envs import multiserver_fl_v0

    options = make_options("mtl-a3c", "multiserver_fl_v0", {"workers": 1})
    model, _ = build_network(24, [2] * 5, options)
    payload = {
        "algo": "mtl-a3c", "env_id": "multiserver_fl_v0", "env_kwargs": '{"action_levels": 2}', "seed": 0,
        "steps": 0, "updates": 0, "options": dataclasses.asdict(options), "obs_dim": 24, "nvec": [2] * 5,
        "model": model.state_dict(), "optimizer": {},
    }  # fmt: skip
    path = save_checkpoint(tmp_path / "levels.pt", payload)
    env = multiserver_fl_v0.parallel_env(num_rounds=2)  # Box(0, 1, (5,)) weights
    policy = policies.load_policy(f"checkpoint:{path}", env)
    observations = {
        agent: np.random.default_rng(i).random(24, dtype=np.float32) for i, agent in enumerate(env.possible_agents)
    }
    actions = policy.act(observations, {})
    levels = policy.policy.act(observations, {})
    for agent in env.possible_agents:
        assert env.action_space(agent).contains(actions[agent])
        assert actions[agent].tolist() == levels[agent].astype(float).tolist()  # L = 2: level l is weight l
    payload["env_kwargs"] = "{}"  # trained on nothing but levels: no Box weights
    bare = save_checkpoint(tmp_path / "bare.pt", payload)
    with pytest.raises(ValueError, match=r"Box\(0, 1\) weights of length 5"):
        policies.load_policy(f"checkpoint:{bare}", env)


def test_load_policy__a_multi_agent_checkpoint_acts_only_on_instances_with_its_number_of_agents(monkeypatch):
    # the mtl-a3c checkpoint trained with 4 mixed devices once played the 6-VGG16 'crowded' instance (sizes
    # fit) and scored below random there; an instance now gets a checkpoint trained with as many agents
    from benchmarks.leaderboard.populate import AGENT_DIR, ROOT
    from benchmarks.leaderboard.scenarios import make_env, scenario_set

    monkeypatch.chdir(ROOT)
    scenarios = scenario_set("edge_partition_multi_v0")
    four = AGENT_DIR / "edge_partition_multi_v0__mtl-a3c__default.pt"
    assert callable(policies.load_policy(f"checkpoint:{four}", make_env(scenarios, scenarios.instance("default"))).act)
    crowded = make_env(scenarios, scenarios.instance("crowded"))
    with pytest.raises(ValueError, match=r"for 6 agents; the checkpoints have .*46 / \[5, 5, 5, 5, 5, 5\] / 4 agents"):
        policies.load_policy(f"checkpoint:{four}", crowded)


def test_load_policy__priced_checkpoints_fit_their_own_config_first_then_any_size(tmp_path):
    import gymnasium as gym

    from agents.priced import PricedOptions
    from agents.train import train

    tiny = {"num_blocks": 3, "num_servers": 2, "episode_slots": 3}
    paths = []
    for rate in (60.0, 90.0):
        options = PricedOptions(candidates=2, pairs=1, episodes=1)
        kwargs = {**tiny, "task_rate": rate}
        run = train(
            "EdgePartition-v0",
            "priced",
            3,
            logdir=tmp_path / str(rate),
            env_kwargs=kwargs,
            options=options,
            progress=False,
        )
        paths.append(str(run.checkpoint))
    spec = "checkpoint:" + ",".join(paths)
    own = policies.load_policy(spec, gym.make("EdgePartition-v0", **tiny, task_rate=90.0))
    second = policies.load_policy(f"checkpoint:{paths[1]}", own.env)
    assert np.array_equal(own.candidates, second.candidates) and own.candidates.shape[1] == 3
    other = policies.load_policy(spec, gym.make("EdgePartition-v0", num_blocks=4, num_servers=3, episode_slots=3))
    first = policies.load_policy(f"checkpoint:{paths[0]}", other.env)  # no config matches: the first checkpoint
    assert np.array_equal(other.candidates, first.candidates) and np.array_equal(other.weights, first.weights)
    other.env.reset(seed=0)
    assert other.act(None).shape == (4,)  # another size: exact-slot's placement under the knobs
