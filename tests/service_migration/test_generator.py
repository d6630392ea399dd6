import numpy as np
import pytest

from edge_envs.service_migration import RandomGenerator, ServiceMigrationConfig, ToyGenerator, toy_config


def test_random_generator__distinct_initial_edges_and_seeded():
    cfg = ServiceMigrationConfig(backend="bound")
    draws = [RandomGenerator()(cfg, np.random.default_rng(s)) for s in range(50)]
    assert all(len(set(d.initial_edges)) == 3 and max(d.initial_edges) < 8 for d in draws)
    assert len({d.initial_edges for d in draws}) > 10
    assert RandomGenerator()(cfg, np.random.default_rng(7)) == RandomGenerator()(cfg, np.random.default_rng(7))
    assert draws[0].device_positions is None


def test_toy_generator__fixed_instance_and_config_check():
    scenario = ToyGenerator()(toy_config(), np.random.default_rng(0))
    assert scenario.initial_edges == (2, 0) and scenario.device_positions == ((450.0, 500.0),)
    with pytest.raises(ValueError, match="toy_config"):
        ToyGenerator()(ServiceMigrationConfig(backend="bound"), np.random.default_rng(0))
