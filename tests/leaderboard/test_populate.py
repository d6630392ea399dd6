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
        for name in agent.steps:
            SETS[agent.env_id].instance(name)  # raises for an unknown instance
