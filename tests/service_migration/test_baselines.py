import itertools
import warnings

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401
from baselines.service_migration import POLICIES, line12_pair, lpt_assignment
from edge_envs.service_migration import Instance, ServiceMigrationConfig, ServiceMigrationEnv, ToyGenerator, core

NAMES = ("sm3fl", "fedbcd", "mfl-nsm", "mfl-fr", "lpt", "mds", "fedavg", "exact-round")


def test_policies__registry_has_the_seed_baselines():
    assert sorted(POLICIES) == sorted(NAMES)
    assert baselines.available("ServiceMigration-v0") == sorted(NAMES)


def test_lpt_assignment__slowest_modality_settles_first():
    # modality 0's best edge is 0 (2), modality 1's best is edge 0 too (1). The slower candidate,
    # modality 0, takes edge 0; modality 1 then takes its best remaining edge, 1 (6 < 8).
    assert lpt_assignment([[2, 1], [3, 6], [9, 8]]).tolist() == [0, 1]
    # 3 modalities: candidates (edge, time) = (1, 4), (1, 5), (0, 1): modality 1 settles edge 1;
    # then modality 0's best remaining is edge 2 (6) vs modality 2's edge 0 (1): modality 0 takes 2
    assert lpt_assignment([[7, 9, 1], [4, 5, 3], [6, 8, 2]]).tolist() == [2, 1, 0]


def test_sm3fl__toy_instance_gives_the_hand_derived_decision():
    """ToyGenerator.config(): edges at x = 100, 500, 900 m, the device at x = 450 (350, 50, 450 m away); "big"
    (2 Mbit samples) starts on edge 2, "small" (0.1 Mbit) on edge 0; capability equal everywhere.

    Uploads dominate (S q_k / rate: 2e8 or 1e7 bits at kbit/s beyond 300 m, 29 Mbit/s at 50 m), so both
    modalities' fastest edge is edge 1. Their candidate times: big on edge 1 ~ beta 2 rho* 100*2e6 / r(50 m) and
    small on edge 1 ~ beta 2 rho* 100*1e5 / r(50 m), so big is slower and settles edge 1 first. Small
    then compares edge 0 (its own: no migration, 350 m) with edge 2 (450 m, a migration): edge 0.
    Line 12: small on edge 0 has the larger Psi_v (1e7 bits over 350 m vs 2e8 bits over 50 m) and,
    staying, Psi_s = 0, so rho* = alpha + sqrt(alpha^2) = 2 alpha = 0.04.
    """
    env = ServiceMigrationEnv(config=ToyGenerator.config(continuous_rho=True), generator=ToyGenerator())
    policy = POLICIES["sm3fl"](env)
    _, info = env.reset(seed=0)
    edges, rho = policy.decide(info)
    assert edges.tolist() == [1, 0] and rho == core.PairRho(1)
    assert core.pair_rho(env.cfg, policy.costs(info), edges, 1) == pytest.approx(0.04, rel=1e-12)
    # the hand argument's premises
    rates = info["slowest_rates"]  # the toy has one device
    assert rates[1] > 100 * rates[0] > 100 * rates[2]
    # small alone would also pick edge 1; LPT gives it to the slower big
    costs = policy.costs(info)
    pref = core.preference_matrix(costs.psi_v, costs.psi_s, 0.02, 100.0)
    assert np.argmin(pref[:, 1]) == 1 and pref[1, 0] > pref[1, 1]


@pytest.mark.parametrize("name", NAMES)
def test_policies__never_put_two_modalities_on_one_edge(name):
    framework = "horizontal" if name == "fedavg" else "split"
    env = gym.make("ServiceMigration-v0", backend="bound", on_conflict="error", framework=framework)
    policy = baselines.make_policy(name, env)
    obs, info = env.reset(seed=1)
    for _ in range(40):
        action = policy.act(obs, info)
        assert len(set(np.asarray(action)[:3].tolist())) == 3
        obs, _, terminated, truncated, info = env.step(action)  # on_conflict="error" would raise
        assert not info["repaired"]


