"""EdgeUpload baselines: the exact order against brute force, the references, and the expected ordering."""

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401
from baselines import edge_upload as B
from edge_envs.edge_upload import Instance, ToyGenerator, core, edge_cloud


def _brute_area(cfg, inst, uploaded, latency_of):
    """Least expected area over every sequence of runs from ``uploaded`` (a tuple of bools), no memo."""
    if all(uploaded):
        return 0.0
    best = np.inf
    for start, stop in core.runs(len(uploaded)).tolist():
        if any(uploaded[start:stop]):
            continue
        after = tuple(u or start <= i < stop for i, u in enumerate(uploaded))
        area = latency_of(uploaded) * core.expected_upload_seconds(cfg, inst, start, stop, 0)
        best = min(best, area + _brute_area(cfg, inst, after, latency_of))
    return best


def _random_instance(rng, L):
    return Instance(
        name="random-small",
        layer_s=rng.uniform(0.01, 0.1, L),
        param_bytes=rng.uniform(1e5, 5e6, L),
        input_bytes=float(rng.uniform(1e4, 1e6)),
        output_bytes=rng.uniform(1e3, 1e6, L),
        client_speed=np.array([rng.uniform(0.5, 1.2)]),
        server_speed=np.array([rng.uniform(2, 9)]),
        server_is_cloud=np.array([False]),
        client_server_s_per_byte=np.array([1e-7]),
        server_server_s_per_byte=np.zeros((1, 1)),
    )


@pytest.mark.parametrize("case", ["toy", 0, 1, 2])
def test_exact_order__equals_brute_force_over_every_upload_sequence(case):
    cfg = ToyGenerator.config(loss_probability=0.2, confirmation_s=0.05)
    inst = ToyGenerator()() if case == "toy" else _random_instance(np.random.default_rng(case), 5)
    L = inst.num_layers

    def latency_of(uploaded):
        return core.query_latency(inst, np.array([[0 if u else -1 for u in uploaded]]))[0]

    value, _ = B.exact_order(cfg, inst)
    assert value[0] == pytest.approx(_brute_area(cfg, inst, (False,) * L, latency_of), rel=1e-12)


def test_exact_order__toy_optimum_by_hand():
    # l2 first (1.0 x 2 s), then l3 (0.925 x 4 s), then l0-l1 together (0.81 x 4 s): 2 + 3.7 + 3.24 = 8.94
    env = gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator())
    assert B.REFERENCES["exact-order"](env, 0) == pytest.approx(-8.94)
    policy = baselines.make_policy("exact-order", env)
    _, info = env.reset(seed=0)
    total, done = 0.0, False
    while not done:
        _, reward, done, _, info = env.step(policy.act(None, info))
        total += reward
    assert total == pytest.approx(-8.94)


def _episode_return(env, name, seed):
    policy = baselines.make_policy(name, env)
    policy.reset(seed=0)
    obs, info = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, done, _, info = env.step(policy.act(obs, info))
        total += reward
    return total


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_order__no_baseline_beats_it_without_losses(seed):
    env = gym.make("EdgeUpload-v0", loss_probability=0.0)
    reference = B.REFERENCES["exact-order"](env, seed)
    for name in baselines.available("EdgeUpload-v0"):
        assert _episode_return(env, name, seed) <= reference + 1e-9, name
    assert _episode_return(env, "exact-order", seed) == pytest.approx(reference, rel=1e-12)


def test_references__exact_order_is_refused_for_the_multi_user_setting():
    env = gym.make("EdgeUpload-v0", config=edge_cloud())
    with pytest.raises(ValueError, match="1 client and 1 server"):
        B.REFERENCES["exact-order"](env, 0)


def test_direct__uploads_the_best_single_split_whole():
    env = gym.make("EdgeUpload-v0", model="vgg16_224", loss_probability=0.0)
    _, info = env.reset(seed=0)
    state = env.unwrapped.state
    L = state.inst.num_layers
    hop = core.hop_table(state.inst)
    client, server = state.inst.layer_s / state.inst.client_speed[0], state.inst.layer_s / state.inst.server_speed[0]
    sizes = np.concatenate(([state.inst.input_bytes], state.inst.output_bytes))
    forced = [client[:k].sum() + sizes[k] * hop[0, 1] + server[k:].sum() + sizes[-1] * hop[1, 0] for k in range(L)]
    k = int(np.argmin(forced))
    action = baselines.make_policy("direct", env).act(None, info)
    assert action == core.run_index(L, k, L)


def test_baselines__vgg16_ordering_recursive_ionn_direct():
    env = gym.make("EdgeUpload-v0", model="vgg16_224", loss_probability=0.0)
    for seed in (0, 1):
        returns = {name: _episode_return(env, name, seed) for name in ("recursive-efficiency", "ionn", "direct")}
        assert returns["recursive-efficiency"] >= returns["ionn"] >= returns["direct"], returns


def test_pso__places_every_client_and_acts_legally_in_the_edge_cloud_setting():
    env = gym.make("EdgeUpload-v0", config=edge_cloud(model="alexnet"))
    policy = baselines.make_policy("pso", env)
    policy.reset(seed=0)
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        action = policy.act(obs, info)
        assert info["action_mask"][action] == 1
        obs, _, done, _, info = env.step(action)
    assert policy.home.shape == (2, env.unwrapped.num_layers)


@pytest.mark.parametrize(
    "name, partitions, area",
    [
        # penalties (upload time x 1.0 s local latency / 10 s whole upload): at factor 0.25 the path
        # client l0-l1, server l2-l3 (0.975 -> 0.96 s with penalties) beats local-only; the rest goes last
        ("ionn", [(2, 4), (0, 2)], 1.0 * 6 + 0.81 * 4),
        ("direct", [(2, 4), (0, 2)], 1.0 * 6 + 0.81 * 4),  # best single split: client l0-l1, server l2-l3
        ("efficiency", [(2, 3), (3, 4), (0, 2)], 1.0 * 2 + 0.925 * 4 + 0.81 * 4),  # 0.075 / 2 s first
        ("recursive-efficiency", [(2, 3), (3, 4), (0, 2)], 1.0 * 2 + 0.925 * 4 + 0.81 * 4),
    ],
)
def test_baselines__toy_partitions_by_hand(name, partitions, area):
    env = gym.make("EdgeUpload-v0", config=ToyGenerator.config(), generator=ToyGenerator())
    policy = baselines.make_policy(name, env)
    _, info = env.reset(seed=0)
    chosen, total, done = [], 0.0, False
    while not done:
        _, reward, done, _, info = env.step(policy.act(None, info))
        chosen.append(info["partition"])
        total += reward
    assert chosen == partitions and total == pytest.approx(-area)


def _plans(mbps: float, name: str) -> list:
    env = gym.make("EdgeUpload-v0", local_edge_mbps=mbps)
    policy = baselines.make_policy(name, env)
    out = []
    for seed in range(8):
        env.reset(seed=seed)
        out.append(policy.plan(B._state(env), 0))
    return out


def test_ionn__plans_alexnet_as_direct_does_at_10_mbps_and_sends_the_convolutions_first_at_20():
    # AlexNet 224: layers 2-7 are the convolutions after pool1 (10 MB), 8-10 the fully connected ones (234 MB)
    same = [i == d for i, d in zip(_plans(10.0, "ionn"), _plans(10.0, "direct"))]
    assert sum(same) == 7  # the paper's link: IONN's partitions are direct uploading's on 7 of 8 instances
    assert all(plan[0] == (2, 8, 0) for plan in _plans(20.0, "ionn"))
