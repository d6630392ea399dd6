"""MultiServerFL dynamics: Dirichlet shards, handover on a hand-made trajectory, aggregation, latency."""

import numpy as np
import pytest
import torch

from edge_envs.multiserver_fl import core
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.generator import ToyGenerator, dirichlet_shards

TOY = MultiServerFLConfig(num_servers=2, num_vehicles=3, num_rounds=3)


def test_core__dirichlet_shards_deal_every_sample_once_in_the_drawn_proportions():
    labels = np.repeat(np.arange(3), [40, 25, 35])
    shards = dirichlet_shards(labels, 4, 0.5, np.random.default_rng(3))
    assert sorted(np.concatenate(shards).tolist()) == list(range(100))
    rng = np.random.default_rng(3)  # replay the draws: one permutation then one Dirichlet per class
    for c, n in enumerate((40, 25, 35)):
        rng.permutation(n)
        ends = np.floor(np.cumsum(rng.dirichlet(np.full(4, 0.5))) * n).astype(int)
        ends[-1] = n
        expected = np.diff(np.concatenate([[0], ends]))
        assert [int(np.sum(labels[s] == c)) for s in shards] == expected.tolist()


def test_core__dirichlet_shards_are_near_equal_for_a_large_alpha():
    labels = np.repeat(np.arange(10), 50)
    shards = dirichlet_shards(labels, 5, 1e5, np.random.default_rng(0))
    per_class = np.array([[np.sum(labels[s] == c) for c in range(10)] for s in shards])
    assert np.all(np.abs(per_class - 10) <= 1) and per_class.sum() == 500  # 50 per class over 5: 10 +- rounding


def test_core__handover_on_the_toy_trajectory():
    # 20 samples * 2 epochs * 0.1 s = 4 s of training: vehicle 0 goes 100 -> 180 m (RSU 0),
    # vehicle 1 480 -> 560 m (RSU 0 -> RSU 1: a handover), vehicle 2 900 -> 860 m (RSU 1).
    instance = ToyGenerator(TOY)(np.random.default_rng(0))
    x, speeds = instance.vehicles.positions[:, 0], instance.vehicles.speeds
    uploads = core.plan_uploads(TOY, instance, x, speeds)
    assert uploads.origin.tolist() == [0, 0, 1]
    assert uploads.receiver.tolist() == [0, 1, 1]
    np.testing.assert_allclose(uploads.upload_x, [180.0, 560.0, 860.0])
    off = core.plan_uploads(MultiServerFLConfig.from_kwargs(TOY, handover=False), instance, x, speeds)
    assert off.receiver.tolist() == [0, -1, 1]
    late = core.plan_uploads(MultiServerFLConfig.from_kwargs(TOY, round_s=3.0), instance, x, speeds)
    assert late.receiver.tolist() == [-1, -1, -1]


def test_core__toy_state_counts_the_handover_and_the_lost_update():
    instance = ToyGenerator(TOY)(np.random.default_rng(0))
    state = core.initial(TOY, instance, np.random.default_rng(0))
    assert state.served.tolist() == [1, 2] and state.handovers.tolist() == [0, 1] and state.lost.tolist() == [0, 0]
    cfg = MultiServerFLConfig.from_kwargs(TOY, handover=False)
    state = core.initial(cfg, ToyGenerator(cfg)(np.random.default_rng(0)), np.random.default_rng(0))
    assert state.served.tolist() == [1, 1] and state.handovers.tolist() == [0, 0] and state.lost.tolist() == [1, 0]


def test_core__server_average_weighs_updates_by_samples():
    models = torch.tensor([[0.0, 0.0], [9.0, 9.0], [5.0, 5.0]])
    updates = torch.tensor([[1.0, 2.0], [3.0, 6.0], [7.0, 7.0]])
    out = core.server_average(models, updates, np.array([0, 0, 1]), np.array([10.0, 30.0, 5.0]))
    torch.testing.assert_close(out, torch.tensor([[2.5, 5.0], [7.0, 7.0], [5.0, 5.0]]))  # server 2 keeps its model


def test_core__handover_weight_discounts_updates_worse_than_their_origin():
    np.testing.assert_allclose(core.handover_weight([20, 20, 10], [0.3, 0.9, 0.5], [0.6, 0.6, 0.0]), [10.0, 20.0, 10.0])


def test_core__relative_and_absolute_orders_are_inverse():
    m = np.arange(9.0).reshape(3, 3)
    assert core.relative(m).tolist() == [[0, 1, 2], [4, 5, 3], [8, 6, 7]]
    np.testing.assert_array_equal(core.absolute(core.relative(m)), m)


