import multiprocessing

import numpy as np
import pytest
import torch

from agents.a3c import A3COptions, A3CTrainer, _Counters, _Job, _run_worker
from agents.envs import make_env
from agents.evaluate import run_episodes, summarize
from agents.policy import A3CPolicy, policy_from_payload
from tests.agents.bandit import ENV_ID


class _Recorder:
    """A monitor that only remembers what it was told."""

    def __init__(self):
        self.episodes, self.logged, self.steps = [], [], 0

    def episode(self, step, episode):
        self.episodes.append((step, episode))

    def losses(self, step, values):
        self.logged.append((step, values))

    def advance(self, step):
        self.steps = max(self.steps, step)


def _trainer(seed=0, **options):
    options = A3COptions(**{"workers": 1, "rollout_steps": 8, "hidden": (16,), **options})
    return A3CTrainer(
        "mtl-a3c" if not options.single_head else "a3c", ENV_ID, {}, options, seed, obs_dim=2, nvec=[3, 3, 3]
    )


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def test_a3c_options__validate_fields_and_keep_the_seed_defaults():
    options = A3COptions()
    assert (options.lr_actor, options.lr_critic, options.gamma) == (0.01, 0.01, 0.95)
    assert options.entropy_coef == 0.01 and not hasattr(options, "beta")  # ERRATA: two betas, two names
    with pytest.raises(ValueError, match=r"A3COptions.gamma must be in \[0, 1\]"):
        A3COptions(gamma=1.5)
    with pytest.raises(ValueError, match="A3COptions.workers must be >= 1"):
        A3COptions(workers=0)
    with pytest.raises(ValueError, match="A3COptions.chain_prior must be a finite number"):
        A3COptions(chain_prior=float("nan"))


def test_worker__one_update_changes_the_shared_parameters_and_statistics():
    trainer = _trainer()
    before = _params(trainer.model)
    counters = _Counters(multiprocessing.get_context("spawn"))
    job = _Job(ENV_ID, {}, trainer.options, 0, total_steps=8)
    messages = []
    _run_worker(0, job, trainer.model, trainer.optimizer, counters, messages.append)
    assert (counters.steps.value, counters.updates.value) == (8, 1)
    after = _params(trainer.model)
    assert all(not torch.equal(before[k], after[k]) for k in before)
    assert all(g.abs().sum() > 0 for g in trainer.optimizer.square_avg)
    updates = [m for m in messages if m[0] == "update"]
    assert len(updates) == 1 and set(updates[0][3]) == {"value_loss", "policy_loss", "entropy", "sharing_penalty"}
    assert [m[0] for m in messages].count("episode") == 1  # the bandit's 8-slot episode


@pytest.mark.slow
def test_a3c__seeded_single_worker_run_is_reproducible():
    runs = []
    for seed in (3, 3, 4):
        trainer = _trainer(seed)
        monitor = _Recorder()
        trainer.train(160, monitor)
        runs.append((_params(trainer.model), [e.episode_return for _, e in monitor.episodes]))
    (p1, r1), (p2, r2), (p3, _) = runs
    assert r1 == r2 and all(torch.equal(p1[k], p2[k]) for k in p1)
    assert any(not torch.equal(p1[k], p3[k]) for k in p1)


@pytest.mark.slow
@pytest.mark.numerics
def test_mtl_a3c__learns_the_optimal_placement_of_a_contextual_bandit():
    trainer = _trainer(0, rollout_steps=32, hidden=(128, 128))  # the defaults
    trainer.train(3000, _Recorder())
    policy = A3CPolicy(trainer.model)
    summary = summarize(run_episodes(policy, make_env(ENV_ID), episodes=4, seed=100))
    assert summary["return"] == 24.0  # 3 blocks x 8 slots, every block on its target (random: 8)


def test_a3c__single_head_acts_over_the_joint_space():
    trainer = _trainer(0, single_head=True)
    assert trainer.model.branch_sizes == (27,) and trainer.codec.size == 27
    monitor = _Recorder()
    trainer.train(64, monitor)
    assert trainer.steps == 64 and len(monitor.episodes) == 8
    action = A3CPolicy(trainer.model, trainer.codec).act(np.array([1.0, 0.0], np.float32), {})
    assert action.shape == (3,) and np.all((action >= 0) & (action < 3))


@pytest.mark.slow
def test_a3c__two_worker_processes_update_the_shared_network():
    trainer = _trainer(0, workers=2)
    before = _params(trainer.model)
    monitor = _Recorder()
    trainer.train(160, monitor)
    assert trainer.steps >= 160 and trainer.updates >= 20
    assert all(not torch.equal(before[k], v) for k, v in _params(trainer.model).items())
    assert monitor.steps == trainer.steps and len(monitor.episodes) >= 18


@pytest.mark.slow
def test_a3c__worker_errors_reach_the_caller():
    options = A3COptions(workers=2, rollout_steps=4, hidden=(8,))
    trainer = A3CTrainer("mtl-a3c", ENV_ID, {"blocks": 2}, options, 0, obs_dim=2, nvec=[3, 3, 3])
    with pytest.raises(RuntimeError, match="worker .* failed"):
        trainer.train(64, _Recorder())


@pytest.mark.slow
def test_mtl_a3c__one_network_serves_every_agent_of_a_pettingzoo_env():
    options = A3COptions(workers=1)
    kwargs = {"stagger": 4}  # device_0's episodes last 8 slots, device_1's 12: device_0 waits 4
    trainer = A3CTrainer("mtl-a3c", "tests.agents.multi_bandit", kwargs, options, 0, obs_dim=2, nvec=[3, 3, 3])
    monitor = _Recorder()
    trainer.train(4000, monitor)  # stream steps of both agents, waiting steps excluded
    lengths = [e.length for _, e in monitor.episodes]
    assert set(lengths) == {8, 12} and abs(lengths.count(8) - lengths.count(12)) <= 1
    assert abs(sum(lengths) - trainer.steps) < 32  # episodes in progress at the end
    env = make_env("tests.agents.multi_bandit", kwargs)
    records = run_episodes(A3CPolicy(trainer.model), env, episodes=2, seed=5)
    assert [r.episode_return for r in records] == [24.0, 36.0] * 2  # every block on its target


@pytest.mark.slow
@pytest.mark.numerics
def test_mtl_a3c__chained_branches_learn_the_contextual_bandit_and_survive_a_checkpoint():
    # the bandit's targets differ block to block, so the chain has to learn more than "follow"
    trainer = _trainer(0, rollout_steps=32, hidden=(128, 128), chain_branches=True, chain_prior=0.0)
    trainer.train(3000, _Recorder())
    policy = A3CPolicy(trainer.model)
    summary = summarize(run_episodes(policy, make_env(ENV_ID), episodes=4, seed=100))
    assert summary["return"] == 24.0
    restored = policy_from_payload(trainer.payload())
    assert restored.model.chain
    for context in ([1.0, 0.0], [0.0, 1.0]):
        obs = np.array(context, np.float32)
        np.testing.assert_array_equal(restored.act(obs), policy.act(obs))
