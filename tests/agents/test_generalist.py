"""The generalist agent (agents.generalist): DAgger from a teacher over a distribution of EdgePartition
instances, its checkpoints, and the held-out table of ``edge-envs train`` / ``evaluate``."""

import json

import gymnasium as gym
import pytest
import torch

from agents.checkpoint import load_checkpoint
from agents.generalist import GeneralistOptions, GeneralistTrainer, distribution_of
from agents.policy import policy_from_payload
from agents.train import train
from edge_envs.edge_partition.distribution import TRAIN
from edge_envs_cli import main

TINY = {"distribution": {"models": ["vgg16"], "num_blocks": [3, 4], "num_servers": [2, 2]}, "episode_slots": 10}


class _Quiet:
    """A monitor that records nothing."""

    def episode(self, step, episode): ...
    def advance(self, step): ...
    def losses(self, step, values): ...


def _trainer(teacher="greedy", seed=0, **options) -> GeneralistTrainer:
    options = GeneralistOptions(teacher=teacher, **{"rounds": 2, "envs": 2, "epochs": 2, "width": 16, **options})
    return GeneralistTrainer("EdgePartition-v0", TINY, options, seed)


def test_generalist__learns_its_teacher_on_sizes_it_never_saw():
    """best-single-server puts the whole chain on one edge server: trained on M in 3..4 and N = 2, the network
    keeps doing so at M = 6, N = 5 and M = 8, N = 4 (untrained, it keeps every block on the device)."""
    trainer = _trainer("best-single-server", epochs=20, envs=4, batch_size=16)
    untrained = policy_from_payload(trainer.payload())
    trainer.train(80, _Quiet())
    policy = policy_from_payload(trainer.payload())
    for M, N in ((6, 5), (8, 4)):
        env = gym.make("EdgePartition-v0", num_blocks=M, num_servers=N)
        obs, info = env.reset(seed=0)
        assert not untrained.act(obs, info).any()
        for _ in range(3):
            action = policy.act(obs, info)
            assert len(set(action.tolist())) == 1 and action[0] > 0, action
            obs, _, _, _, info = env.step(action)


def test_generalist__same_seed_same_weights():
    first, second = _trainer(seed=3), _trainer(seed=3)
    first.train(40, _Quiet())
    second.train(40, _Quiet())
    for key, value in first.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[key], value, rtol=0, atol=0)


def test_generalist__resume_continues_with_the_next_round(tmp_path):
    trainer = _trainer()
    saved = []

    def checkpoint(payload):  # killed right after the first round's checkpoint
        saved.append(payload)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.train(40, _Quiet(), checkpoint)
    assert (saved[0]["steps"], saved[0]["updates"]) == (20, 1)
    resumed = _trainer()
    resumed.restore(saved[0])
    resumed.train(40, _Quiet())
    assert (resumed.steps, resumed.updates) == (40, 2)


def test_distribution_of__train_by_default_and_extra_keys_in_the_base():
    assert distribution_of({}) == TRAIN
    assert distribution_of({"distribution": "train", "penalty_weight": 2.0}).base == {
        "episode_slots": 50,
        "penalty_weight": 2.0,
    }
    with pytest.raises(ValueError, match=r'"distribution" must be "train" or a JSON object of fields, got 3'):
        distribution_of({"distribution": 3})


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--env", "edge_partition_multi_v0"],
            "--algo generalist trains on EdgePartition-v0, ServiceMigration-v0, EdgeUpload-v0 only",
        ),
        (["--env", "EdgePartition-v0", "--teacher", "oracle"], "--teacher 'oracle' is not a baseline of"),
        (["--env", "EdgePartition-v0", "--rounds", "0"], "GeneralistOptions.rounds (--rounds) must be an integer"),
        (
            ["--env", "EdgePartition-v0", "--env-kwargs", '{"distribution": {"num_servers": [2, 12]}}'],
            "InstanceDistribution.num_servers must be a pair (lo, hi) with 2 <= lo <= hi <= 9",
        ),
    ],
)
def test_train_cli__generalist_bad_input_is_one_named_line(tmp_path, capsys, extra, message):
    argv = ["train", "--algo", "generalist", "--steps", "8", "--logdir", str(tmp_path), "--no-progress", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


@pytest.mark.slow
def test_evaluate_cli__generalist_reports_training_and_held_out_scenarios(tmp_path, capsys):
    result = train(
        "EdgePartition-v0",
        "generalist",
        20,
        0,
        tmp_path,
        TINY,
        GeneralistOptions(rounds=1, envs=2, width=8),
        progress=False,
    )
    payload = load_checkpoint(result.checkpoint)
    assert (payload["obs_dim"], payload["nvec"], json.loads(payload["env_kwargs"])) == (0, [], TINY)
    argv = ["evaluate", "--checkpoint", str(result.checkpoint), "--env", "EdgePartition-v0", "--episodes", "1"]
    assert main([*argv, "--baselines", "greedy", "--no-progress"]) == 0
    table = capsys.readouterr().out
    for scenario in ("| train-0 | train |", "| default | held-out |", "| unseen | held-out |", "| resnet32-m12-n9 |"):
        assert scenario in table
