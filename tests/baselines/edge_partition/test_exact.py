"""exact-slot and the episode bound of EdgePartition, checked against brute force and by hand."""

import itertools

import gymnasium as gym
import numpy as np
import pytest

import baselines
from baselines.edge_partition import REFERENCES, exact
from baselines.edge_partition.references import episode_cost_bounds
from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import Instance, ToyGenerator, core


def _all_placements(n_blocks, n_servers):
    return np.array(list(itertools.product(range(n_servers + 1), repeat=n_blocks)), dtype=np.int64)


def _brute_force_rewards(state):
    """Every placement's slot reward through the numpy core (core.slot_cost), (B, P)."""
    everything = _all_placements(state.cfg.num_blocks, state.cfg.num_servers)
    return core.slot_cost(state, np.broadcast_to(everything, (state.batch_size, *everything.shape))).reward


class _Synthetic:
    """Random block and server numbers (not profiles), so the instances vary widely."""

    def __init__(self, n_blocks, n_servers):
        self.n_blocks, self.n_servers = n_blocks, n_servers

    def __call__(self, rng):
        M, N = self.n_blocks, self.n_servers
        return Instance(
            name="synthetic",
            models=("synthetic",),
            local_s=rng.uniform(1e-3, 0.05, (1, M)),
            edge_s=rng.uniform(1e-3, 0.03, (1, M)),
            input_bytes=rng.uniform(1e3, 5e4, (1, M)),
            output_bytes=rng.uniform(1e3, 5e4, (1, M)),
            server_xy=rng.uniform(0.0, 2000.0, (N, 2)),
            server_speed=rng.uniform(0.3, 0.9, N),
            fixed_rate_bps=None,
        )


def _contended_state(seed):
    """A random small instance in a random slot, with random queues carried in (and sometimes an energy
    budget about to run out, or tight deadlines), as a single-device state."""
    rng = np.random.default_rng(seed)
    M, N = int(rng.integers(3, 6)), int(rng.integers(2, 4))
    env = gym.make(
        "EdgePartition-v0",
        num_blocks=M,
        num_servers=N,
        episode_slots=10,
        task_rate=float(rng.uniform(20.0, 120.0)),
        poisson_tasks=bool(rng.integers(2)),
        deadline_s=(0.05, 0.5) if rng.integers(2) else (1.0, 7.0),
        penalty_weight=float(rng.uniform(0.0, 3.0)),
        generator=_Synthetic(M, N),
    )
    env.reset(seed=seed)
    for _ in range(int(rng.integers(0, 3))):
        env.step(rng.integers(0, N + 1, M))
    state = env.unwrapped.state.rows(np.arange(1))
    state.queue[:] = rng.exponential(0.5, N) * (rng.random(N) < 0.7)
    state.device_queue[:] = rng.exponential(0.3) * (rng.random() < 0.5)
    if rng.random() < 0.2:
        state.energy_left[:] = rng.uniform(0.0, 5.0)  # the outage charge may decide the slot
    return state


@pytest.mark.parametrize("method", ["enumerate", "branch-and-bound"])
def test_exact_slot__equals_brute_force_on_random_contended_instances(method):
    outages = 0
    for seed in range(120):
        state = _contended_state(seed)
        placement, reward, proved, _, _ = exact.solve(state, method)
        assert proved.all(), seed
        rewards = _brute_force_rewards(state)[0]
        assert reward[0] == pytest.approx(rewards.max(), rel=1e-9, abs=1e-12), seed
        # the returned placement is charged that reward by the env's numpy core
        assert core.slot_cost(state, placement).reward[0] == pytest.approx(rewards.max(), rel=1e-9, abs=1e-12), seed
        outages += bool(
            (core.slot_cost(state, _all_placements(state.cfg.num_blocks, state.cfg.num_servers)[None]).ran_out).any()
        )
    assert outages >= 5  # the outage charge was in play in some instances


def test_exact_slot__picks_the_hand_checked_toy_optimum_where_chain_dp_piles_up():
    # Toy (60 tasks per slot, empty queues): chain-dp ignores the slot's own load and sends every block
    # to server 1 ([1, 1, 1]), charged 0.94 s per task; exact-slot splits the model, [0, 1, 2]: block 0
    # computes 20 ms on the device, block 1 uploads 16 kbit at 1 Mbit/s (16 ms) and computes 20 ms on
    # server 1, block 2 moves 4 kbit at 10 Mbit/s (0.4 ms) and computes 5 ms / 0.5 = 10 ms on server 2,
    # and the 800-bit result returns at 0.5 Mbit/s (1.6 ms). The device and server 1 run at utilisation
    # 60 x 20 ms = 1.2: their backlog ramps from 0 to 0.2 s, a mean wait of 0.1 s each; server 2 (0.6)
    # has none. No deadline (0.5 s) is missed: 0.02 + 0.1 + 0.016 + 0.02 + 0.1 + 0.0004 + 0.01 + 0.0016.
    env = gym.make("EdgePartition-v0", config=ToyGenerator.config(), generator=ToyGenerator())
    obs, info = env.reset(seed=0)
    action = baselines.make_policy("exact-slot", env).act(obs, info)
    assert action.tolist() == [0, 1, 2]
    _, reward, _, _, _ = env.step(action)
    assert -reward == pytest.approx(0.268, rel=1e-12)
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(baselines.make_policy("chain-dp", env).act(obs, info))
    assert -reward == pytest.approx(0.94, abs=0.005)


