"""Instance distributions of EdgeUpload (edge_envs.edge_upload.distribution): draws, determinism, named errors, and
held-out instances that no training distribution covers."""

import gymnasium as gym
import numpy as np
import pytest

from benchmarks.leaderboard.scenarios import SETS
from edge_envs.edge_upload import EdgeUploadConfig
from edge_envs.edge_upload.distribution import HELD_OUT, TRAIN, InstanceDistribution

SMALL = InstanceDistribution(models=("alexnet", "nin"), local_edge_mbps=(5.0, 20.0), loss_probability=(0.1, 0.2))


def test_instance_distribution__draws_lie_in_its_ranges_and_make_envs():
    rng = np.random.default_rng(0)
    drawn = [SMALL.sample(rng) for _ in range(200)]
    assert {c.model for c in drawn} == {"alexnet", "nin"}
    assert all(SMALL.covers(c) for c in drawn)
    mbps = np.array([c.local_edge_mbps for c in drawn])
    assert 5.0 <= mbps.min() and mbps.max() <= 20.0 and np.median(mbps) < 12.0  # log-uniform: median ~10
    assert all(0.1 <= c.loss_probability <= 0.2 and 0.002 <= c.confirmation_s <= 0.05 for c in drawn)
    assert all((c.num_clients, c.num_servers) == (1, 1) for c in drawn)
    env = gym.make("EdgeUpload-v0", config=drawn[0])
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_instance_distribution__same_seed_same_draws():
    draw = lambda seed: [TRAIN.sample_kwargs(rng) for rng in [np.random.default_rng(seed)] for _ in range(20)]  # noqa: E731
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_instance_distribution__covers_only_what_it_can_draw():
    cfg = SMALL.sample(np.random.default_rng(1))
    assert SMALL.covers(cfg)
    assert not SMALL.covers(EdgeUploadConfig.from_kwargs(cfg, model="vgg16"))
    assert not SMALL.covers(EdgeUploadConfig.from_kwargs(cfg, local_edge_mbps=25.0))
    assert not SMALL.covers(EdgeUploadConfig.from_kwargs(cfg, loss_probability=0.05))
    assert not SMALL.covers(EdgeUploadConfig.from_kwargs(cfg, num_edge_servers=2))  # a base field differs


def test_instance_distribution__round_trips_through_json_fields():
    assert InstanceDistribution.from_dict(TRAIN.to_dict()) == TRAIN
    with_base = InstanceDistribution.from_dict({"models": ["vgg16"], "base": {"edge_clock_ghz": [4.2, 8.0]}})
    assert with_base.sample(np.random.default_rng(0)).edge_clock_ghz == (4.2, 8.0)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"models": ("lenet",)}, "InstanceDistribution.models must be a non-empty list of ('alexnet'"),
        ({"models": ()}, "InstanceDistribution.models must be a non-empty list"),
        ({"local_edge_mbps": (20.0, 5.0)}, "InstanceDistribution.local_edge_mbps must be a pair (lo, hi)"),
        ({"loss_probability": (0.0, 0.95)}, "InstanceDistribution.loss_probability must be a pair (lo, hi) with 0.0"),
        ({"confirmation_s": (-1.0, 0.1)}, "InstanceDistribution.confirmation_s must be a pair (lo, hi)"),
        ({"base": {"model": "nin"}}, "InstanceDistribution.base: ['model'] are drawn by the distribution"),
        ({"base": {"bogus": 1}}, "unknown EdgeUploadConfig field(s) ['bogus']"),
        ({"base": [1]}, "InstanceDistribution.base must be a dict of config fields"),
    ],
)
def test_instance_distribution__bad_fields_raise_named_errors(fields, message):
    with pytest.raises(ValueError) as error:
        InstanceDistribution(**fields)
    assert message in str(error.value)


def test_instance_distribution__unknown_json_field_is_named():
    with pytest.raises(ValueError, match=r"distribution: unknown field\(s\) \['bandwidth'\]"):
        InstanceDistribution.from_dict({"bandwidth": [3, 6]})


def test_train_distribution__covers_no_held_out_nor_leaderboard_instance():
    leaderboard = {instance.name: instance.kwargs for instance in SETS["EdgeUpload-v0"].instances}
    assert set(leaderboard) <= set(HELD_OUT)
    for kwargs in [*HELD_OUT.values(), *leaderboard.values()]:
        cfg = EdgeUploadConfig.from_kwargs(None, **kwargs)
        assert not TRAIN.covers(cfg), kwargs
        # not even the nearest config TRAIN could draw: the held-out models are never drawn
        assert cfg.model not in TRAIN.models
