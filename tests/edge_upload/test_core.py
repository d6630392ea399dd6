"""EdgeUpload core: query latency vs brute force, upload times, resends, the mask, latency areas."""

import itertools

import numpy as np
import pytest

from edge_envs.edge_upload import EdgeUploadConfig, IllegalUploadError, RandomGenerator, ToyGenerator, core, edge_cloud


def _brute_latency(inst, where_row, client, share):
    """Every assignment of each layer to the client or the server holding it, walked hop by hop."""
    hop = core.hop_table(inst)
    options = [[0] + ([1 + s] if s >= 0 else []) for s in where_row.tolist()]
    best = np.inf
    for locs in itertools.product(*options):
        t, prev, size = 0.0, 0, inst.input_bytes
        for layer, k in enumerate(locs):
            t += size * hop[prev, k]
            speed = inst.client_speed[client] if k == 0 else inst.server_speed[k - 1] / share[k - 1]
            t += inst.layer_s[layer] / speed
            prev, size = k, inst.output_bytes[layer]
        best = min(best, t + size * hop[prev, 0])
    return best


def test_random_generator__a_profile_without_batch_1_is_refused_naming_profile():
    # issue 33: the shipped GPU profiles are measured at batch 256 only; queries run one at a time
    with pytest.raises(ValueError, match=r"^profile: 'gpu' of alexnet_224 was measured at batch sizes \[256\]"):
        RandomGenerator(EdgeUploadConfig(model="alexnet_224", profile="gpu"))


def test_query_latency__toy_matches_hand_computation():
    inst = ToyGenerator()()
    cases = {(-1, -1, -1, -1): 1.0, (-1, -1, 0, -1): 0.925, (-1, -1, 0, 0): 0.81, (-1, -1, -1, 0): 0.985}
    for where, want in cases.items():
        assert core.query_latency(inst, np.array([where]))[0] == pytest.approx(want)


@pytest.mark.parametrize("model, config", [("alexnet", EdgeUploadConfig()), ("nin", edge_cloud())])
def test_query_latency__equals_brute_force_over_all_splits(model, config):
    cfg = EdgeUploadConfig.from_kwargs(config, model=model)
    rng = np.random.default_rng(0)
    for _ in range(4):
        inst = RandomGenerator(cfg)(rng)
        C, L, S = inst.num_clients, inst.num_layers, inst.num_servers
        where = np.where(rng.random((C, L)) < 0.6, rng.integers(0, S, size=(C, L)), -1)
        share = core.server_share(where, S)
        got = core.query_latency(inst, where)
        for c in range(C):
            assert got[c] == pytest.approx(_brute_latency(inst, where[c], c, share), rel=1e-12)


def test_shortest_path__path_has_the_reported_latency():
    inst = ToyGenerator()()
    compute = core.compute_times(inst, np.array([[-1, -1, 0, 0]]), np.array([0]), np.ones((1, 1)))
    latency, path = core.shortest_path(inst, compute, return_path=True)
    assert path.tolist() == [[0, 0, 1, 1]] and latency[0] == pytest.approx(0.81)


def test_transmission_seconds__from_bandwidth_and_size():
    toy = ToyGenerator()
    cfg, inst = toy.config(confirmation_s=0.5), toy()
    assert core.transmission_seconds(cfg, inst, 0, 1, 0) == pytest.approx(3e6 / 1e6 + 0.5)
    assert core.transmission_seconds(cfg, inst, 1, 4, 0) == pytest.approx(7e6 / 1e6 + 0.5)
    cfg = edge_cloud(model="alexnet_224")
    inst = RandomGenerator(cfg)(np.random.default_rng(0))
    fc6 = inst.param_bytes[8]
    assert core.transmission_seconds(cfg, inst, 8, 9, 0) == pytest.approx(fc6 / 10e6 + 0.01)  # edge: 10 MB/s
    assert core.transmission_seconds(cfg, inst, 8, 9, 7) == pytest.approx(fc6 / 0.5e6 + 0.01)  # cloud: 0.5 MB/s
    assert core.expected_upload_seconds(cfg, inst, 8, 9, 0) == pytest.approx((fc6 / 10e6 + 0.01) / 0.95)


def test_transition__toy_reward_is_latency_times_upload_time():
    toy = ToyGenerator()
    state = core.initial(toy.config(), toy())
    rng = np.random.default_rng(0)
    state, first = core.transition(state, core.run_index(4, 2, 3), rng)
    assert first.duration == pytest.approx(2.0) and first.area[0] == pytest.approx(1.0 * 2.0)
    state, second = core.transition(state, core.run_index(4, 3, 4), rng)
    assert second.area[0] == pytest.approx(0.925 * 4.0) and state.latency[0] == pytest.approx(0.81)
    state, _ = core.transition(state, core.run_index(4, 0, 2), rng)
    assert state.done and state.time == pytest.approx(10.0)


def test_transition__failed_transfer_is_resent_and_counted():
    toy = ToyGenerator()
    cfg = toy.config(loss_probability=0.6, confirmation_s=0.25)
    once = core.transmission_seconds(cfg, toy(), 0, 4, 0)
    counts = []
    for seed in range(300):
        state, outcome = core.transition(core.initial(cfg, toy()), core.run_index(4, 0, 4), np.random.default_rng(seed))
        sent = int(np.random.default_rng(seed).geometric(0.4))  # the same draw, repeated
        assert outcome.transmissions == sent == state.transmissions[0] and state.resends[0] == sent - 1
        assert outcome.duration == pytest.approx(sent * once)
        counts.append(sent)
    assert max(counts) > 1 and np.mean(counts) == pytest.approx(1 / 0.4, rel=0.15)


def test_action_mask__forbids_reupload_and_illegal_action_is_named():
    toy = ToyGenerator()
    state = core.initial(toy.config(), toy())
    assert core.action_mask(state).all()
    state, _ = core.transition(state, core.run_index(4, 1, 3), np.random.default_rng(0))
    legal = {tuple(r) for r, ok in zip(core.runs(4).tolist(), core.action_mask(state)) if ok}
    assert legal == {(0, 1), (3, 4)}
    with pytest.raises(IllegalUploadError, match=r"partition \[0, 2\) holds layer 1, already uploaded"):
        core.transition(state, core.run_index(4, 0, 2), np.random.default_rng(0))
    with pytest.raises(IllegalUploadError, match=r"integer in \[0, 10\)"):
        core.transition(state, 10, np.random.default_rng(0))


def test_server_share__clients_on_one_server_split_its_speed():
    inst = RandomGenerator(edge_cloud(model="alexnet"))(np.random.default_rng(1))
    L = inst.num_layers
    alone = core.query_latency(inst, np.array([[0] * L, [-1] * L]))
    shared = core.query_latency(inst, np.array([[0] * L, [0] * L]))
    assert core.server_share(np.array([[0] * L, [0] * L]), inst.num_servers)[0] == 2
    assert shared[0] > alone[0]


def test_run_index__matches_the_run_table():
    for L in (1, 4, 11):
        for index, (start, stop) in enumerate(core.runs(L).tolist()):
            assert core.run_index(L, start, stop) == index
