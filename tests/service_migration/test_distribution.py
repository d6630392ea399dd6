"""Instance distributions of ServiceMigration (edge_envs.service_migration.distribution): draws, determinism,
named errors, and held-out instances that no training distribution covers."""

import numpy as np
import pytest

from benchmarks.leaderboard.scenarios import SETS
from edge_envs.service_migration import ServiceMigrationConfig
from edge_envs.service_migration.distribution import HELD_OUT, TRAIN, InstanceDistribution

SMALL = InstanceDistribution(
    num_edges=(3, 4),
    num_modalities=(2, 3),
    mobility=("static",),
    exclude=((3, 2, "static", False), (4, 3, "static", True)),
)


def test_instance_distribution__draws_lie_in_its_ranges_and_skip_excluded_keys():
    rng = np.random.default_rng(0)
    drawn = [SMALL.sample(rng) for _ in range(100)]
    keys = {(c.num_edges, c.num_modalities, c.fading) for c in drawn}
    # N >= K, and the two excluded keys never come
    assert keys == {(3, 2, True), (4, 2, False), (4, 2, True), (3, 3, False), (3, 3, True), (4, 3, False)}
    assert all(SMALL.covers(c) for c in drawn)
    assert {c.mobility for c in drawn} == {"static"} and all(c.edge_positions_m is not None for c in drawn)
    bits = np.array([m.sample_bits for c in drawn for m in c.modalities])
    assert 2e5 <= bits.min() and bits.max() <= 4e6 and np.median(bits) < 1.5e6  # log-uniform: median ~0.9 Mbit
    assert all(20 <= c.num_devices <= 80 and 600 <= c.num_samples <= 2000 for c in drawn)
    assert all(10e6 <= c.bandwidth_hz <= 40e6 and 5.0 <= c.speed_max_mps <= 30.0 for c in drawn)


def test_instance_distribution__same_seed_same_draws():
    draw = lambda seed: [TRAIN.sample_kwargs(rng) for rng in [np.random.default_rng(seed)] for _ in range(20)]  # noqa: E731
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_instance_distribution__covers_only_what_it_can_draw():
    cfg = SMALL.sample(np.random.default_rng(1))
    assert SMALL.covers(cfg)
    assert not SMALL.covers(ServiceMigrationConfig.from_kwargs(cfg, mobility="gauss_markov"))
    assert not SMALL.covers(ServiceMigrationConfig.from_kwargs(cfg, num_devices=81))
    assert not SMALL.covers(ServiceMigrationConfig.from_kwargs(cfg, bandwidth_hz=5e6))
    assert not SMALL.covers(ServiceMigrationConfig.from_kwargs(cfg, epochs=2))  # a base field differs
    grid = ServiceMigrationConfig.from_kwargs(cfg, edge_positions_m=None, edge_spacing_m=4000.0)
    assert grid.num_edges == 4 and not SMALL.covers(grid)  # draws never use the grid


def test_instance_distribution__round_trips_through_json_fields():
    assert InstanceDistribution.from_dict(TRAIN.to_dict()) == TRAIN


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"num_edges": (1, 4)}, "InstanceDistribution.num_edges must be a pair (lo, hi) with 2 <= lo"),
        ({"num_edges": (3.5, 6)}, "InstanceDistribution.num_edges must be a pair of integers"),
        ({"num_edges": (2, 3), "num_modalities": (4, 5)}, "hi must be at least num_modalities' lo (4"),
        ({"sample_bits": (4e6, 2e5)}, "InstanceDistribution.sample_bits must be a pair (lo, hi)"),
        ({"speed_max_mps": (0.5, 5.0)}, "InstanceDistribution.speed_max_mps must be a pair (lo, hi) with 1.0 <= lo"),
        ({"mobility": ("run",)}, "InstanceDistribution.mobility must be a non-empty list of ('random_waypoint'"),
        ({"fading": (0.5,)}, "InstanceDistribution.fading must be a non-empty list of (False, True)"),
        ({"exclude": ((8, 3),)}, "InstanceDistribution.exclude must hold (N, K, mobility, fading) keys"),
        ({"base": {"num_devices": 6}}, "InstanceDistribution.base: ['num_devices'] are drawn by the distribution"),
        ({"base": {"bogus": 1}}, "unknown ServiceMigrationConfig field(s) ['bogus']"),
        (
            {"num_edges": (3, 3), "num_modalities": (3, 3), "mobility": ("static",), "fading": (False,),
             "exclude": ((3, 3, "static", False),)},
            "exclude removes every (N, K, mobility, fading)",
        ),
    ],
)  # fmt: skip
def test_instance_distribution__bad_fields_raise_named_errors(fields, message):
    with pytest.raises(ValueError) as error:
        InstanceDistribution(**fields)
    assert message in str(error.value)


def test_instance_distribution__unknown_json_field_is_named():
    with pytest.raises(ValueError, match=r"distribution: unknown field\(s\) \['edges'\]"):
        InstanceDistribution.from_dict({"edges": [3, 6]})


def test_train_distribution__covers_no_held_out_nor_leaderboard_instance():
    leaderboard = [instance.kwargs for instance in SETS["ServiceMigration-v0"].instances]
    assert {"bound", "vehicles"} <= set(HELD_OUT)
    for kwargs in [*HELD_OUT.values(), *leaderboard]:
        cfg = ServiceMigrationConfig.from_kwargs(None, **kwargs)
        assert not TRAIN.covers(cfg), kwargs
        # even with explicit positions, their (N, K, mobility, fading) is excluded or out of TRAIN's range
        moved = ServiceMigrationConfig.from_kwargs(cfg, edge_positions_m=tuple(map(tuple, cfg.edge_positions)))
        assert not TRAIN.covers(moved), kwargs
