"""populate: every agent's checkpoints and training command."""

import json
import shlex

from agents.generalist import GENERALIST
from benchmarks.leaderboard.populate import AGENTS, ROOT, Agent
from benchmarks.leaderboard.scenarios import SETS


def test_agent__spec_lists_one_checkpoint_per_instance_relative_to_the_root():
    agent = Agent("EdgePartition-v0", "mtl-a3c", {"default": 10, "unseen": 20})
    assert agent.spec() == (
        "checkpoint:benchmarks/leaderboard/agents/EdgePartition-v0__mtl-a3c__default.pt,"
        "benchmarks/leaderboard/agents/EdgePartition-v0__mtl-a3c__unseen.pt"
    )
    assert agent.checkpoint("unseen").parent == ROOT / "benchmarks" / "leaderboard" / "agents"


def test_agent__command_trains_on_the_instance_config():
    agent = Agent("EdgePartition-v0", "ppo", {"unseen": 50}, {"envs": 8}, seed=3)
    words = shlex.split(agent.command("unseen"))
    assert words[:2] == ["edge-envs", "train"] and words[words.index("--steps") + 1] == "50"
    assert json.loads(words[words.index("--env-kwargs") + 1]) == SETS["EdgePartition-v0"].instance("unseen").kwargs
    assert words[-2:] == ["--envs", "8"] and words[words.index("--seed") + 1] == "3"


def test_agents__train_on_instances_of_their_env_set():
    for agent in AGENTS:
        if agent.algo == GENERALIST:
            continue  # trained on a distribution: test_agents__distributions_hold_no_instance_of_the_set
        names = {instance.name for instance in SETS[agent.env_id].instances}
        assert set(agent.steps) <= names, (agent.env_id, agent.algo)


def test_agents__distributions_hold_no_instance_of_the_set():
    """The leaderboard's instances are held out: no agent's training distribution can draw one (issue 31)."""
    from agents.generalist import held_out_of
    from edge_envs.edge_partition import EdgePartitionConfig
    from edge_envs.edge_upload import EdgeUploadConfig
    from edge_envs.service_migration import ServiceMigrationConfig

    configs = {
        "EdgePartition-v0": EdgePartitionConfig,
        "ServiceMigration-v0": ServiceMigrationConfig,
        "EdgeUpload-v0": EdgeUploadConfig,
    }
    generalists = [agent for agent in AGENTS if agent.algo == GENERALIST]
    assert [agent.env_id for agent in generalists] == ["EdgePartition-v0", "ServiceMigration-v0", "EdgeUpload-v0"]
    for agent in generalists:
        for name in agent.steps:
            distribution = held_out_of(agent.env_id)[0](agent.train_kwargs(name))
            for instance in SETS[agent.env_id].instances:
                cfg = configs[agent.env_id].from_kwargs(None, **instance.kwargs)
                assert not distribution.covers(cfg), instance


def test_prune__removes_project_entries_that_no_longer_exist_and_keeps_submissions(tmp_path):
    from benchmarks.leaderboard.populate import prune

    entries = [
        ("EdgePartition-v0", "baseline", "dp-oracle"),
        ("EdgePartition-v0", "baseline", "greedy"),
        ("EdgePartition-v0", "submission", "mine"),
        ("ServiceMigration-v0", "baseline", "dp-oracle"),
    ]
    for env, kind, name in entries:
        (tmp_path / f"{env}__{name}.json").write_text(json.dumps({"env": env, "kind": kind, "name": name}))
    prune("EdgePartition-v0", tmp_path, {"baseline": ["greedy"], "agent": [], "reference": []})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "EdgePartition-v0__greedy.json",
        "EdgePartition-v0__mine.json",
        "ServiceMigration-v0__dp-oracle.json",
    ]


def test_agent__command_parses_into_the_options_it_trains_with():
    import argparse

    from agents.train import add_arguments, make_options

    agent = Agent("multiserver_fl_v0", "mtl-a3c", {"default": 10}, {"gamma": 1.0, "normalize_advantage": True},
                  env_kwargs={"action_levels": 2})  # fmt: skip
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(shlex.split(agent.command("default"))[2:])
    assert json.loads(args.env_kwargs) == {"num_rounds": 10, "action_levels": 2}
    given = {name: getattr(args, name) for name in agent.options}
    assert make_options(args.algo, args.env, given) == make_options(agent.algo, agent.env_id, agent.options)
    off = Agent("multiserver_fl_v0", "mtl-a3c", {"default": 10}, {"normalize_advantage": False})
    assert parser.parse_args(shlex.split(off.command("default"))[2:]).normalize_advantage is False


def _size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def test_agents__checkpoints_are_committed_small_and_fit_every_instance_of_their_set(monkeypatch):
    from benchmarks.leaderboard import policies
    from benchmarks.leaderboard.populate import RLLIB
    from benchmarks.leaderboard.scenarios import make_env

    monkeypatch.chdir(ROOT)  # specs name checkpoints relative to the root
    for agent in AGENTS:
        for name in agent.steps:
            assert agent.checkpoint(name).exists(), agent.checkpoint(name)
            assert _size(agent.checkpoint(name)) < 1_000_000, agent.checkpoint(name)
        if agent.algo == RLLIB:
            continue  # unpickles with Ray RLlib, which the main suite does not install
        for instance in SETS[agent.env_id].instances:
            env = make_env(SETS[agent.env_id], instance)
            assert callable(policies.load_policy(agent.spec(), env).act), (agent.env_id, agent.algo, instance.name)


def test_agent__rllib_spec_names_module_folders_and_populate_skips_it_without_ray(tmp_path, monkeypatch, capsys):
    from benchmarks.leaderboard import populate

    agent = Agent("EdgeUpload-v0", populate.RLLIB, {"default": 10, "nin": 10})
    assert agent.spec() == (
        "rllib:benchmarks/leaderboard/agents/EdgeUpload-v0__rllib-ppo__default,"
        "benchmarks/leaderboard/agents/EdgeUpload-v0__rllib-ppo__nin"
    )
    monkeypatch.setattr(populate, "_has_ray", lambda: False)
    assert populate.populate("EdgeUpload-v0", tmp_path, 10.0, only_agents=[populate.RLLIB])
    assert "SKIPPED EdgeUpload-v0 rllib-ppo: needs Ray RLlib" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # nothing recorded, nothing pruned


def test_agents__train_with_their_presets_and_no_flags_but_one_worker():
    import argparse

    from agents.presets import preset
    from agents.train import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for agent in AGENTS:
        assert set(agent.options) <= {"workers"}, (agent.env_id, agent.algo)  # the settings are the preset's
        for instance in agent.steps:
            args = parser.parse_args(shlex.split(agent.command(instance))[2:])
            assert preset(args.env, args.algo, args.preset) == preset(agent.env_id, agent.algo, agent.preset)
    warm = Agent("EdgePartition-v0", "mtl-a3c", {"default": 10}, {"workers": 1}, preset="warm-start")
    assert "--preset warm-start --workers 1" in warm.command("default")
