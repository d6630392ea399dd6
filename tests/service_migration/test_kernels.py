"""edge_envs.service_migration.kernels: the compiled uplink rates are the channel module's, bit for bit."""

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


def test_kernels__rate_terms_name_an_unknown_path_loss_model():
    with pytest.raises(ValueError, match="model must be one of"):
        kernels.rate_terms("hata", 2.1e9, 0.2, 1e-20, 20e6)
