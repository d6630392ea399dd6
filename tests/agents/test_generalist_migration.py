"""The ServiceMigration generalist (agents.generalist_migration, agents.migration_entity): one network for any
number of edges and modalities, DAgger from a teacher, its checkpoints and named errors."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.evaluate import evaluation_scenarios
from agents.generalist import GeneralistOptions, held_out_of, make_trainer
from agents.generalist_migration import distribution_of
from agents.migration_entity import MigrationNet, MigrationPolicy, distinct_edges, pairs_of
from agents.policy import policy_from_payload
from edge_envs.service_migration.distribution import HELD_OUT, TRAIN
from edge_envs_cli import main

TINY = {"distribution": {"num_edges": [3, 4], "num_modalities": [2, 2], "mobility": ["static"]}, "max_rounds": 10}


class _Quiet:
    """A monitor that records nothing."""

    def episode(self, step, episode): ...
    def advance(self, step): ...
    def losses(self, step, values): ...


def _trainer(teacher="mfl-nsm", seed=0, **options):
    options = GeneralistOptions(teacher=teacher, **{"rounds": 2, "envs": 2, "epochs": 2, "width": 8, **options})
    return make_trainer("ServiceMigration-v0", TINY, options, seed)


def test_migration_net__parameters_do_not_depend_on_edges_or_modalities():
    net = MigrationNet(8)
    sizes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    for kwargs in ({}, {"edge_spacing_m": 2000.0}, {"modalities": TRAIN.sample(np.random.default_rng(0)).modalities}):
        env = gym.make("ServiceMigration-v0", **kwargs)
        obs, info = env.reset(seed=0)
        action = MigrationPolicy(net, env).act(obs, info)
        assert env.action_space.contains(action), (kwargs, action)
        assert len(set(action[:-1].tolist())) == len(action) - 1  # distinct edges
    assert {name: tuple(p.shape) for name, p in net.named_parameters()} == sizes


def test_migration_net__numpy_acting_matches_torch_scores():
    env = gym.make("ServiceMigration-v0", edge_spacing_m=2000.0)
    obs, _ = env.reset(seed=1)
    cfg = env.unwrapped.cfg
    x = pairs_of(obs[None], cfg.num_edges, cfg.num_modalities, cfg.rho_grid, True)
    torch.manual_seed(0)
    net = MigrationNet(8)
    action = net.act(x)
    edges, options = net(x, torch.as_tensor(action[:, :-1]))
    assert edges.shape == (1, 3, 16) and options.shape == (1, 3 + 20)
    assert int(options.argmax(-1)) == action[0, -1]
    assert (distinct_edges(edges.detach().numpy()) == action[:, :-1]).all()


def test_distinct_edges__most_probable_pair_first_then_the_free_edges():
    # modality 0 prefers edge 1 (p ~ 0.98); modality 1 too, but less surely (p ~ 0.73): it gets its second choice
    logits = np.log(np.array([[[0.01, 0.98, 0.01], [0.25, 0.73, 0.02]]]))
    assert distinct_edges(logits).tolist() == [[1, 0]]


def test_pairs_of__wrong_observation_length_is_named():
    with pytest.raises(ValueError, match=r"does not fit N=8 edges and K=3 modalities .* length 2 N \+ 2 K N \+ 2 = 66"):
        pairs_of(np.zeros((1, 42)), 8, 3, [0.1, 1.0], True)


def test_migration_policy__needs_its_env_and_the_pair_block():
    with pytest.raises(ValueError, match=r"needs its env .*: use policy.on\(env\)"):
        MigrationPolicy(MigrationNet(4)).act(np.zeros(66))
    with pytest.raises(ValueError, match="observe_pair_costs=True and continuous_rho=False"):
        MigrationPolicy(MigrationNet(4), gym.make("ServiceMigration-v0", observe_pair_costs=False))


def test_generalist__learns_its_teacher_on_sizes_it_never_saw():
    """mfl-nsm keeps every sub-model on its initial edge: trained on 3-4 edges and 2 modalities, the network keeps
    doing so with 8 edges and 3 modalities and 16 edges (and a random network does not)."""
    trainer = _trainer(epochs=25, envs=4, batch_size=64, lr=3e-3)
    untrained = policy_from_payload(trainer.payload())
    trainer.train(80, _Quiet())
    policy = policy_from_payload(trainer.payload())
    stays = {"untrained": 0, "trained": 0}
    for kwargs in ({}, {"edge_spacing_m": 2000.0}):
        env = gym.make("ServiceMigration-v0", **kwargs)
        for name, player in (("untrained", untrained.on(env)), ("trained", policy.on(env))):
            obs, info = env.reset(seed=5)
            for _ in range(3):
                action = player.act(obs, info)
                stays[name] += int((action[:-1] == info["edges"]).all())
                obs, _, _, _, info = env.step(action)
    assert stays["trained"] == 6 and stays["untrained"] < 6, stays


def test_generalist__same_seed_same_weights():
    first, second = _trainer(seed=3), _trainer(seed=3)
    first.train(20, _Quiet())
    second.train(20, _Quiet())
    for key, value in first.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[key], value, rtol=0, atol=0)


def test_generalist__takes_sm3fl_as_teacher_by_default():
    trainer = make_trainer("ServiceMigration-v0", TINY, GeneralistOptions(width=4), 0)
    assert trainer.options.teacher == "sm3fl"
    assert policy_from_payload(trainer.payload()).model.width == 4


def test_distribution_of__train_by_default_and_held_out_scenarios_listed():
    assert distribution_of({}) == TRAIN
    assert distribution_of({"max_rounds": 300}).base == {"backend": "bound", "max_rounds": 300}
    distribution, held_out = held_out_of("ServiceMigration-v0")
    assert held_out is HELD_OUT
    scenarios = evaluation_scenarios(distribution({}), 2, held_out=held_out)
    assert [split for split, _ in scenarios.values()] == ["train", "train", "held-out", "held-out", "held-out"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--teacher", "exact-slot"], "--teacher 'exact-slot' is not a baseline of ServiceMigration-v0"),
        (["--candidates", "4"], "--candidates must be 1 on ServiceMigration-v0"),
        (
            ["--env-kwargs", '{"distribution": {"num_modalities": [2, 20]}}'],
            "InstanceDistribution.num_modalities must be a pair (lo, hi) with 1 <= lo <= hi <= 16",
        ),
    ],
)
def test_train_cli__migration_generalist_bad_input_is_one_named_line(tmp_path, capsys, extra, message):
    argv = ["train", "--algo", "generalist", "--env", "ServiceMigration-v0", "--steps", "8", "--logdir", str(tmp_path)]
    assert main([*argv, "--no-progress", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