def test_core__transition_mixes_the_local_models_with_the_weights():
    instance = ToyGenerator(TOY)(np.random.default_rng(0))
    state = core.initial(TOY, instance, np.random.default_rng(0))
    weights = np.array([[0.25, 0.75], [0.0, 1.0]])
    after, out = core.transition(state, weights, np.random.default_rng(1))
    torch.testing.assert_close(after.models, torch.from_numpy(weights.astype(np.float32)) @ state.local)
    assert after.round == 1
    np.testing.assert_allclose(out.reward, out.val_acc - state.own_acc - TOY.latency_cost * out.latency_s)
    bits = instance.shape.num_params * 32
    np.testing.assert_allclose(out.peer_s, bits / TOY.backhaul_rate_bps)
    assert out.upload_s[1] >= TOY.handover_delay_s  # the handed-over update waited for the handover


def test_core__weights_off_the_simplex_are_refused():
    with pytest.raises(ValueError, match="sum to 1"):
        core.check_weights(np.full((2, 2), 0.7), 2)
    with pytest.raises(ValueError, match="non-negative"):
        core.check_weights(np.array([[1.5, -0.5], [0.0, 1.0]]), 2)


def test_core__cloud_and_single_server_latency():
    bits = 1e6
    cloud = MultiServerFLConfig(framework="cloud")
    assert core.exchange_latency(cloud, bits) == (0.0, pytest.approx(2 * (bits / cloud.cloud_rate_bps + 0.05)))
    assert core.exchange_latency(MultiServerFLConfig(framework="single-server"), bits) == (0.0, 0.0)


def test_core__cloud_latency_only_in_the_clouds_global_rounds():
    bits = 1e6
    cloud = MultiServerFLConfig(framework="cloud", cloud_period=3)
    trip = 2 * (bits / cloud.cloud_rate_bps + cloud.cloud_delay_s)
    charged = [core.exchange_latency(cloud, bits, r)[1] for r in range(6)]
    assert charged == [0.0, 0.0, pytest.approx(trip), 0.0, 0.0, pytest.approx(trip)]  # rounds 3 and 6 end at the cloud
    assert [core.cloud_round(cloud, r) for r in range(3)] == [False, False, True]
    ms_fl = MultiServerFLConfig(cloud_period=3)  # the period concerns the cloud framework only
    assert core.exchange_latency(ms_fl, bits, 0) == (pytest.approx(4 * bits / ms_fl.backhaul_rate_bps), 0.0)


@pytest.mark.parametrize("fault", ["sign-flip", "noise", "label-flip"])
def test_corrupt__only_the_faulty_server_shares_a_changed_model(fault):
    cfg = MultiServerFLConfig(num_servers=3, num_faulty=1, fault=fault, fault_flip_scale=2.0, fault_noise_std=0.1)
    models = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    local = torch.tensor([[1.5, 1.0], [1.0, 1.0], [3.0, 0.0]])
    out = core.corrupt(cfg, np.array([False, False, True]), models, local, np.random.default_rng(0))
    torch.testing.assert_close(out[:2], local[:2])
    if fault == "sign-flip":  # the update (0, 1) reversed and doubled, from the round's start (3, -1)
        torch.testing.assert_close(out[2], torch.tensor([3.0, -3.0]))
    elif fault == "noise":
        noise = np.random.default_rng(0).standard_normal(2) * 0.1
        torch.testing.assert_close(out[2], local[2] + torch.tensor(noise, dtype=torch.float32))
    else:  # label-flip corrupts the training, not the shared model
        torch.testing.assert_close(out, local)
    torch.testing.assert_close(local, torch.tensor([[1.5, 1.0], [1.0, 1.0], [3.0, 0.0]]))  # input untouched


def test_core__handover_wait_overlaps_the_training_under_the_receiver():
    cfg = MultiServerFLConfig(num_servers=2, rsu_spacing_m=500.0, coverage_radius_m=250.0, handover_delay_s=0.05)
    rsu_x = np.array([250.0, 750.0])  # coverage [0, 500] and [500, 1000]
    receiver, upload_x, speeds = np.array([1, 1, 0]), np.array([500.5, 510.0, 499.6]), np.array([20.0, 20.0, -20.0])
    np.testing.assert_allclose(core.handover_wait(cfg, rsu_x, receiver, upload_x, speeds), [0.05] * 3)  # "full"
    overlap = MultiServerFLConfig.from_kwargs(cfg, handover_wait="overlap")
    # under the receiver for 0.5 / 20 = 0.025 s, 10 / 20 = 0.5 s and 0.4 / 20 = 0.02 s before the upload
    np.testing.assert_allclose(core.handover_wait(overlap, rsu_x, receiver, upload_x, speeds), [0.025, 0.0, 0.03])
