import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs.service_migration import RandomGenerator, ServiceMigrationConfig, ServiceMigrationEnv, ToyGenerator


def test_random_generator__distinct_initial_edges_and_seeded():
    generator = RandomGenerator(ServiceMigrationConfig(backend="bound"))
    draws = [generator(np.random.default_rng(s)) for s in range(50)]
    assert all(len(set(d.initial_edges)) == 3 and max(d.initial_edges) < 8 for d in draws)
    assert len({d.initial_edges for d in draws}) > 10
    assert generator(np.random.default_rng(7)) == generator(np.random.default_rng(7))
    assert draws[0].device_positions is None and draws[0].name == "random:N8:K3"


def test_toy_generator__fixed_instance_and_small_config():
    instance = ToyGenerator()(np.random.default_rng(0))
    assert instance.initial_edges == (2, 0) and instance.device_positions == ((450.0, 500.0),)
    cfg = ToyGenerator.config()
    assert (cfg.num_edges, cfg.num_modalities, cfg.num_devices) == (3, 2, 1)


def test_toy_generator__on_a_config_it_does_not_fit_is_refused_by_name():
    with pytest.raises(ValueError, match="initial_edges must be 3 distinct edges|fixed device positions"):
        gym.make("ServiceMigration-v0", backend="bound", generator=ToyGenerator()).reset(seed=0)


def test_generator__returning_none_is_a_named_error():
    env = ServiceMigrationEnv(config=ServiceMigrationConfig(backend="bound"), generator=lambda rng: None)
    with pytest.raises(TypeError, match="generator must return an edge_envs.service_migration.Instance, got NoneType"):
        env.reset(seed=0)