def test_exact_slot__acts_in_the_vector_env_row_by_row():
    envs = gym.make_vec("EdgePartition-v0", num_envs=3, vectorization_mode="vector_entry_point", episode_slots=2)
    obs, info = envs.reset(seed=3)
    actions = baselines.make_policy("exact-slot", envs).act(obs, info)
    state = envs.unwrapped.state
    best = exact.solve(state, "enumerate").reward
    assert np.allclose(core.slot_cost(state, actions).reward, best, rtol=1e-12)


def test_pair_tables__match_the_chain_costs_without_contention():
    env = gym.make("EdgePartition-v0", contention_free=True, episode_slots=2)
    env.reset(seed=5)
    state = env.unwrapped.state
    own, work = exact.pair_tables(0, exact.slot_cost_args(state), *exact.cost_scratch(state))
    cfg = state.cfg
    expected = core.block_pair_costs(state)[0]
    over = np.maximum(own - state.deadline_now[0, 0][:, None, None], 0.0)
    assert np.allclose((own + cfg.penalty_weight * over)[1:], expected[1:], rtol=1e-12)
    assert np.allclose((own + cfg.penalty_weight * over)[0, 0], expected[0, 0], rtol=1e-12)
    assert np.allclose(work[:, 0], state.blocks.local_time[0])
    assert np.allclose(work[:, 1:], state.blocks.edge_work[0][:, None] / state.speed_now[0][None, :])


def test_exact_slot__refuses_several_devices_and_unknown_methods():
    assert "exact-slot" not in baselines.available("edge_partition_multi_v0")  # so "all" baselines run there
    with pytest.raises(ValueError, match="unknown baseline 'exact-slot' for edge_partition_multi_v0"):
        baselines.make_policy("exact-slot", edge_partition_multi_v0.parallel_env(episode_slots=2))
    with pytest.raises(ValueError, match="method"):
        baselines.make_policy("exact-slot", gym.make("EdgePartition-v0"), method="simplex")
    for bad in (-1, 2.5, True, "100"):
        with pytest.raises(ValueError, match="node_limit must be an integer >= 0"):
            baselines.make_policy("exact-slot", gym.make("EdgePartition-v0"), node_limit=bad)
    env = gym.make("EdgePartition-v0", num_blocks=8, num_servers=9)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"100,000,000 placements exceed ENUMERATION_MAX"):
        exact.solve(env.unwrapped.state, "enumerate")


def test_branch_and_bound__proved_only_where_brute_force_agrees_and_its_bound_holds_under_any_node_limit():
    stopped = 0
    for seed in range(60):
        state = _contended_state(seed)
        best = _brute_force_rewards(state)[0].max()
        M = state.cfg.num_blocks
        for limit in (0, 1, 3, 10, 10**9):
            found = exact.solve(state, "branch-and-bound", node_limit=limit)
            assert found.nodes[0] <= max(limit, M - 1), (seed, limit)  # the first dive always ends in a leaf
            assert core.slot_cost(state, found.placement).reward[0] == pytest.approx(found.reward[0], rel=1e-12)
            tolerance = 1e-9 * (1.0 + abs(best))
            assert found.reward[0] <= best + tolerance <= found.reward_bound[0] + 2 * tolerance, (seed, limit)
            if found.proved[0]:
                assert found.reward[0] == pytest.approx(best, rel=1e-9, abs=1e-12), (seed, limit)
                assert found.reward_bound[0] == found.reward[0]
            stopped += not found.proved[0]
        assert found.proved[0], seed  # unlimited: the search finishes
    assert stopped >= 20  # small limits did stop some searches


def _large_state(energy_left=None, queue=None, device_queue=0.0):
    """Slot 0 of the M = 12, N = 9 scenario of issue 34 (ResNet32, 110 Poisson tasks/s, walk 10-30 m/s,
    seed 1), with the energy left and the queues set by hand."""
    env = gym.make(
        "EdgePartition-v0",
        model="resnet32",
        num_blocks=12,
        num_servers=9,
        task_rate=110.0,
        poisson_tasks=True,
        walk_speed_mps=(10.0, 30.0),
    )
    env.reset(seed=1)
    state = env.unwrapped.state.rows(np.arange(1))
    if energy_left is not None:
        state.energy_left[:] = energy_left
    if queue is not None:
        state.queue[:] = queue
    state.device_queue[:] = device_queue
    return state


