import math

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs.service_migration import (
    PAPER_LITERAL,
    PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ,
    Modality,
    ServiceMigrationConfig,
)
from edge_envs.service_migration.config import MAX_EDGES


def test_config__default_backend_is_the_fast_bound_one():
    # issue 27: the real backend trains a model every round (0.2-2 steps/s), too slow as RL's default
    assert ServiceMigrationConfig().backend == "bound"
    assert gym.make("ServiceMigration-v0").unwrapped.cfg.backend == "bound"


def test_config__defaults_are_section_6_1_and_table_1():
    cfg = ServiceMigrationConfig()
    assert (cfg.area_m, cfg.num_devices, cfg.tx_power_dbm, cfg.bandwidth_hz, cfg.carrier_hz) == (
        10_000.0,
        50,
        23.0,
        20e6,
        2.1e9,
    )
    assert cfg.noise_psd_dbm_per_hz == -147.0 and cfg.noise_reading == "printed"  # 10^-14.7 mW(/Hz)
    assert (cfg.capability_mean_hz, cfg.capability_std_hz) == (1e6, 3e5)  # the printed 3e6 read as 3e5
    assert (cfg.reference_distance_m, cfg.migration_speed_bps, cfg.alpha, cfg.beta, cfg.epochs) == (
        3000.0,
        100e6,
        0.02,
        100.0,
        5,
    )
    assert [m.name for m in cfg.modalities] == ["text", "acoustic", "vision"]
    assert [m.sample_bits for m in cfg.modalities] == [500e3, 1e6, 2e6]
    assert [m.params for m in cfg.modalities] == [2_560_000, 596_480, 792_320]
    assert [m.density_cycles for m in cfg.modalities] == [2000, 1000, 1000]
    # Fig. 5: (2.5, 2.5) .. (7.5, 7.5) km by 2.5 km, centre excluded; the server at the centre
    expected = {(x, y) for x in (2500.0, 5000.0, 7500.0) for y in (2500.0, 5000.0, 7500.0)} - {(5000.0, 5000.0)}
    assert {tuple(p) for p in cfg.edge_positions} == expected and cfg.num_edges == 8
    np.testing.assert_array_equal(cfg.server_position, [5000.0, 5000.0])


def test_config__paper_literal_reading_is_a_named_option():
    cfg = ServiceMigrationConfig(**PAPER_LITERAL)
    assert (cfg.noise_reading, cfg.capability_mean_hz, cfg.capability_std_hz, cfg.capability_min_hz) == (
        "density",
        1e6,
        3e6,
        1e5,
    )


