import numpy as np
import pytest

from edge_envs.service_migration import SEED_PRINTED_NOISE_PSD_DBM_PER_HZ, Modality, ServiceMigrationConfig


def test_config__defaults_are_section_6_1_and_table_1():
    cfg = ServiceMigrationConfig()
    assert (cfg.area_m, cfg.n_devices, cfg.tx_power_dbm, cfg.bandwidth_hz, cfg.carrier_hz) == (
        10_000.0, 50, 23.0, 20e6, 2.1e9)
    assert cfg.noise_psd_dbm_per_hz == -147.0  # 10^-14.7 mW/Hz
    assert (cfg.capability_mean_hz, cfg.capability_std_hz) == (1e6, 3e6)
    assert (cfg.reference_distance_m, cfg.migration_speed_bps, cfg.alpha, cfg.beta, cfg.epochs) == (
        3000.0, 100e6, 0.02, 100.0, 5)
    assert [m.name for m in cfg.modalities] == ["text", "acoustic", "vision"]
    assert [m.sample_bits for m in cfg.modalities] == [500e3, 1e6, 2e6]
    assert [m.params for m in cfg.modalities] == [2_560_000, 596_480, 792_320]
    assert [m.density_cycles for m in cfg.modalities] == [2000, 1000, 1000]
    # Fig. 5: (2.5, 2.5) .. (7.5, 7.5) km by 2.5 km, centre excluded; the server at the centre
    expected = {(x, y) for x in (2500.0, 5000.0, 7500.0) for y in (2500.0, 5000.0, 7500.0)} - {(5000.0, 5000.0)}
    assert {tuple(p) for p in cfg.edge_positions} == expected and cfg.n_edges == 8
    np.testing.assert_array_equal(cfg.server_position, [5000.0, 5000.0])


def test_config__rho_grid_is_geometric_between_the_bounds():
    grid = ServiceMigrationConfig().rho_grid
    assert len(grid) == 20 and grid[0] == pytest.approx(0.025) and grid[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(grid[1:] / grid[:-1], (1.0 / 0.025) ** (1 / 19))


def test_config__seed_printed_noise_equals_printed_eq4():
    # P h / N0 (printed) == P h / (N0' B) with N0' = N0 / B: -147 dBm/Hz - 10 log10(2e7) = -220.0103
    assert SEED_PRINTED_NOISE_PSD_DBM_PER_HZ == pytest.approx(-220.0103, abs=1e-4)


@pytest.mark.parametrize("field, value", [
    ("n_devices", 0), ("area_m", -1.0), ("alpha", 0.0), ("rho_min", 0.01), ("rho_max", 1.5), ("epochs", 2.5),
    ("backend", "sim"), ("on_conflict", "ignore"), ("framework", "vertical"), ("mobility", "teleport"),
    ("capability_std_hz", -1.0), ("capability_mean_hz", 1e4), ("rho_levels", 1), ("n_samples", 1950),
    ("edge_positions_m", ((100.0, 100.0), (100.0, 100.0), (200.0, 200.0))), ("continuous_rho", 1),
])
def test_config__bad_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ServiceMigrationConfig(**{field: value})


def test_config__needs_as_many_edges_as_modalities():
    with pytest.raises(ValueError, match="at least as many edges"):
        ServiceMigrationConfig(edge_positions_m=((100.0, 100.0), (200.0, 200.0)))


def test_modality__bad_values_name_the_field():
    with pytest.raises(ValueError, match="sample_bits"):
        Modality("x", sample_bits=0.0, params=10, density_cycles=1.0)
    with pytest.raises(ValueError, match="views"):
        Modality("x", sample_bits=1.0, params=10, density_cycles=1.0, views=("nope",))
    with pytest.raises(ValueError, match="modalities"):
        ServiceMigrationConfig(modalities=(Modality("x", 1.0, 10, 1.0),) * 3, backend="bound")
