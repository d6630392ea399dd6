"""Golden trajectories of ServiceMigration-v0, recorded before the template refactor (issue 12).

Fields renamed since (num_devices, num_samples, num_rho_levels -> num_*) are written with their new names; fields
added since are set to the values that reproduce the old behaviour (noise_reading="density",
pair_rho_levels=False, batch_size=None, observe_pair_costs=False).

Re-recorded for issue 33, when the Shannon rate moved from log2(1 + SNR) to log1p(SNR) / ln 2 (exact to the
last bit at small SNR): the old and new trajectories agreed to 1.2e-8 relative in every case but
"bound-horizontal-gauss-markov", whose uploads of 10^7 s send Gauss-Markov devices around the area
thousands of times per round, so rounding-level changes move them anywhere.

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
    ("bound", 0): "17fad80f2d0adb8059a12b9616d9ac8d2c74637ff26c38d7ccbed05e3aca999d",
    ("bound", 11): "71ec88350f18c13041f5bfad025adbf1cb3b5d21a17160e4cfc27efe6e6b8117",
    ("bound-continuous", 0): "cd5d0ed0530567e3f329cb8735840b6b2cb95b82b76491a3f650ef5315a4b846",
    ("bound-continuous", 11): "6072b744ac649cba58cec09cba76b2ca19eb367811aa6cb2b9137424da2ded89",
    ("bound-horizontal-gauss-markov", 0): "ef8e5c87d79fd90e2ac4b6d656f219859434d574b63f49aa0ba30e3e34dff292",
    ("bound-horizontal-gauss-markov", 11): "37a616c695a60f713ed1ffe14336f3efb488b15861c400ce59ccd97c3fae9157",
    ("bound-noise-220-fading", 0): "e0b353a22cf209cc6470aec9c949689c8696d8745969aadc11252793b6952394",
    ("bound-noise-220-fading", 11): "59902630dd2723a1c86c355d29ba2b3d0ac1695636899c8539d5e13ed7802cdb",
    ("real", 0): "2dc3fac38afde24b37ea45a72a8868a1c2efe5a151b1df52280cf0b28cb44822",
    ("real", 11): "3a8013af27b376e08fc57e899138c2cb2d64f28e9edbafd314d7d8ebe1fe8249",
    ("toy", 3): "0b5006c6484d30a17b7ec6d910a86af24373f580eaaab1b82857a9d0ea0fe7c2",
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
