"""The EdgeUpload generalist (agents.generalist_upload, agents.upload_entity): one network for any number of layers
and servers, DAgger from a teacher, its checkpoints, the held-out table and named errors."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import baselines
from agents.checkpoint import load_checkpoint
from agents.evaluate import evaluation_scenarios
from agents.generalist import GeneralistOptions, held_out_of, make_trainer
from agents.generalist_upload import distribution_of
from agents.policy import policy_from_payload
from agents.train import train
from agents.upload_entity import FEATURES, UploadNet, UploadPolicy, candidates
from edge_envs.edge_upload import core
from edge_envs.edge_upload.distribution import HELD_OUT, TRAIN
from edge_envs.edge_upload.generator import ToyGenerator
from edge_envs_cli import main

TINY = {"distribution": {"models": ["alexnet"]}}


class _Quiet:
    """A monitor that records nothing."""

    def episode(self, step, episode): ...
    def advance(self, step): ...
    def losses(self, step, values): ...


def _trainer(teacher="efficiency", seed=0, **options):
    options = GeneralistOptions(teacher=teacher, **{"rounds": 2, "envs": 2, "epochs": 2, "width": 8, **options})
    return make_trainer("EdgeUpload-v0", TINY, options, seed)


def _toy_env():
    return gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator())


def test_candidates__toy_features_by_hand():
    """ToyGenerator: 1 s locally; layer 2 up: 0.925 s, layers 2-3 up: 0.81 s; 10 MB to send at 1 MB/s."""
    env = _toy_env()
    env.reset(seed=0)
    actions, f = candidates(env.unwrapped.state)
    assert actions.tolist() == list(range(10)) and f.shape == (10, FEATURES) and np.isfinite(f).all()
    one, two = actions.tolist().index(core.run_index(4, 2, 3)), actions.tolist().index(core.run_index(4, 2, 4))
    np.testing.assert_allclose(f[one, [0, 1, 4, 5]], [0.075, 0.2, 0.2 + 0.925 * 0.8, 0.925], rtol=1e-6)
    np.testing.assert_allclose(f[two, [0, 1, 4, 5]], [0.19, 0.6, 0.6 + 0.81 * 0.4, 0.81], rtol=1e-6)
    np.testing.assert_allclose(f[one, [7, 8, 9, 10, 11]], [0.25, 0.5, 0.75, 0, 0])  # length, start, stop, left, right
    np.testing.assert_allclose(f[two, [10, 11]], [0, 1])  # it ends at the last layer
    best = int(np.argmax(f[:, 2]))
    assert f[best, 2] == 1.0 and f[best, 3] == 1.0 and f[:, 3].sum() >= 1
    assert f[one, 2] / f[two, 2] == pytest.approx((0.075 / 2) / (0.19 / 6))  # gain per second, relative


def test_upload_net__parameters_do_not_depend_on_layers_and_it_plays_legal_actions():
    torch.manual_seed(0)
    net = UploadNet(8)
    sizes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    for kwargs in ({}, {"model": "nin"}, {"model": "resnet32"}, {"num_edge_servers": 2}):
        env = gym.make("EdgeUpload-v0", illegal_action="raise", **kwargs)
        policy = UploadPolicy(net, env)
        obs, info = env.reset(seed=0)
        done = False
        while not done:  # "raise": a masked action would fail
            obs, _, done, _, info = env.step(policy.act(obs, info))
    assert {name: tuple(p.shape) for name, p in net.named_parameters()} == sizes


def test_upload_policy__needs_its_env():
    with pytest.raises(ValueError, match=r"reads its env's state: use policy.on\(env\)"):
        UploadPolicy(UploadNet(4)).act(np.zeros(70))


@pytest.mark.slow
def test_generalist__learns_its_teacher_on_models_it_never_saw():
    """Trained on AlexNet (32x32, 9 layers) only, the network repeats efficiency's choices on NiN (12 layers),
    AlexNet at 224x224 (11) and VGG16 (19) far more often than an untrained one (decisions with a choice only)."""
    trainer = _trainer(epochs=30, envs=4, rounds=2, width=16, lr=3e-3, batch_size=32)
    untrained = policy_from_payload(trainer.payload())
    trainer.train(120, _Quiet())
    policy = policy_from_payload(trainer.payload())
    agree = {"untrained": 0, "trained": 0}
    decisions = 0
    for model in ("nin", "alexnet_224", "vgg16"):
        for seed in range(3):
            env = gym.make("EdgeUpload-v0", model=model)
            teacher = baselines.make_policy("efficiency", env)
            obs, info = env.reset(seed=seed)
            done = False
            while not done:
                label = teacher.act(obs, info)
                if info["action_mask"].sum() > 1:
                    agree["untrained"] += untrained.on(env).act(obs, info) == label
                    agree["trained"] += policy.on(env).act(obs, info) == label
                    decisions += 1
                obs, _, done, _, info = env.step(label)
    assert agree["trained"] >= 0.8 * decisions and agree["trained"] > agree["untrained"] + 0.3 * decisions, agree


def test_generalist__same_seed_same_weights():
    first, second = _trainer(seed=3), _trainer(seed=3)
    first.train(16, _Quiet())
    second.train(16, _Quiet())
    for key, value in first.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[key], value, rtol=0, atol=0)


def test_generalist__resume_continues_with_the_next_round():
    trainer = _trainer()
    saved = []

    def checkpoint(payload):  # killed right after the first round's checkpoint
        saved.append(payload)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.train(16, _Quiet(), checkpoint)
    assert (saved[0]["steps"], saved[0]["updates"]) == (8, 1)
    resumed = _trainer()
    resumed.restore(saved[0])
    resumed.train(16, _Quiet())
    assert (resumed.steps, resumed.updates) == (16, 2)
    restored = policy_from_payload(resumed.payload())
    for key, value in resumed.model.state_dict().items():
        torch.testing.assert_close(restored.model.state_dict()[key], value, rtol=0, atol=0)


def test_generalist__takes_recursive_efficiency_as_teacher_by_default():
    trainer = make_trainer("EdgeUpload-v0", TINY, GeneralistOptions(width=4), 0)
    assert trainer.options.teacher == "recursive-efficiency"
    assert policy_from_payload(trainer.payload()).model.width == 4


def test_distribution_of__train_by_default_and_held_out_scenarios_listed():
    assert distribution_of({}) == TRAIN
    assert distribution_of({"edge_clock_ghz": [4.2, 8.0]}).base == {"edge_clock_ghz": [4.2, 8.0]}
    with pytest.raises(ValueError, match=r'"distribution" must be "train" or a JSON object of fields, got 3'):
        distribution_of({"distribution": 3})
    distribution, held_out = held_out_of("EdgeUpload-v0")
    assert held_out is HELD_OUT
    scenarios = evaluation_scenarios(distribution({}), 2, held_out=held_out)
    assert [split for split, _ in scenarios.values()] == ["train", "train", "held-out", "held-out", "held-out"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--teacher", "sm3fl"], "--teacher 'sm3fl' is not a baseline of EdgeUpload-v0"),
        (["--candidates", "4"], "--candidates must be 1 on EdgeUpload-v0"),
        (
            ["--env-kwargs", '{"distribution": {"models": ["lenet"]}}'],
            "InstanceDistribution.models must be a non-empty list of",
        ),
        (["--env-kwargs", '{"distribution": {"layers": [3, 9]}}'], "distribution: unknown field(s) ['layers']"),
    ],
)
def test_train_cli__upload_generalist_bad_input_is_one_named_line(tmp_path, capsys, extra, message):
    argv = ["train", "--algo", "generalist", "--env", "EdgeUpload-v0", "--steps", "8", "--logdir", str(tmp_path)]
    assert main([*argv, "--no-progress", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


@pytest.mark.slow
def test_evaluate_cli__upload_generalist_reports_training_and_held_out_scenarios(tmp_path, capsys):
    options = GeneralistOptions(rounds=1, envs=2, width=8, epochs=2, teacher="efficiency")
    result = train("EdgeUpload-v0", "generalist", 8, 0, tmp_path, TINY, options, progress=False)
    payload = load_checkpoint(result.checkpoint)
    assert (payload["obs_dim"], payload["nvec"], json.loads(payload["env_kwargs"])) == (0, [], TINY)
    argv = ["evaluate", "--checkpoint", str(result.checkpoint), "--env", "EdgeUpload-v0", "--episodes", "1"]
    assert main([*argv, "--baselines", "efficiency", "--no-progress"]) == 0
    table = capsys.readouterr().out
    for row in ("| train-0 | train |", "| default | held-out |", "| nin | held-out |", "| lossy | held-out |"):
        assert row in table
    assert "generalist gap to" not in table  # exact-order not among the baselines asked for
