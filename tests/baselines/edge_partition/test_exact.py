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
        placement, reward = exact.solve(state, method)
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
    best = exact.solve(state, "enumerate")[1]
    assert np.allclose(core.slot_cost(state, actions).reward, best, rtol=1e-12)


def test_pair_tables__match_the_chain_costs_without_contention():
    env = gym.make("EdgePartition-v0", contention_free=True, episode_slots=2)
    env.reset(seed=5)
    state = env.unwrapped.state
    own, work = exact.pair_tables(0, core.slot_cost_args(state), *core.cost_scratch(state))
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


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [{}, {"task_rate": 110.0, "poisson_tasks": True, "energy_budget_j": 60.0}])
def test_lower_bound__is_at_most_every_baselines_cost_on_recorded_episodes(overrides):
    kwargs = {"episode_slots": 12, **overrides}
    env = gym.make("EdgePartition-v0", **kwargs)
    for seed in (0, 1):
        bounds = episode_cost_bounds(env, seed)
        upper = REFERENCES["lower-bound"](env, seed)
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
