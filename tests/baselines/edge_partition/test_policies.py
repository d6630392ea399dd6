"""Baselines of EdgePartition-v0 and edge_partition_multi_v0, checked against the core and by hand."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import baselines
from baselines.edge_partition import POLICIES
from baselines.edge_partition.search import chain_dp
from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import Instance, ToyGenerator, core

NAMES = sorted(POLICIES)
SINGLE_DEVICE = ("exact-slot", "exact-slot-paced", "exact-slot-queue", "rollout")  # they search one device's placement


def _toy_env(**overrides):
    return gym.make("EdgePartition-v0", config=ToyGenerator.config(**overrides), generator=ToyGenerator())


def _all_placements(n_blocks, n_servers):
    return np.array(list(itertools.product(range(n_servers + 1), repeat=n_blocks)), dtype=np.int64)


def _brute_force(state):
    """Lowest slot cost (minus the reward) over every placement of a single-device B=1 state."""
    everything = _all_placements(state.cfg.num_blocks, state.cfg.num_servers)
    return float(-core.slot_cost(state, everything[None]).reward.max())


def _slot_cost(env, action):
    return float(-core.slot_cost(env.unwrapped.state, np.asarray(action)[None]).reward[0])


class SyntheticGenerator:
    """Random block and server numbers (not profiles), so the property test sees varied instances."""

    def __init__(self, n_blocks, n_servers, fixed_rates):
        self.n_blocks, self.n_servers, self.fixed_rates = n_blocks, n_servers, fixed_rates

    def __call__(self, rng):
        M, N = self.n_blocks, self.n_servers
        size = lambda: rng.uniform(1e3, 1e5, (1, M))  # noqa: E731
        return Instance(
            name="synthetic",
            models=("synthetic",),
            local_s=rng.uniform(1e-3, 0.1, (1, M)),
            edge_s=rng.uniform(1e-3, 0.1, (1, M)),
            input_bytes=size(),
            output_bytes=size(),
            server_xy=rng.uniform(0.0, 2000.0, (N, 2)),
            server_speed=rng.uniform(0.3, 0.6, N),
            fixed_rate_bps=rng.uniform(1e5, 1e7, (1, N)) if self.fixed_rates else None,
        )


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    n_blocks=st.integers(3, 5),
    n_servers=st.integers(2, 3),
    fixed_rates=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
    tight=st.booleans(),
)
def test_chain_dp__equals_brute_force_on_contention_free_instances(n_blocks, n_servers, fixed_rates, seed, tight):
    # tight deadlines make the penalty term of Eq. (14) bind, loose ones leave pure delay
    env = gym.make(
        "EdgePartition-v0",
        contention_free=True,
        num_blocks=n_blocks,
        num_servers=n_servers,
        episode_slots=3,
        deadline_s=(0.01, 0.3) if tight else (1.0, 7.0),
        generator=SyntheticGenerator(n_blocks, n_servers, fixed_rates),
    )
    oracle = baselines.make_policy("chain-dp", env)
    obs, info = env.reset(seed=seed)
    for _ in range(3):
        action = oracle.act(obs, info)
        state = env.unwrapped.state
        best = _brute_force(state)
        assert _slot_cost(env, action) == pytest.approx(best, rel=1e-9, abs=1e-12)
        assert chain_dp(core.block_pair_costs(state))[1][0] == pytest.approx(best, rel=1e-9, abs=1e-12)
        obs, reward, _, _, info = env.step(action)
        assert -reward == pytest.approx(best, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("contention_free", [True, False])
@pytest.mark.parametrize("name", ["pso", "ga"])
def test_swarm_policies__find_the_slot_optimum_on_the_toy_instance(name, contention_free):
    env = _toy_env(contention_free=contention_free)
    policy = baselines.make_policy(name, env, seed=0)
    obs, info = env.reset(seed=0)
    for _ in range(3):
        action = policy.act(obs, info)
        assert _slot_cost(env, action) == pytest.approx(_brute_force(env.unwrapped.state), rel=1e-12)
        obs, _, _, _, info = env.step(action)


@pytest.mark.parametrize("name", ["pso", "ga", "random"])
def test_seeded_policies__repeat_under_the_same_seed(name):
    env = gym.make("EdgePartition-v0", episode_slots=4)

    options = {"pso": {"iterations": 5}, "ga": {"generations": 5}, "random": {}}[name]

    def episode(seed):
        policy = baselines.make_policy(name, env, seed=0, **options)
        policy.reset(seed=seed)
        obs, info = env.reset(seed=1)
        actions = []
        for _ in range(4):
            actions.append(policy.act(obs, info))
            obs, _, _, _, info = env.step(actions[-1])
        return np.array(actions)

    assert np.array_equal(episode(7), episode(7))
    if name == "random":
        assert not np.array_equal(episode(7), episode(8))


def test_chain_dp__ignores_its_own_load_on_the_toy_instance():
    # With contention the chain DP minimises block_pair_costs (current queues, no self-contention):
    # at an empty start all 60 tasks go to server 1, which the slot's real cost punishes, while the
    # exhaustive slot optimum splits the model (hand-checked: [0, 1, 2]).
    env = _toy_env()
    obs, info = env.reset(seed=0)
    action = baselines.make_policy("chain-dp", env).act(obs, info)
    assert action.tolist() == [1, 1, 1]
    state = env.unwrapped.state
    everything = _all_placements(3, 2)
    assert everything[np.argmax(core.slot_cost(state, everything[None]).reward[0])].tolist() == [0, 1, 2]
    assert _slot_cost(env, action) > _brute_force(state)


def test_apdi__spreads_blocks_evenly_in_contiguous_runs():
    env = _toy_env()  # M=3 over N=2: block m -> 1 + floor(2m/3)
    obs, info = env.reset(seed=0)
    assert baselines.make_policy("apdi", env).act(obs, info).tolist() == [1, 1, 2]
    wide = gym.make("EdgePartition-v0", episode_slots=2)  # M=6 over N=4
    obs, info = wide.reset(seed=0)
    assert baselines.make_policy("apdi", wide).act(obs, info).tolist() == [1, 1, 2, 3, 3, 4]
    few = gym.make(
        "EdgePartition-v0",
        config=ToyGenerator.config(num_servers=4),  # M=3 < N=4: distinct servers
        generator=lambda rng: _toy_instance_with_servers(4),
    )
    obs, info = few.reset(seed=0)
    assert baselines.make_policy("apdi", few).act(obs, info).tolist() == [1, 2, 3]


def _toy_instance_with_servers(n):
    toy = ToyGenerator()()
    return Instance(
        name="toy4",
        models=toy.models,
        local_s=toy.local_s,
        edge_s=toy.edge_s,
        input_bytes=toy.input_bytes,
        output_bytes=toy.output_bytes,
        server_xy=np.zeros((n, 2)),
        server_speed=np.ones(n),
        fixed_rate_bps=np.full((1, n), 1e6),
    )


def test_greedy__hand_checked_on_the_toy_instance():
    # Toy: 60 tasks/slot, edge latencies 10, 20, 5 ms, server speeds 1.0 and 0.5.
    env = _toy_env()
    obs, info = env.reset(seed=0)
    greedy = baselines.make_policy("greedy", env)
    # empty queues: block 0 -> server 1 (tie, lowest index; load 60*0.010/1 = 0.6 s),
    # block 1 -> server 2 (0 < 0.6; load 60*0.020/0.5 = 2.4 s), block 2 -> server 1 (0.6 < 2.4)
    assert np.array_equal(info["queue"], [0.0, 0.0])
    assert greedy.act(obs, info).tolist() == [1, 2, 1]
    # queues 2 s and 0 s: block 0 -> server 2 (load 1.2), block 1 -> server 2 (1.2 < 2; load 3.6),
    # block 2 -> server 1 (2 < 3.6)
    assert greedy.act(obs, {**info, "queue": np.array([2.0, 0.0])}).tolist() == [2, 2, 1]
    # a slower server 1 (speed 0.1) with queues 0.5 s and 0 s: block 0 -> server 2 (load 1.2),
    # block 1 -> server 1 (0.5 < 1.2; load 0.5 + 60*0.020/0.1 = 12.5), block 2 -> server 2
    slow = {**info, "queue": np.array([0.5, 0.0]), "server_speed": np.array([0.1, 0.5])}
    assert greedy.act(obs, slow).tolist() == [2, 1, 2]


def test_fixed_policies__hand_checked_on_the_toy_instance():
    env = _toy_env()
    obs, info = env.reset(seed=0)
    assert baselines.make_policy("all-local", env).act(obs, info).tolist() == [0, 0, 0]
    single = baselines.make_policy("best-single-server", env).act(obs, info)
    costs = {n: _slot_cost(env, [n, n, n]) for n in (1, 2)}
    assert single.tolist() == [min(costs, key=costs.get)] * 3


def test_make_policy__unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="available"):
        baselines.make_policy("simulated-annealing", _toy_env())
    with pytest.raises(ValueError, match="available"):
        baselines.make_policy("nope", edge_partition_multi_v0.parallel_env(episode_slots=2))


def test_make_policy__every_name_is_available_for_both_envs():
    assert baselines.available("EdgePartition-v0") == NAMES
    # exact-slot searches one device's placement: the multi-agent env lists every other baseline
    assert baselines.available("edge_partition_multi_v0") == [name for name in NAMES if name not in SINGLE_DEVICE]
    expected = {
        "random",
        "rpdi",
        "apdi",
        "greedy",
        "lpt",
        "all-local",
        "best-single-server",
        "pso",
        "ga",
        "chain-dp",
        "exact-slot",
        "exact-slot-paced",
        "exact-slot-queue",
        "rollout",
        "local-search",
    }
    assert expected == set(NAMES)


MULTI_DEVICE = [name for name in NAMES if name not in SINGLE_DEVICE]  # those refuse several devices (test_exact)


@pytest.mark.parametrize("name", MULTI_DEVICE)
def test_policy__acts_before_reset_raise_a_clear_error(name):
    policy = baselines.make_policy(name, edge_partition_multi_v0.parallel_env(episode_slots=2))
    with pytest.raises(RuntimeError, match="reset"):
        policy.act({}, {})


@pytest.mark.parametrize("name", NAMES)
def test_policy__actions_are_valid_for_the_single_env(name):
    env = gym.make("EdgePartition-v0", model="resnet32", num_blocks=9, num_servers=7, task_rate=110, episode_slots=3)
    policy = baselines.make_policy(name, env, seed=0)
    obs, info = env.reset(seed=2)
    for _ in range(3):
        action = policy.act(obs, info)
        assert env.action_space.contains(action), (name, action)
        obs, _, terminated, truncated, info = env.step(action)
    assert truncated


@pytest.mark.parametrize("name", NAMES)
def test_policy__actions_are_valid_for_the_vector_env(name):
    envs = gym.make_vec("EdgePartition-v0", num_envs=3, vectorization_mode="vector_entry_point", episode_slots=2)
    policy = baselines.make_policy(name, envs, seed=0)
    obs, info = envs.reset(seed=0)
    for _ in range(2):
        actions = policy.act(obs, info)
        assert envs.action_space.contains(actions), (name, actions)
        obs, _, _, _, info = envs.step(actions)


@pytest.mark.parametrize("name", MULTI_DEVICE)
def test_policy__actions_are_valid_for_the_multi_agent_env(name):
    env = edge_partition_multi_v0.parallel_env(episode_slots=3)
    policy = baselines.make_policy(name, env, seed=0)
    observations, infos = env.reset(seed=0)
    while env.agents:
        actions = policy.act(observations, infos)
        assert set(actions) == set(observations)
        for agent, action in actions.items():
            assert env.action_space(agent).contains(action), (name, agent, action)
        observations, _, _, _, infos = env.step(actions)


def test_multi_agent_policies__skip_agents_that_are_done():
    env = edge_partition_multi_v0.parallel_env(episode_slots=3)
    observations, infos = env.reset(seed=0)
    live = {agent: observations[agent] for agent in env.possible_agents[1:3]}
    actions = baselines.make_policy("chain-dp", env).act(live, {a: infos[a] for a in live})
    assert set(actions) == set(live)


def test_multi_agent_greedy__devices_share_the_server_loads():
    # every device's first block sees the loads left by the devices placed before it
    env = edge_partition_multi_v0.parallel_env(episode_slots=3, num_servers=2)
    observations, infos = env.reset(seed=0)
    actions = baselines.make_policy("greedy", env).act(observations, infos)
    state = env.core_state
    load = infos["iot_0"]["queue"].copy()
    speed = infos["iot_0"]["server_speed"]
    for a, agent in enumerate(env.possible_agents):
        for m in range(state.cfg.num_blocks):
            server = int(np.argmin(load))
            assert actions[agent][m] == server + 1
            load[server] += state.cfg.task_rate * state.blocks.edge_work[a, m] / speed[server]


def test_multi_agent_chain_dp__matches_each_devices_pair_cost_optimum():
    env = edge_partition_multi_v0.parallel_env(episode_slots=3, contention_free=True, num_blocks=3, num_servers=2)
    observations, infos = env.reset(seed=4)
    actions = baselines.make_policy("chain-dp", env).act(observations, infos)
    pair_costs = core.block_pair_costs(env.core_state)[0]  # (A, M, L, L)
    everything = _all_placements(3, 2)
    for a, agent in enumerate(env.possible_agents):
        chain = pair_costs[
            a,
            np.arange(3),
            np.concatenate([np.zeros((len(everything), 1), int), everything[:, :-1]], axis=1),
            everything,
        ].sum(axis=1)
        chosen = everything.tolist().index(actions[agent].tolist())
        assert chain[chosen] == pytest.approx(chain.min(), rel=1e-12)


def test_swarm_policies__reject_unknown_search_options():
    with pytest.raises(ValueError, match="allowed: .*particles"):
        baselines.make_policy("pso", _toy_env(), generations=3)
    with pytest.raises(ValueError, match="allowed: .*population"):
        baselines.make_policy("ga", _toy_env(), particles=3)


def test_lpt__hand_checked_on_the_toy_instance():
    # Toy: 60 tasks/slot, device latencies 20, 40, 10 ms, edge 10, 20, 5 ms; empty device queue.
    # Server queues 0.5 s and 0 s, speeds 1.0 and 0.8. Longest first: block 1 (40 ms) finishes at
    # device 2.4, server 1 0.5 + 1.2 = 1.7, server 2 1.2 / 0.8 = 1.5 -> server 2 (ready 1.5);
    # block 0: device 1.2, server 1 0.5 + 0.6 = 1.1, server 2 1.5 + 0.75 -> server 1 (ready 1.1);
    # block 2: device 0.6, server 1 1.1 + 0.3, server 2 1.5 + 0.375 -> the device.
    env = _toy_env()
    obs, info = env.reset(seed=0)
    lpt = baselines.make_policy("lpt", env)
    busy_servers = {"queue": np.array([0.5, 0.0]), "server_speed": np.array([1.0, 0.8])}
    assert lpt.act(obs, {**info, **busy_servers}).tolist() == [1, 2, 0]
    # a slot with every block on the device (60 x 70 ms = 4.2 s of work) leaves it a backlog over
    # 0.8 s, which moves block 2 off it: device > 0.8 + 0.6 = 1.4 = server 1's 1.1 + 0.3 (the tie
    # would go to the device; the backlog is 3.2 s)
    obs, _, _, _, info = env.step(np.array([0, 0, 0]))
    assert env.unwrapped.state.device_queue[0, 0] > 0.8
    assert lpt.act(obs, {**info, **busy_servers}).tolist() == [1, 2, 1]


def test_multi_agent_lpt__devices_share_the_servers_longest_block_first():
    env = edge_partition_multi_v0.parallel_env(episode_slots=3, num_servers=2)
    observations, infos = env.reset(seed=0)
    actions = baselines.make_policy("lpt", env).act(observations, infos)
    state = env.core_state
    local = state.blocks.local_time
    a, m = np.unravel_index(np.argmax(local), local.shape)
    tasks = state.tasks_now[0]
    queue, speed = infos["iot_0"]["queue"], infos["iot_0"]["server_speed"]
    # the longest block of all devices is placed first, on empty loads
    finish = np.concatenate(
        [[state.device_queue[0, a] + tasks[a] * local[a, m]], queue + tasks[a] * state.blocks.edge_work[a, m] / speed]
    )
    assert actions[env.possible_agents[a]][m] == int(np.argmin(finish))
    assert set(actions) == set(env.possible_agents)
    assert all(np.all((act >= 0) & (act <= 2)) for act in actions.values())


def test_lpt__listed_for_the_three_envs():
    for env_id in ("EdgePartition-v0", "edge_partition_multi_v0", "ServiceMigration-v0"):
        assert "lpt" in baselines.available(env_id)
