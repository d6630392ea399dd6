"""``exact-round`` (baselines.service_migration): exact per round, checked against brute force."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import baselines
import edge_envs  # noqa: F401  (registers the ids)
from baselines.service_migration import REFERENCES, ExactRound, assignments, best_round, round_objective
from edge_envs.service_migration import ServiceMigrationConfig, ServiceMigrationEnv, ToyGenerator, core


def _random_costs(rng, num_edges, num_modalities):
    shape = (num_edges, num_modalities)
    migration = rng.uniform(0.0, 20.0, shape) * (rng.random(shape) < 0.7)
    return core.PairCosts(
        migration=migration, upload=rng.uniform(1.0, 400.0, shape), compute=rng.uniform(1.0, 400.0, shape)
    )


def _brute_force(cfg, costs):
    """Every assignment; rho on a fine geometric grid, then refined by a bounded scalar search."""
    best = np.inf
    for edges in itertools.permutations(range(costs.psi_v.shape[0]), costs.psi_v.shape[1]):
        grid = np.geomspace(cfg.alpha * (1 + 1e-9), cfg.rho_max, 20_000)
        values = round_objective(cfg, costs, np.broadcast_to(edges, (len(grid), len(edges))), grid)
        i = int(np.argmin(values))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        refined = minimize_scalar(
            lambda r: float(round_objective(cfg, costs, np.array(edges), r)),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-14},
        )
        best = min(best, values[i], refined.fun)
    return best


def test_assignments__all_ordered_choices_of_distinct_edges():
    table = assignments(8, 3)
    assert table.shape == (336, 3) and len({tuple(row) for row in table}) == 336
    assert all(len(set(row)) == 3 for row in table.tolist())


@pytest.mark.parametrize("seed", range(6))
def test_best_round__equals_brute_force_on_small_random_instances(seed):
    rng = np.random.default_rng(seed)
    cfg = ServiceMigrationConfig(backend="bound", rho_max=float(rng.choice([0.3, 1.0])))
    costs = _random_costs(rng, num_edges=4, num_modalities=3)
    _, rho, value, _, proved = best_round(cfg, costs)
    assert proved
    brute = _brute_force(cfg, costs)
    assert value <= brute * (1 + 1e-12)
    assert value == pytest.approx(brute, rel=1e-9)
    assert cfg.alpha < rho <= cfg.rho_max


def test_best_round__toy_instance_equals_brute_force():
    env = ServiceMigrationEnv(config=ToyGenerator.config(continuous_rho=True), generator=ToyGenerator())
    _, info = env.reset(seed=0)
    costs = core.pair_costs(env.cfg, info["edges"], info["slowest_rates"], info["capability"])
    edges, _, value, _, _ = best_round(env.cfg, costs)
    assert value == pytest.approx(_brute_force(env.cfg, costs), rel=1e-9)
    assert edges.tolist() == [1, 0]  # the hand-derived SM3FL placement is also the round's best here


def test_best_round__discrete_equals_enumerating_every_action_of_the_env():
    env = gym.make("ServiceMigration-v0", backend="bound").unwrapped
    _, info = env.reset(seed=5)
    costs = core.pair_costs(env.cfg, info["edges"], info["slowest_rates"], info["capability"])
    edges, rho, value, pair, _ = best_round(env.cfg, costs, pair_levels=True, grid=env.cfg.rho_grid)
    brute = np.inf
    for placement in itertools.permutations(range(8), 3):
        for choice in range(env.cfg.num_rho_choices):
            _, r = env.decode_action(np.array([*placement, choice]))
            if isinstance(r, core.PairRho):
                r = core.pair_rho(env.cfg, costs, placement, r.modality)
            brute = min(brute, float(round_objective(env.cfg, costs, np.array(placement), r)))
    assert value == brute


@pytest.mark.parametrize("continuous", [False, True])
def test_exact_round__at_least_as_good_as_every_baseline_each_round(continuous):
    names = ("sm3fl", "fedbcd", "mfl-nsm", "mfl-fr", "mds")
    for name in names:
        env = gym.make("ServiceMigration-v0", backend="bound", continuous_rho=continuous, max_rounds=15)
        cfg = env.unwrapped.cfg
        policy = baselines.make_policy(name, env)
        obs, info = env.reset(seed=2)
        for _ in range(15):
            costs = core.pair_costs(cfg, info["edges"], info["slowest_rates"], info["capability"])
            grid = None if continuous else cfg.rho_grid
            exact = best_round(cfg, costs, cfg.offers_pair_rho, grid).objective
            continuous_exact = best_round(cfg, costs).objective
            obs, _, terminated, truncated, info = env.step(policy.act(obs, info))
            applied = float(round_objective(cfg, costs, info["edges"], info["rho"]))
            assert exact <= applied * (1 + 1e-12), name
            assert continuous_exact <= exact * (1 + 1e-12)
            if terminated or truncated:
                break


def test_best_round__under_a_limit_keeps_sm3fls_assignment_and_the_first_ones_and_says_unproved():
    env = gym.make("ServiceMigration-v0", backend="bound").unwrapped
    _, info = env.reset(seed=5)
    cfg = env.cfg
    costs = core.pair_costs(cfg, info["edges"], info["slowest_rates"], info["capability"])
    full, cut = best_round(cfg, costs), best_round(cfg, costs, limit=10)
    assert full.proved and not cut.proved and cut.objective >= full.objective
    sm3fl_edges, sm3fl_rho = baselines.make_policy("sm3fl", env).decide(info)
    candidates = [tuple(row) for row in assignments(8, 3)[:10]] + [tuple(sm3fl_edges)]
    assert tuple(cut.edges) in candidates
    applied = core.pair_rho(cfg, costs, sm3fl_edges, sm3fl_rho.modality)
    assert cut.objective <= float(round_objective(cfg, costs, sm3fl_edges, applied)) * (1 + 1e-12)
    assert cut.objective == min(best_round(cfg, _only(costs, edges)).objective for edges in candidates)
    assert best_round(cfg, costs, limit=336).proved and not best_round(cfg, costs, limit=335).proved


def _only(costs, edges):
    """``costs`` in which every pair off ``edges`` costs so much that no assignment but ``edges`` can win."""
    keep = np.full(costs.psi_v.shape, 1e30)
    keep[list(edges), np.arange(len(edges))] = 0.0
    return core.PairCosts(costs.migration + keep, costs.upload, costs.compute)


def test_exact_round__counts_the_rounds_it_proves_and_refuses_a_bad_limit():
    env = gym.make("ServiceMigration-v0", backend="bound")
    for limit, share in ((10, 0.0), (336, 1.0)):
        policy = baselines.make_policy("exact-round", env, limit=limit)
        assert np.isnan(policy.proved_share)
        obs, info = env.reset(seed=1)
        for _ in range(3):
            obs, _, _, _, info = env.step(policy.act(obs, info))
        assert (policy.decisions, policy.proved_share) == (3, share)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="limit must be an integer >= 1"):
            baselines.make_policy("exact-round", env, limit=bad)


def test_exact_round__acts_as_a_registered_baseline_and_its_rho_is_applied():
    env = gym.make("ServiceMigration-v0", backend="bound")
    policy = baselines.make_policy("exact-round", env)
    assert isinstance(policy, ExactRound)
    obs, info = env.reset(seed=1)
    costs = core.pair_costs(env.unwrapped.cfg, info["edges"], info["slowest_rates"], info["capability"])
    edges, rho, value, _, _ = best_round(env.unwrapped.cfg, costs, True, env.unwrapped.cfg.rho_grid)
    _, _, _, _, step = env.step(policy.act(obs, info))
    assert step["edges"].tolist() == edges.tolist() and step["rho"] == pytest.approx(rho, rel=1e-12)


def test_references__exact_round_episode_return_is_seeded():
    ((name, reference),) = REFERENCES.items()
    assert "per-round exact" in name
    env = gym.make("ServiceMigration-v0", backend="bound")
    first = reference(env, 3)
    assert first < 0 and first == reference(env, 3)
