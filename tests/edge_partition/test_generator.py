"""RandomGenerator: its one-call draw equals numpy's ``uniform`` draws, value for value."""

import numpy as np
import pytest

from edge_envs.edge_partition import EdgePartitionConfig, RandomGenerator


@pytest.mark.parametrize("fields", [{}, {"num_servers": 7, "server_speed_factor": (0.3, 2.7), "area_m": 333.3}])
def test_random_generator__draws_the_values_of_numpy_uniform(fields):
    cfg = EdgePartitionConfig(**fields)
    generator = RandomGenerator(cfg)
    for seed in range(200):
        ours, reference = np.random.default_rng(seed), np.random.default_rng(seed)
        instance = generator(ours)
        servers = reference.uniform(0.0, cfg.area_m, size=(cfg.num_servers, 2))
        speeds = reference.uniform(*cfg.server_speed_factor, size=cfg.num_servers)
        assert instance.server_xy.shape == servers.shape and instance.server_speed.shape == speeds.shape
        assert instance.server_xy.tobytes() == servers.tobytes()
        assert instance.server_speed.tobytes() == speeds.tobytes()
        assert ours.bit_generator.random_raw() == reference.bit_generator.random_raw()  # the streams stay in step
