"""MaskablePPO training entry (agents.maskable) and the EdgeUpload benchmarks, on tiny budgets."""

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401
from agents.maskable import MaskableOptions, load_maskable, train_maskable
from baselines.edge_upload import REFERENCES
from benchmarks import baselines_edge_upload

TINY = MaskableOptions(n_steps=32, batch_size=16, n_epochs=1)


def test_train_maskable__policy_acts_legally_and_run_folder_is_written(tmp_path):
    policy = train_maskable(
        "EdgeUpload-v0", steps=32, seed=0, env_kwargs={"model": "alexnet"}, logdir=tmp_path, options=TINY
    )
    env = gym.make("EdgeUpload-v0", model="alexnet")
    obs, info = env.reset(seed=5)
    done = False
    while not done:
        action = policy.act(obs, info)
        assert info["action_mask"][action] == 1
        obs, _, done, _, info = env.step(action)
    (run,) = tmp_path.iterdir()
    assert run.name.startswith("EdgeUpload-v0__maskable-ppo__0__") and (run / "model.zip").exists()
    loaded = load_maskable(run / "model.zip")
    obs, info = env.reset(seed=6)
    assert loaded.act(obs, info) == policy.act(obs, info)


def test_train_maskable__bad_steps_is_named():
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        train_maskable(steps=0)


@pytest.mark.slow
def test_baselines_benchmark__writes_table_and_plot(tmp_path):
    out = tmp_path / "table.md"
    baselines_edge_upload.main(["--episodes", "1", "--models", "alexnet", "--out", str(out)])
    text = out.read_text()
    assert "## alexnet, single-user" in text and "## alexnet, edge-cloud" in text
    assert "| exact-order |" in text and "+0.00% |" in text
    assert (tmp_path / "edge_upload_latency_alexnet.png").stat().st_size > 0


def test_run_episode__expected_area_never_beats_the_exact_order():
    env = gym.make("EdgeUpload-v0", model="alexnet", loss_probability=0.3)

    for name in ("ionn", "direct", "random"):
        policy = baselines.make_policy(name, env)
        policy.reset(seed=0)
        for seed in (0, 1):
            reference = -REFERENCES["exact-order"](env, seed)
            result = baselines_edge_upload.run_episode(env, policy, seed)
            assert result["expected_area"] >= reference * (1 - 1e-12)
            assert np.isfinite(result["area"]) and result["end"] > 0


def test_fig5_order__strict_on_alexnet_over_the_fast_link_only():
    def order(mbps):
        env = gym.make("EdgeUpload-v0", local_edge_mbps=mbps)
        policies = {name: baselines.make_policy(name, env) for name in baselines_edge_upload.FIG5}
        run = baselines_edge_upload.run_episode
        runs = {name: [run(env, policy, seed) for seed in range(8)] for name, policy in policies.items()}
        return baselines_edge_upload.fig5_order(runs, single=True)

    assert order(baselines_edge_upload.FAST_LINK_MBPS) == (8, 8)
    assert order(10.0) == (1, 8)  # the paper's 10 MB/s: IONN's plan is direct's on 7 of 8 instances
