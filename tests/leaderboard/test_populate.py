"""populate: every agent's checkpoints and training command."""

import json
import shlex

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
        names = {instance.name for instance in SETS[agent.env_id].instances}
        assert set(agent.steps) <= names, (agent.env_id, agent.algo)


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
