"""edge_envs.service_migration.kernels: the compiled uplink rates are the channel module's, bit for bit, and each
edge's slowest rate is their minimum over the devices."""

import numpy as np
import pytest

from edge_envs.net import channel, topology
from edge_envs.service_migration import ServiceMigrationConfig, core, kernels


@pytest.mark.parametrize("model", ["winner2_c2", "log_distance"])
@pytest.mark.parametrize("noise_reading", ["printed", "density"])
def test_kernels__uplink_rates_equal_the_channel_functions_bit_for_bit(model, noise_reading):
    cfg = ServiceMigrationConfig(path_loss_model=model, noise_reading=noise_reading, num_devices=40)
    positions = np.random.default_rng(0).uniform(0.0, cfg.area_m, size=(3, 40, 2))
    positions[0, :8] = cfg.edge_positions  # devices on an edge: counted MIN_DISTANCE_M away
    d = np.maximum(topology.distances(positions, cfg.edge_positions), core.MIN_DISTANCE_M)
    gain = channel.channel_gain(d, model=model, fading=False, carrier_hz=cfg.carrier_hz)
    expected = channel.shannon_rate(
        cfg.bandwidth_hz, channel.dbm_to_watt(cfg.tx_power_dbm), gain, core.noise_density_w_per_hz(cfg)
    )
    assert core.uplink_rates(cfg, positions).tolist() == expected.tolist()
    assert core.uplink_rates(cfg, positions[1]).tolist() == expected[1].tolist()


@pytest.mark.parametrize("model", ["winner2_c2", "log_distance"])
def test_kernels__slowest_rates_are_the_minimum_over_the_devices_bit_for_bit(model):
    cfg = ServiceMigrationConfig(path_loss_model=model, num_devices=50)
    rng = np.random.default_rng(3)
    positions = rng.uniform(0.0, cfg.area_m, size=(400, 50, 2))
    positions[:100, :10] = positions[:100, :1]  # ten devices at one place: ties for the farthest
    positions[100:200, :8] = cfg.edge_positions + rng.uniform(-0.5, 0.5, size=(100, 8, 2))  # within 1 m of an edge
    positions[200:300] = positions[200:300, :1] + rng.uniform(-1e-9, 1e-9, size=(100, 50, 2))  # nearly together
    slowest = core.slowest_rates(cfg, positions)
    assert slowest.shape == (400, cfg.num_edges)
    assert slowest.tolist() == core.uplink_rates(cfg, positions).min(axis=1).tolist()
    assert core.slowest_rates(cfg, positions[7]).tolist() == slowest[7].tolist()


def test_kernels__rate_terms_name_an_unknown_path_loss_model():
    with pytest.raises(ValueError, match="model must be one of"):
        kernels.rate_terms("hata", 2.1e9, 0.2, 1e-20, 20e6)


def test_kernels__pair_costs_equal_the_per_table_functions_bit_for_bit():
    cfg = ServiceMigrationConfig(num_devices=30)
    rng = np.random.default_rng(1)
    edges = np.stack([rng.permutation(cfg.num_edges)[: cfg.num_modalities] for _ in range(4)])
    slowest = core.slowest_rates(cfg, rng.uniform(0.0, cfg.area_m, size=(4, 30, 2)))
    capability = rng.uniform(1e5, 2e6, size=(4, cfg.num_edges))
    costs = core.pair_costs(cfg, edges, slowest, capability)
    assert costs.migration.tolist() == core.migration_times(cfg, edges).tolist()
    assert costs.upload.tolist() == core.upload_per_rho(cfg, slowest).tolist()
    assert costs.compute.tolist() == core.compute_per_rho(cfg, capability).tolist()
    single = core.pair_costs(cfg, edges[2], slowest[2], capability[2])
    assert single.psi_v.tolist() == costs.psi_v[2].tolist()
    with pytest.raises(IndexError):
        core.pair_costs(cfg, [0, 1, cfg.num_edges], slowest[0], capability[0])


def test_kernels__round_times_index_the_chosen_pairs():
    cfg = ServiceMigrationConfig()
    rng = np.random.default_rng(2)
    costs = core.PairCosts(*rng.uniform(0.1, 10.0, size=(3, 5, cfg.num_edges, cfg.num_modalities)))
    edges = np.stack([rng.permutation(cfg.num_edges)[: cfg.num_modalities] for _ in range(5)])
    rho = rng.uniform(0.05, 1.0, size=5)
    times = core.round_times(costs, edges, rho)
    k = np.arange(cfg.num_modalities)
    for b in range(5):
        assert times.migration[b].tolist() == costs.migration[b][edges[b], k].tolist()
        assert times.upload[b].tolist() == (rho[b] * costs.upload[b][edges[b], k]).tolist()
        assert times.compute[b].tolist() == (rho[b] * costs.compute[b][edges[b], k]).tolist()