def test_branch_and_bound__prices_an_outage_every_placement_pays_and_proves_it_quickly():
    # With 1 mJ left, every placement's slot (over 100 tasks, each uploading its input) runs out of energy:
    # every leaf pays the outage charge. Bounded without it, every node lies 60 s per remaining slot below
    # every leaf, nothing is pruned, and the search would visit all 10^12 placements (issue 34's half hour).
    state = _large_state(energy_left=1e-3)
    found = exact.solve(state, "branch-and-bound", node_limit=2_000)
    assert found.proved[0] and found.nodes[0] <= 100
    assert core.slot_cost(state, found.placement).ran_out[0]
    # on a size brute force covers (M = 6, N = 4), the same slot's search agrees with enumeration
    env = gym.make("EdgePartition-v0", task_rate=110.0, poisson_tasks=True)
    env.reset(seed=1)
    small = env.unwrapped.state.rows(np.arange(1))
    small.energy_left[:] = 1e-3
    found = exact.solve(small, "branch-and-bound")
    assert found.proved[0] and found.nodes[0] <= 100  # of the 3,906 a search without pruning expands
    assert found.reward[0] == pytest.approx(_brute_force_rewards(small)[0].max(), rel=1e-12)
    assert core.slot_cost(small, _all_placements(6, 4)[None]).ran_out.all()


WORST_QUEUES = [0.303, 0.166, 0.163, 0.184, 0.757, 0.275, 0.58, 0.324, 0.747]
"""Server backlogs (s) that make slot 0 of _large_state the hardest for the branch and bound of 600 drawn at
random (queues exponential at scales 0.03-5 s, each server's empty with some probability; device backlog
0.239 s): 4,773 expansions. Moderate queues on every server leave many near-equal placements to tell apart."""


def test_branch_and_bound__keeps_its_node_limit_on_the_hardest_instance_found():
    state = _large_state(queue=WORST_QUEUES, device_queue=0.239)
    full = exact.solve(state, "branch-and-bound", node_limit=10**7)
    assert full.proved[0] and full.nodes[0] <= exact.NODE_LIMIT  # the default limit lets it finish
    for limit in (20, 200, full.nodes[0] - 1):
        found = exact.solve(state, "branch-and-bound", node_limit=int(limit))
        assert found.nodes[0] == limit and not found.proved[0]
        assert found.reward[0] <= full.reward[0] <= found.reward_bound[0] * (1 - 1e-12)
        assert core.slot_cost(state, found.placement).reward[0] == pytest.approx(found.reward[0], rel=1e-12)


def test_exact_slot__counts_the_decisions_it_proves_optimal():
    env = gym.make("EdgePartition-v0", num_blocks=8, task_rate=110.0, episode_slots=4)
    for limit in (0, exact.NODE_LIMIT):
        policy = baselines.make_policy("exact-slot", env, node_limit=limit)
        assert np.isnan(policy.proved_share)
        obs, info = env.reset(seed=0)
        proved = 0
        for _ in range(4):
            proved += int(exact.solve(env.unwrapped.state, node_limit=limit).proved[0])
            obs, _, _, _, info = env.step(policy.act(obs, info))
        assert (policy.decisions, policy.proved, policy.proved_share) == (4, proved, proved / 4)
        assert proved < 4 if limit == 0 else proved == 4


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [{}, {"task_rate": 110.0, "poisson_tasks": True, "energy_budget_j": 60.0}])
def test_lower_bound__is_at_most_every_baselines_cost_on_recorded_episodes(overrides):
    kwargs = {"episode_slots": 12, **overrides}
    env = gym.make("EdgePartition-v0", **kwargs)
    for seed in (0, 1):
        bounds = episode_cost_bounds(env, seed)
        upper = REFERENCES["return-bound"](env, seed)
        assert upper == pytest.approx(-bounds.sum(), rel=1e-12)
        for name in sorted(set(baselines.available("EdgePartition-v0")) - {"rpdi"}):
            policy = baselines.make_policy(name, env, seed=0)
            obs, info = env.reset(seed=seed)
            episode_return, done, t = 0.0, False, 0
            while not done:
                obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
                if not terminated:  # a slot's cost is at least its bound (the slot of an outage: more)
                    assert -reward >= bounds[t] * (1 - 1e-9), (name, seed, t)
                episode_return += reward
                done, t = terminated or truncated, t + 1
            assert episode_return <= upper + 1e-9 * abs(upper), (name, seed)


def test_references__the_old_name_lower_bound_still_answers_with_a_warning():
    assert list(REFERENCES) == ["return-bound", "lagrangian-bound"]  # listed once, under the name of what it returns
    assert "lower-bound" in REFERENCES and "lower-bound" in baselines.references("EdgePartition-v0")
    with pytest.warns(DeprecationWarning, match="'lower-bound' is renamed 'return-bound'"):
        assert REFERENCES["lower-bound"] is REFERENCES["return-bound"]
    with pytest.warns(DeprecationWarning):
        assert baselines.references("EdgePartition-v0")["lower-bound"] is REFERENCES["return-bound"]
    with pytest.raises(KeyError):
        REFERENCES["upper-bound"]