@pytest.mark.parametrize("name, rho", [("fedbcd", 0.044), ("mfl-nsm", 0.04), ("fedavg", 0.044)])
def test_policies__without_migration_keep_the_initial_edges(name, rho):
    env = gym.make("ServiceMigration-v0", backend="bound", continuous_rho=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        policy = baselines.make_policy(name, env)
    obs, info = env.reset(seed=2)
    start = info["edges"].copy()
    for _ in range(10):
        obs, _, _, _, info = env.step(policy.act(obs, info))
        assert info["edges"].tolist() == start.tolist()
        np.testing.assert_array_equal(info["migration_time"], 0.0)
        # staying means Psi_s = 0, so line 12 gives rho* = 2 alpha for MFL-NSM
        assert info["rho"] == pytest.approx(rho, rel=1e-6)


def test_mfl_fr__fixed_rho_default_and_override():
    env = gym.make("ServiceMigration-v0", backend="bound", continuous_rho=True)
    obs, info = env.reset(seed=0)
    assert baselines.make_policy("mfl-fr", env).decide(info)[1] == 0.035  # ERRATA on Section 6.3
    assert baselines.make_policy("mfl-fr", env, rho=0.044).decide(info)[1] == 0.044  # Section 6.4
    with pytest.raises(ValueError, match="rho"):
        baselines.make_policy("mfl-fr", env, rho=0.01)


def test_mds__picks_the_quarter_group_nearest_the_devices():
    cfg = ServiceMigrationConfig(backend="bound", num_devices=3, mobility="static")
    devices = ((1000.0, 1500.0), (3000.0, 2000.0), (2000.0, 3500.0))  # mean (2000, 2333): bottom-left quarter

    def generator(rng):
        return Instance("bottom-left", initial_edges=(5, 6, 7), device_positions=devices)

    env = ServiceMigrationEnv(config=cfg, generator=generator)
    policy = POLICIES["mds"](env)
    _, info = env.reset(seed=0)
    edges, _ = policy.decide(info)
    # bottom-left group: the corner edge (2.5, 2.5) km = 0 and its neighbours (5, 2.5) = 1, (2.5, 5) = 3
    assert sorted(edges.tolist()) == [0, 1, 3]
    upload = policy.costs(info).upload
    best = min(itertools.permutations([0, 1, 3]), key=lambda p: upload[list(p), [0, 1, 2]].sum())
    assert edges.tolist() == list(best)


def test_line12__pair_of_largest_psi_v_and_its_rho_capped_at_rho_max():
    cfg = ServiceMigrationConfig(backend="bound", rho_max=0.5)
    upload = np.ones((8, 3))
    upload[1, 1] = 2.0
    costs = core.PairCosts(migration=np.full((8, 3), 1e6), upload=upload, compute=np.ones((8, 3)))
    assert line12_pair(costs, np.array([0, 1, 2])) == 1
    assert core.optimal_rho(3.0, 1e6, cfg.alpha) > 0.5
    assert core.pair_rho(cfg, costs, np.array([0, 1, 2]), 1) == 0.5


def test_fedavg__warns_outside_the_horizontal_framework():
    env = gym.make("ServiceMigration-v0", backend="bound")
    with pytest.warns(UserWarning, match="horizontal"):
        baselines.make_policy("fedavg", env)


def _wall_clock(name, seed):
    env = gym.make("ServiceMigration-v0", backend="bound", capability_std_hz=3e6)
    policy = baselines.make_policy(name, env)
    obs, info = env.reset(seed=seed)
    while True:
        obs, _, terminated, truncated, info = env.step(policy.act(obs, info))
        if terminated or truncated:
            return info["wall_clock"], terminated


def test_sm3fl__reaches_the_target_sooner_than_fedbcd():
    sm3fl, done = _wall_clock("sm3fl", 0)
    fedbcd, _ = _wall_clock("fedbcd", 0)
    assert done and sm3fl < 0.8 * fedbcd
