"""Every algo of ``edge-envs train`` on every kind of action space it takes (issue 24, item 4): a few
hundred steps on a Discrete, a MultiDiscrete and, for ppo and a2c, a Box toy env (tests/agents/bandit.py,
whose envs raise on an action outside their space, so a shape-(1,) array where an int belongs fails),
then the trained policy plays the held-out episodes and the checkpoint evaluates. maskable-ppo needs an
action mask, so it trains on the masked bandits. rllib-ppo trains the suite's own envs only (it registers
them with RLlib): tests/agents/test_rllib.py runs it on every env, Discrete and MultiDiscrete ones included.
ippo and mappo take PettingZoo envs only (tests/agents/test_mappo.py), the generalist EdgePartition-v0,
ServiceMigration-v0 and EdgeUpload-v0 only (tests/agents/test_generalist.py, test_generalist_migration.py,
test_generalist_upload.py).
"""

import pytest
import torch

from agents.checkpoint import load_checkpoint
from agents.generalist import GENERALIST
from agents.policy import MARL_ALGOS
from agents.priced import PRICED
from agents.train import ALGOS, EXTERNAL_ALGOS, latest_run
from edge_envs_cli import main
from tests.agents.bandit import BOX_ENV_ID, DISCRETE_ENV_ID, ENV_ID, MASKED_DISCRETE_ENV_ID, MASKED_ENV_ID

TINY = {
    "mtl-a3c": ["--workers", "1", "--hidden", "8", "--rollout-steps", "8"],
    "a3c": ["--workers", "1", "--hidden", "8", "--rollout-steps", "8"],
    "maskable-ppo": ["--n-steps", "64", "--batch-size", "32", "--n-epochs", "1", "--net-arch", "8"],
}
ENVS = {  # algo -> {space: env id}
    **{algo: {"Discrete": DISCRETE_ENV_ID, "MultiDiscrete": ENV_ID} for algo in ("mtl-a3c", "a3c", "dqn")},
    **{algo: {"Discrete": DISCRETE_ENV_ID, "MultiDiscrete": ENV_ID, "Box": BOX_ENV_ID} for algo in ("ppo", "a2c")},
    "maskable-ppo": {"Discrete": MASKED_DISCRETE_ENV_ID, "MultiDiscrete": MASKED_ENV_ID},
}
QUICK = {("mtl-a3c", "Discrete"), ("a3c", "Discrete"), ("dqn", "Discrete")}  # the regression of issue 24.4
CASES = [
    pytest.param(algo, space, env_id, id=f"{algo}-{space}", marks=() if (algo, space) in QUICK else pytest.mark.slow)
    for algo, envs in ENVS.items()
    for space, env_id in envs.items()
]
STEPS = 256


def test_train_spaces__cover_every_single_agent_algo_but_rllib():
    # ippo and mappo train the PettingZoo envs only (tests/agents/test_mappo.py), the generalist EdgePartition-v0's
    # instance distributions (tests/agents/test_generalist.py), priced EdgePartition-v0 (tests/agents/test_priced.py)
    assert set(ENVS) == set(ALGOS) - set(EXTERNAL_ALGOS) - set(MARL_ALGOS) - {GENERALIST, PRICED} and set(
        EXTERNAL_ALGOS
    ) == {"rllib-ppo"}


@pytest.mark.parametrize("algo, space, env_id", CASES)
def test_train_command__every_algo_trains_and_acts_on_its_action_spaces(algo, space, env_id, tmp_path, capsys):
    argv = ["train", "--env", env_id, "--algo", algo, "--steps", str(STEPS), "--seed", "3", "--logdir", str(tmp_path)]
    assert main([*argv, "--eval-episodes", "2", "--no-progress", *TINY.get(algo, [])]) == 0
    assert f"| {algo} | 2 |" in capsys.readouterr().out  # the trained policy played 2 episodes in the env's space
    checkpoint = latest_run(tmp_path, env_id, algo, 3) / "checkpoint.pt"
    payload = load_checkpoint(checkpoint)
    assert payload["algo"] == algo and payload["steps"] >= STEPS and payload["updates"] >= 1
    assert all(bool(torch.isfinite(t).all()) for t in payload["model"].values() if t.is_floating_point())
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--env", env_id, "--episodes", "1", "--no-progress"]) == 0


@pytest.mark.parametrize("algo", ["mtl-a3c", "a3c", "dqn", "maskable-ppo"])
def test_train_command__a_box_action_space_is_refused_by_name_before_a_run_folder(algo, tmp_path, capsys):
    argv = ["train", "--env", BOX_ENV_ID, "--algo", algo, "--steps", "16", "--logdir", str(tmp_path / "runs")]
    assert main([*argv, "--no-progress", *TINY.get(algo, [])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("edge-envs train: error: ") and len(err.splitlines()) == 1
    assert "Box" in err or "action masks" in err, err
    assert not any((tmp_path / "runs").glob("*"))