def test_config__rho_grid_is_geometric_between_the_bounds():
    grid = ServiceMigrationConfig().rho_grid
    assert len(grid) == 20 and grid[0] == pytest.approx(0.025) and grid[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(grid[1:] / grid[:-1], (1.0 / 0.025) ** (1 / 19))


def test_config__rho_choices_add_one_pair_level_per_modality_in_the_split_framework():
    assert ServiceMigrationConfig().num_rho_choices == 23
    assert ServiceMigrationConfig(pair_rho_levels=False).num_rho_choices == 20
    assert ServiceMigrationConfig(framework="horizontal").num_rho_choices == 20


def test_config__seed_printed_noise_equals_printed_eq4():
    # P h / N0 (printed) == P h / (N0' B) with N0' = N0 / B: -147 dBm/Hz - 10 log10(2e7) = -220.0103
    assert PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ == pytest.approx(-220.0103, abs=1e-4)


BAD = [
    ("num_devices", 0),
    ("horizontal_schedule", "serial"),
    ("num_devices", 2.0),
    ("num_devices", True),
    ("area_m", -1.0),
    ("area_m", math.inf),
    ("alpha", 0.0),
    ("alpha", math.nan),
    ("rho_min", 0.01),
    ("rho_max", 1.5),
    ("epochs", 2.5),
    ("epochs", 0),
    ("backend", "sim"),
    ("on_conflict", "ignore"),
    ("framework", "vertical"),
    ("mobility", "teleport"),
    ("noise_reading", "dbm"),
    ("path_loss_model", "free"),
    ("capability_std_hz", -1.0),
    ("capability_std_hz", math.inf),
    ("capability_mean_hz", 1e4),
    ("capability_mean_hz", math.nan),
    ("capability_min_hz", 0.0),
    ("num_rho_levels", 1),
    ("num_samples", -3),
    ("edge_positions_m", ((100.0, 100.0), (100.0, 100.0), (200.0, 200.0))),
    ("edge_positions_m", ((100.0, 100.0), (200.0, math.nan), (300.0, 300.0))),
    ("edge_positions_m", ((100.0, 100.0), (200.0, 2e4), (300.0, 300.0))),
    ("server_position_m", (1.0,)),
    ("server_position_m", "centre"),
    ("continuous_rho", 1),
    ("fading", "yes"),
    ("pair_rho_levels", None),
    ("learning_rate", 1e6),
    ("learning_rate", math.nan),
    ("learning_rate", 0.0),
    ("reward_scale", 1e308),
    ("reward_scale", -1.0),
    ("tx_power_dbm", 1e6),
    ("tx_power_dbm", -math.inf),
    ("bandwidth_hz", 1e300),
    ("carrier_hz", 0.0),
    ("noise_psd_dbm_per_hz", 0.0),
    ("noise_psd_dbm_per_hz", math.nan),
    ("reference_distance_m", 0.0),
    ("migration_speed_bps", math.inf),
    ("bytes_per_param", 0),
    ("speed_min_mps", 0.0),
    ("speed_max_mps", 0.5),
    ("speed_max_mps", 1e9),
    ("beta", 0.0),
    ("beta", math.inf),
    ("max_rounds", 0),
    ("target_loss", 0.0),
    ("target_loss", 1e9),
    ("batch_size", 0),
    ("batch_size", 1.5),
    ("hidden_units", 0),
    ("data_seed", -1),
    ("torch_threads", 0),
    ("edge_spacing_m", 0.0),
    ("modalities", ()),
    ("modalities", ("text",)),
]


def test_config__an_edge_grid_over_max_edges_is_refused_naming_area_and_spacing():
    # issue 33: area_m=1e6 with edge_spacing_m=1 passed each range check and asked for 10^12 edges (7 TiB)
    for area, spacing in ((1e6, 1.0), (1e4, 100.0), (1e4, 1e4 / 32.5)):
        with pytest.raises(ValueError, match=r"area_m, edge_spacing_m must be a grid of at most 1000 points"):
            ServiceMigrationConfig(area_m=area, edge_spacing_m=spacing)
    assert ServiceMigrationConfig(area_m=1e4, edge_spacing_m=1e4 / 32).num_edges == 31 * 31 - 1  # centre left out
    too_many = tuple((float(x), 1.0) for x in range(MAX_EDGES + 1))
    with pytest.raises(ValueError, match=r"edge_positions_m must be at most 1000 edges"):
        ServiceMigrationConfig(area_m=1e4, edge_positions_m=too_many)


@pytest.mark.parametrize("field, value", BAD)
def test_config__bad_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ServiceMigrationConfig(**{field: value})


def test_config__real_backend_refuses_more_samples_than_mfeat_holds_out():
    assert ServiceMigrationConfig(num_samples=1950).num_samples == 1950  # the bound backend counts any number
    with pytest.raises(ValueError, match=r"num_samples must be <= 1900 with the real backend"):
        ServiceMigrationConfig(num_samples=1950, backend="real")


@pytest.mark.parametrize(
    "field, value",
    [("learning_rate", 1e6), ("reward_scale", 1e308), ("tx_power_dbm", 1e6), ("capability_std_hz", math.inf)],
)
def test_env__absurd_values_are_refused_through_gym_make(field, value):
    with pytest.raises(ValueError, match=field):
        gym.make("ServiceMigration-v0", **{field: value})


def test_config__numpy_scalars_are_accepted():
    cfg = ServiceMigrationConfig(
        num_devices=np.int64(7), learning_rate=np.float32(0.05), alpha=np.float64(0.02), backend="bound"
    )
    assert cfg.num_devices == 7


def test_config__needs_as_many_edges_as_modalities():
    with pytest.raises(ValueError, match="at least as many edges"):
        ServiceMigrationConfig(edge_positions_m=((100.0, 100.0), (200.0, 200.0)))


@pytest.mark.parametrize(
    "field, value",
    [
        ("sample_bits", 0.0),
        ("sample_bits", math.inf),
        ("params", 2.5),
        ("density_cycles", math.nan),
        ("embedding_dim", 0),
    ],
)
def test_modality__bad_values_name_the_field(field, value):
    kwargs = dict(name="x", sample_bits=1.0, params=10, density_cycles=1.0)
    with pytest.raises(ValueError, match=f"Modality.{field}"):
        Modality(**{**kwargs, field: value})


def test_modality__views_and_real_backend_need_views():
    with pytest.raises(ValueError, match="views"):
        Modality("x", sample_bits=1.0, params=10, density_cycles=1.0, views=("nope",))
    with pytest.raises(ValueError, match="modalities"):
        ServiceMigrationConfig(modalities=(Modality("x", 1.0, 10, 1.0),) * 3, backend="bound")
    with pytest.raises(ValueError, match="mfeat views"):
        ServiceMigrationConfig(modalities=(Modality("x", 1.0, 10, 1.0),), backend="real")


def test_config__the_old_seed_names_still_import_until_the_next_release():
    import edge_envs.service_migration as sm

    assert sm.SEED_LITERAL is sm.PAPER_LITERAL and sm.SEED_MODALITIES is sm.PAPER_MODALITIES
    assert sm.SEED_PRINTED_NOISE_PSD_DBM_PER_HZ == sm.PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ
    assert not any(name.startswith("SEED_") for name in sm.__all__)  # listed under their new names only
