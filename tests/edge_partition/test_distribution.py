"""Instance distributions of EdgePartition (edge_envs.edge_partition.distribution): draws, determinism,
named errors, and held-out scenarios that no training distribution covers."""

import numpy as np
import pytest

from benchmarks.leaderboard.scenarios import SETS
from edge_envs.edge_partition import EdgePartitionConfig
from edge_envs.edge_partition.distribution import HELD_OUT, MOBILITY, PER_SLOT, TRAIN, InstanceDistribution

SMALL = InstanceDistribution(
    models=("vgg16",), num_blocks=(3, 4), num_servers=(2, 3), exclude=(("vgg16", 3, 2), ("vgg16", 4, 3))
)


def test_instance_distribution__draws_lie_in_its_ranges_and_skip_excluded_triples():
    rng = np.random.default_rng(0)
    drawn = [SMALL.sample(rng) for _ in range(200)]
    triples = {(c.model, c.num_blocks, c.num_servers) for c in drawn}
    assert triples == {("vgg16", 3, 3), ("vgg16", 4, 2)}  # the two triples the exclusions leave
    assert all(SMALL.covers(c) for c in drawn)
    assert {c.walk_speed_mps for c in drawn} == set(MOBILITY.values())
    assert {c.fading for c in drawn} == {False, True} and {c.poisson_tasks for c in drawn} == {False, True}
    rates = [c.task_rate for c in drawn]
    assert 30.0 <= min(rates) and max(rates) <= 110.0
    per_slot = np.array([c.energy_budget_j / c.episode_slots for c in drawn])
    assert 0.5 <= per_slot.min() and per_slot.max() <= 60.0 and np.median(per_slot) < 10.0  # log-uniform


def test_instance_distribution__same_seed_same_draws():
    draw = lambda seed: [TRAIN.sample_kwargs(rng) for rng in [np.random.default_rng(seed)] for _ in range(20)]  # noqa: E731
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_instance_distribution__covers_only_what_it_can_draw():
    cfg = SMALL.sample(np.random.default_rng(1))
    assert SMALL.covers(cfg)
    assert not SMALL.covers(EdgePartitionConfig.from_kwargs(cfg, num_blocks=3, num_servers=2))  # excluded
    assert not SMALL.covers(EdgePartitionConfig.from_kwargs(cfg, model="nin"))
    assert not SMALL.covers(EdgePartitionConfig.from_kwargs(cfg, task_rate=120.0))
    assert not SMALL.covers(EdgePartitionConfig.from_kwargs(cfg, energy_budget_j=10.0))  # 0.017 J per slot
    assert not SMALL.covers(EdgePartitionConfig.from_kwargs(cfg, penalty_weight=3.0))  # a base field differs


def test_instance_distribution__round_trips_through_json_fields():
    assert InstanceDistribution.from_dict(TRAIN.to_dict()) == TRAIN


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"models": ("vgg16", "bogus")}, "InstanceDistribution.models must be a non-empty list of"),
        ({"models": ()}, "InstanceDistribution.models must be a non-empty list"),
        ({"num_blocks": (3, 12)}, "hi must be at most 9, the layers of the smallest model"),
        ({"num_blocks": (3.5, 6)}, "InstanceDistribution.num_blocks must be a pair of integers"),
        ({"num_servers": (1, 4)}, "InstanceDistribution.num_servers must be a pair (lo, hi) with 2 <= lo"),
        ({"task_rate": (90.0, 30.0)}, "InstanceDistribution.task_rate must be a pair (lo, hi)"),
        ({"mobility": ("run",)}, "InstanceDistribution.mobility must be a non-empty list of ('still', 'walk'"),
        ({"fading": (0.5,)}, "InstanceDistribution.fading must be a non-empty list of (False, True)"),
        ({"exclude": (("vgg16", 6),)}, "InstanceDistribution.exclude must hold (model, M, N) triples"),
        ({"base": {"num_blocks": 6}}, "InstanceDistribution.base: ['num_blocks'] are drawn by the distribution"),
        ({"base": {"bogus": 1}}, "unknown EdgePartitionConfig field(s) ['bogus']"),
        ({"base": {"outage_cost_s": -1.0}}, "outage_cost_s must be a number in"),
        ({"energy_per_slot_j": (0.0, 5.0)}, "InstanceDistribution.energy_per_slot_j must be a pair (lo, hi)"),
        (
            {"models": ("nin",), "num_blocks": (3, 3), "num_servers": (2, 2), "exclude": (("nin", 3, 2),)},
            "exclude removes every (model, M, N)",
        ),
    ],
)
def test_instance_distribution__bad_fields_raise_named_errors(fields, message):
    with pytest.raises(ValueError) as error:
        InstanceDistribution(**fields)
    assert message in str(error.value)


def test_instance_distribution__unknown_json_field_is_named():
    with pytest.raises(ValueError, match=r"distribution: unknown field\(s\) \['blocks'\]"):
        InstanceDistribution.from_dict({"blocks": [3, 6]})


def test_train_distribution__covers_no_held_out_scenario_nor_leaderboard_instance():
    leaderboard = [instance.kwargs for instance in SETS["EdgePartition-v0"].instances]
    for kwargs in [*HELD_OUT.values(), *leaderboard]:
        assert not TRAIN.covers(EdgePartitionConfig.from_kwargs(None, **kwargs)), kwargs
    assert set(PER_SLOT) < set(HELD_OUT)
