"""RL Baselines3 Zoo trains PPO on every Gymnasium id of the suite from its command line, unmodified
(issue 27); small rollouts (``-params``, RL Zoo's own option) keep it to seconds."""

import subprocess
import sys

import pytest

import edge_envs

pytest.importorskip("rl_zoo3")
pytestmark = pytest.mark.clients


@pytest.mark.parametrize("env_id", edge_envs.ENV_IDS)
def test_rl_zoo__ppo_trains_and_saves_a_model(env_id, tmp_path):
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", env_id, "--gym-packages", "edge_envs",
               "-n", "256", "--seed", "0", "--log-folder", str(tmp_path), "--verbose", "0",
               "-params", "n_steps:128", "batch_size:64", "n_epochs:1"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(tmp_path.glob(f"ppo/{env_id}_1/{env_id}.zip"))
