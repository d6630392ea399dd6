"""Golden trajectories of ServiceMigration-v0, recorded before the template refactor (issue 12).

Fields renamed since (num_devices, num_samples, num_rho_levels -> num_*) are written with their new names; fields
added since are set to the values that reproduce the old behaviour (noise_reading="density",
pair_rho_levels=False, batch_size=None, observe_pair_costs=False).

Each case runs seeded episodes with actions drawn from a seeded generator, with every config field
written out at the value it had when the hashes were recorded (so later changes of defaults do not
move them), and compares a SHA-256 of the observations, rewards, flags and info numbers.
"""

import hashlib

import numpy as np
import pytest
from gymnasium import spaces

from edge_envs.service_migration import ServiceMigrationConfig, ServiceMigrationEnv, ToyGenerator

# every field whose default issue 15 may change, at its value when the hashes were recorded
RECORDED = dict(
    area_m=10_000.0,
    edge_spacing_m=2_500.0,
    num_devices=50,
    tx_power_dbm=23.0,
    bandwidth_hz=20e6,
    carrier_hz=2.1e9,
    noise_psd_dbm_per_hz=-147.0,
    path_loss_model="winner2_c2",
    fading=False,
    capability_mean_hz=1e6,
    capability_std_hz=3e6,
    capability_min_hz=1e5,
    reference_distance_m=3_000.0,
    migration_speed_bps=100e6,
    bytes_per_param=4,
    mobility="random_waypoint",
    speed_min_mps=1.0,
    speed_max_mps=10.0,
    num_samples=1284,
    epochs=5,
    alpha=0.02,
    beta=100.0,
    num_rho_levels=20,
    rho_min=0.025,
    rho_max=1.0,
    continuous_rho=False,
    on_conflict="repair",
    framework="split",
    max_rounds=500,
    target_loss=0.1,
    learning_rate=0.05,
    hidden_units=32,
    data_seed=0,
    torch_threads=1,
    reward_scale=1.0,
    noise_reading="density",
    pair_rho_levels=False,
    batch_size=None,
    observe_pair_costs=False,
)
INFO_KEYS = (
    "round",
    "wall_clock",
    "edges",
    "device_positions",
    "capability",
    "rates",
    "loss",
    "accuracy",
    "progress",
    "communication_cost",
    "computation_cost",
    "requested_edges",
    "repaired",
    "rho",
    "samples",
    "round_time",
    "migration_time",
    "upload_time",
    "communication_time",
    "computation_time",
)

CASES = {
    "bound": (dict(backend="bound"), 12),
    "bound-noise-220-fading": (dict(backend="bound", noise_psd_dbm_per_hz=-220.0, fading=True), 12),
    "bound-continuous": (dict(backend="bound", continuous_rho=True), 12),
    "bound-horizontal-gauss-markov": (dict(backend="bound", framework="horizontal", mobility="gauss_markov"), 12),
    "real": (dict(backend="real"), 4),
}
GOLDEN = {
    ("bound", 0): "25980910ccfeb23bf07d2b0c2d084ae3556cdea0d6b0350ced5524c0768f7947",
    ("bound", 11): "3c429eb838fe60ec0bd41fd7553e8c30d3fc52a3a1b57879ddf8653eb8af4eb0",
    ("bound-continuous", 0): "0d730615698ca4e60039e9b4bd047e6b7ce6c67ab126ee73f66b30fe33c3bf64",
    ("bound-continuous", 11): "a9e28141a5236cde82b601f86c7b2923f7f58f4eac9479a5da8455923c6663b7",
    ("bound-horizontal-gauss-markov", 0): "01ac9c228a4ee67a543d2448f22f2a32375f0d7c1ecd514ccc7de24c870c99d6",
    ("bound-horizontal-gauss-markov", 11): "1998758c48bdcba7a89908445899dc14cee36a3f2c45fd70709da649247f3255",
    ("bound-noise-220-fading", 0): "4115fa81906f6be656868f9f952c6225a52c7067123ed945efb78bbfc3474a25",
    ("bound-noise-220-fading", 11): "c07a2127004dcbcf9024810d40788a414e2a6e9ad3d3fc4d99ea7ef95f299fc6",
    ("real", 0): "1c5e1ce9b134bb5161c9924bc012db0a808384b43eee67f70096c78a2bc190f9",
    ("real", 11): "bcad0ba16f2af9c0b70646b5b6299c67aff4e11a70631a1458b27e71ec19e631",
    ("toy", 3): "9c33411685e518a8f576cf2ea0d07b37d3721c954cfd651621bf82e67e7585b9",
}


def _digest(env, seed: int, steps: int) -> str:
    """SHA-256 of a seeded episode under actions drawn from ``default_rng(seed)``."""
    h = hashlib.sha256()

    def add(value):
        if value is None:
            h.update(b"none")
        else:
            h.update(np.ascontiguousarray(np.asarray(value, dtype=np.float64)).tobytes())

    def add_info(info):
        for key in INFO_KEYS:
            if key in info:
                h.update(key.encode())
                add(info[key])

    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    add(obs)
    add_info(info)
    for _ in range(steps):
        if isinstance(env.action_space, spaces.Box):
            action = rng.uniform(0.0, 1.0, size=env.action_space.shape).astype(np.float32)
        else:
            action = rng.integers(env.action_space.nvec)
        obs, reward, terminated, truncated, info = env.step(action)
        add(obs)
        add([reward, terminated, truncated])
        add_info(info)
        if terminated or truncated:
            break
    return h.hexdigest()


def _env(overrides: dict) -> ServiceMigrationEnv:
    return ServiceMigrationEnv(config=ServiceMigrationConfig(**{**RECORDED, **overrides}))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 11])
def test_golden__seeded_episodes_match_the_recorded_hashes(case, seed):
    overrides, steps = CASES[case]
    assert _digest(_env(overrides), seed, steps) == GOLDEN[case, seed]


def test_golden__toy_episode_matches_the_recorded_hash():
    env = ServiceMigrationEnv(config=ToyGenerator.config(), generator=ToyGenerator())
    assert _digest(env, 3, 10) == GOLDEN["toy", 3]


if __name__ == "__main__":  # prints the table to paste into GOLDEN
    for case, (overrides, steps) in sorted(CASES.items()):
        for seed in (0, 11):
            print(f"    ({case!r}, {seed}): {_digest(_env(overrides), seed, steps)!r},")
    toy = ServiceMigrationEnv(config=ToyGenerator.config(), generator=ToyGenerator())
    print(f"    ('toy', 3): {_digest(toy, 3, 10)!r},")
