"""Core dynamics of EdgePartition: hand-computed toy slots, errata, chain decomposition, the compiled core."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baselines.edge_partition import exact
from edge_envs.edge_partition import core, kernels, layout, processes
from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.env import encode_state, static_features
from edge_envs.edge_partition.generator import RandomGenerator, ToyGenerator
from edge_envs.edge_partition.kernels import CompiledCore
from edge_envs.net import channel


def toy_state(**overrides):
    cfg = ToyGenerator.config(**overrides)
    return core.initial(cfg, ToyGenerator()(), np.random.default_rng(0))


# Toy instance (generator.ToyGenerator): 60 tasks per 1 s slot, tau = 0.5 s per block, beta = 2.
#   device (speed 1): blocks take 0.020, 0.040, 0.010 s; edge profile 0.010, 0.020, 0.005 s;
#   server 1 speed 1.0, server 2 speed 0.5; inputs 8000, 16000, 4000 bits, result 800 bits;
#   device <-> server 1 at 1e6 bit/s, device <-> server 2 at 0.5e6 bit/s, server <-> server 1e7 bit/s;
#   kappa = 1e-26, f = 1e9 Hz, p = 0.1 W.


def test_toy__all_blocks_on_server_1_queue_builds_over_two_slots():
    state = toy_state()
    # Slot 0, placement [1, 1, 1]:
    #   block 0: upload 8000 / 1e6 = 0.008 s + compute 0.010 = 0.018 s; it starts the segment on server 1.
    #   block 1: same server, no transfer; compute 0.020.  block 2: compute 0.005 + result 800 / 1e6 = 0.0008.
    #   server 1 work per task 0.035 s -> utilisation 60 * 0.035 = 2.1; backlog goes 0 -> 1.1 s;
    #   mean wait of the slot's tasks = (0 + 1.1) / 2 = 0.55 s, charged to block 0.
    #   delay = 0.018 + 0.55 + 0.020 + 0.0058 = 0.5938 s.
    #   excess of block 0: max(0, 0.018 + w(s) - 0.5) averaged over s, w(s) = 1.1 s, i.e. the mean of the
    #   positive part of a ramp from -0.482 to 0.618: 0.618^2 / (2 * 1.1) = 0.17360181818 s.
    #   reward = -(0.5938 + 2 * 0.17360181818) = -0.94100363636.
    #   energy: the device uploads the raw image: 0.1 W * 0.008 s = 0.0008 J per task, 0.048 J for 60 tasks.
    state, out = core.transition(state, np.array([[1, 1, 1]]))
    assert out.delay[0] == pytest.approx(0.5938, abs=1e-9)
    assert out.penalty[0] == pytest.approx(0.618**2 / 2.2, abs=1e-9)
    assert out.reward[0] == pytest.approx(-(0.5938 + 2 * 0.618**2 / 2.2), abs=1e-9)
    assert out.energy[0] == pytest.approx(0.048, abs=1e-9)
    np.testing.assert_allclose(out.block_wait[0], [0.55, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(state.queue[0], [1.1, 0.0], atol=1e-9)
    assert state.energy_left[0, 0] == pytest.approx(100 - 0.048, abs=1e-9)
    # Slot 1, same placement: the backlog carried over, 1.1 s, grows to 2.2 s; mean wait 1.65 s.
    #   delay = 0.5938 - 0.55 + 1.65 = 1.6938; excess of block 0: ramp from 0.618 to 1.718, mean 1.168.
    state, out = core.transition(state, np.array([[1, 1, 1]]))
    assert out.delay[0] == pytest.approx(1.6938, abs=1e-9)
    assert out.penalty[0] == pytest.approx(1.168, abs=1e-9)
    assert out.reward[0] == pytest.approx(-(1.6938 + 2 * 1.168), abs=1e-9)
    np.testing.assert_allclose(state.queue[0], [2.2, 0.0], atol=1e-9)


def test_toy__split_placement_pays_each_transfer_and_wait():
    state = toy_state()
    # Placement [0, 1, 2]:
    #   block 0 on the device: no transfer, compute 0.020; device utilisation 60 * 0.020 = 1.2 -> backlog
    #     0 -> 0.2 s, mean wait 0.1.                                             delay 0.120
    #   block 1 on server 1: upload 16000 / 1e6 = 0.016 + compute 0.020; utilisation 1.2, wait 0.1.
    #                                                                            delay 0.136
    #   block 2 on server 2: server-to-server 4000 / 1e7 = 0.0004, result back 800 / 0.5e6 = 0.0016,
    #     compute 0.005 / 0.5 = 0.010; utilisation 0.6 < 1: no wait.            delay 0.012
    #   total 0.268 s; every block ends well before 0.5 s: no penalty.
    #   energy per task: Eq. (4) kappa f^2 c = 1e-26 * 1e18 * (0.020 * 1e9) = 0.2 J for block 0, plus
    #   Eq. (7) 0.1 W * 0.016 s = 0.0016 J for uploading block 1's input: 0.2016 J; 12.096 J for 60 tasks.
    state, out = core.transition(state, np.array([[0, 1, 2]]))
    np.testing.assert_allclose(out.block_delay[0], [0.12, 0.136, 0.012], atol=1e-9)
    np.testing.assert_allclose(out.block_transfer[0], [0.0, 0.016, 0.002], atol=1e-9)
    assert out.delay[0] == pytest.approx(0.268, abs=1e-9)
    assert out.penalty[0] == 0.0
    assert out.reward[0] == pytest.approx(-0.268, abs=1e-9)
    assert out.energy[0] == pytest.approx(12.096, abs=1e-9)
    np.testing.assert_allclose(out.server_load[0], [1.2, 0.6], atol=1e-9)
    np.testing.assert_allclose(state.queue[0], [0.2, 0.0], atol=1e-9)
    assert state.device_queue[0, 0] == pytest.approx(0.2, abs=1e-9)
    # Slot 1: backlogs 0.2 -> 0.4 on the device and server 1, mean waits 0.3: delay 0.268 + 2 * 0.2 = 0.668.
    state, out = core.transition(state, np.array([[0, 1, 2]]))
    assert out.delay[0] == pytest.approx(0.668, abs=1e-9)
    assert state.energy_left[0, 0] == pytest.approx(100 - 2 * 12.096, abs=1e-9)


def test_toy__spent_energy_terminates_with_outage_charge():
    state = toy_state()
    # All local, [0, 0, 0]: per task 10 J/s * (0.020 + 0.040 + 0.010) s = 0.7 J, 42 J per slot.
    # Budget 100 J: 58 J after slot 0, 16 J after slot 1, spent in slot 2 (of 5) -> 2 slots left,
    # outage charge 2 * 10 s. Device utilisation 60 * 0.07 = 4.2: backlog 6.4 -> 9.6 s in slot 2,
    # mean wait 8.0 on block 0; delay 0.07 + 8.0 = 8.07; excess ramp 5.92 -> 9.12, mean 7.52;
    # reward = -(8.07 + 2 * 7.52) - 20 = -43.11.
    for _ in range(2):
        state, out = core.transition(state, np.array([[0, 0, 0]]))
        assert not out.ran_out[0]
    assert state.energy_left[0, 0] == pytest.approx(16.0, abs=1e-9)
    state, out = core.transition(state, np.array([[0, 0, 0]]))
    assert out.ran_out[0] and not state.alive[0, 0]
    assert out.outage[0] == 20.0
    assert out.reward[0] == pytest.approx(-43.11, abs=1e-9)


def test_mean_positive__matches_numeric_average():
    s = np.linspace(0.0, 1.0, 200_001)
    for x0, x1 in [(0.0, 1.1), (-0.482, 0.618), (0.5, -0.25), (-1.0, -2.0), (2.0, 3.0), (0.3, 0.3), (0.0, 0.0)]:
        expected = np.trapezoid(np.maximum(x0 + (x1 - x0) * s, 0.0), s)
        batched = core._mean_positive(np.array([x0]), np.array([x1]))[0]
        assert batched == pytest.approx(expected, abs=1e-8)


def _links(cfg, servers, device):
    """Access and air time per bit from one device at ``device`` (x, y) to ``servers`` (N, 2), no fading."""
    N = len(servers)
    access, airtime = np.empty((1, 1, N)), np.empty((1, 1, N))
    processes._device_links(
        processes.process_params(cfg),
        np.uint64(0),
        0,
        0,
        np.array([servers], float),
        np.array([[device]], float),
        access,
        airtime,
    )
    return access[0, 0], airtime[0, 0]


def test_errata__eq5_rate_uses_noise_density_and_same_location_pays_no_transfer():
    cfg = EdgePartitionConfig(fading=False, rate_range_bps=(1e3, 1e12))
    access, airtime = _links(cfg, [[0.0, 0.0], [300.0, 0.0]], [100.0, 0.0])
    gain = 10 ** (-channel.path_loss_db(np.array([100.0, 200.0]), "log_distance", exponent=3.0, carrier_hz=2.1e9) / 10)
    rate = cfg.bandwidth_hz * np.log2(1 + cfg.tx_power_w * gain / (cfg.noise_psd_w_per_hz * cfg.bandwidth_hz))
    np.testing.assert_allclose(1.0 / access, rate, rtol=1e-12)
    np.testing.assert_array_equal(airtime, access)
    state = toy_state()
    out = core.slot_cost(state, np.array([[2, 2, 2]]))
    np.testing.assert_allclose(out.block_transfer[0, 1], 0.0)  # block 1 follows block 0 on server 2


def test_links__out_of_coverage_server_is_reached_through_the_associated_one():
    cfg = EdgePartitionConfig(fading=False)
    access, airtime = _links(cfg, [[0.0, 0.0], [1900.0, 0.0]], [100.0, 0.0])
    assert airtime[1] == airtime[0]  # the device only talks to server 1
    assert access[1] == airtime[0] + 1.0 / cfg.wired_rate_bps
    lo, hi = cfg.rate_range_bps
    assert lo <= 1.0 / airtime[0] <= hi


def test_energy__eq4_converts_latency_to_cycles_with_the_device_clock():
    cfg = EdgePartitionConfig(device_speed_factor=0.5, device_clock_hz=2e9)
    instance = ToyGenerator()()
    blocks = core.make_blocks(cfg, instance)
    cycles = instance.local_s / 0.5 * 2e9
    np.testing.assert_allclose(blocks.local_energy, 1e-26 * (2e9) ** 2 * cycles, rtol=1e-15)


def test_random_generator__servers_lie_in_the_area_with_speeds_in_range():
    cfg = EdgePartitionConfig()
    instance = RandomGenerator(cfg)(np.random.default_rng(4))
    assert instance.server_xy.shape == (4, 2)
    assert ((instance.server_xy >= 0) & (instance.server_xy <= cfg.area_m)).all()
    lo, hi = cfg.server_speed_factor
    assert ((instance.server_speed >= lo) & (instance.server_speed <= hi)).all()


def test_random_generator__a_device_profile_without_batch_1_is_refused_naming_local_profile():
    # issue 33: the shipped GPU profiles are measured at batch 256 only; the device runs one task at a time
    cfg = EdgePartitionConfig(model="alexnet_224", local_profile="gpu")
    with pytest.raises(ValueError, match=r"^local_profile: .*'gpu' of alexnet_224 was measured at batch sizes \[256\]"):
        RandomGenerator(cfg)
    RandomGenerator(EdgePartitionConfig(model="alexnet_224", edge_profile="gpu"))  # servers may use it


def _random_states(cfg, seeds):
    gen = RandomGenerator(cfg)
    rngs = [np.random.default_rng(s) for s in seeds]
    return core.initial(cfg, [gen(r) for r in rngs], rngs)


@pytest.mark.parametrize("kwargs", [dict(), dict(model="resnet32", num_blocks=9, num_servers=7)])
def test_block_pair_costs__chain_sums_to_slot_cost_when_contention_free(kwargs):
    cfg = EdgePartitionConfig(contention_free=True, episode_slots=20, **kwargs)
    state = _random_states(cfg, range(4))
    rng = np.random.default_rng(1)
    for _ in range(3):
        placements = rng.integers(0, cfg.num_servers + 1, size=(4, 64, cfg.num_blocks))
        pair = core.block_pair_costs(state)  # (B, M, L, L)
        prev = np.concatenate([np.zeros((4, 64, 1), dtype=int), placements[..., :-1]], axis=-1)
        chain = pair[np.arange(4)[:, None, None], np.arange(cfg.num_blocks), prev, placements].sum(-1)
        np.testing.assert_allclose(chain, core.slot_cost(state, placements).cost, rtol=1e-12, atol=0)
        state, _ = core.transition(state, placements[:, 0])


def test_block_pair_costs__exact_for_a_placement_adding_no_load():
    # With no tasks released the placement adds no load, so the myopic costs are exact even with queues.
    cfg = EdgePartitionConfig(episode_slots=20)
    state = _random_states(cfg, range(3))
    for _ in range(5):  # build some backlog
        state, _ = core.transition(state, np.ones((3, cfg.num_blocks), dtype=int))
    assert (state.queue > 0).any()
    state.tasks_now = np.zeros_like(state.tasks_now)
    placements = np.random.default_rng(2).integers(0, cfg.num_servers + 1, size=(3, 32, cfg.num_blocks))
    prev = np.concatenate([np.zeros((3, 32, 1), dtype=int), placements[..., :-1]], axis=-1)
    pair = core.block_pair_costs(state)
    chain = pair[np.arange(3)[:, None, None], np.arange(cfg.num_blocks), prev, placements].sum(-1)
    np.testing.assert_allclose(chain, core.slot_cost(state, placements).cost, rtol=1e-12)


def test_slot_cost__candidate_axis_scores_each_placement_alone():
    cfg = EdgePartitionConfig(episode_slots=10)
    state = _random_states(cfg, [5, 6])
    candidates = np.random.default_rng(0).integers(0, 5, size=(2, 7, 6))
    both = core.slot_cost(state, candidates)
    for k in range(7):
        one = core.slot_cost(state, candidates[:, k])
        np.testing.assert_array_equal(both.reward[:, k], one.reward)
        np.testing.assert_array_equal(both.block_delay[:, k], one.block_delay)


def test_slot_cost__does_not_change_the_state():
    state = toy_state()
    before = state.queue.copy(), state.energy_left.copy(), state.slot.copy()
    core.slot_cost(state, np.array([[1, 1, 1]]))
    assert all(np.array_equal(a, b) for a, b in zip(before, (state.queue, state.energy_left, state.slot)))


@pytest.mark.parametrize(
    "placement, match",
    [
        (np.zeros((1, 4), dtype=int), "shape"),
        (np.full((1, 3), 3), r"\[0, 2\]"),
        (np.full((1, 3), -1), r"\[0, 2\]"),
        (np.zeros((1, 3)), "dtype"),
    ],
)
def test_slot_cost__bad_placement_raises_naming_the_problem(placement, match):
    with pytest.raises(ValueError, match=match):
        core.slot_cost(toy_state(), placement)


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(contention_free=True), dict(task_rate=110, num_servers=2, poisson_tasks=True)]
)
def test_compiled_core__bit_identical_to_the_batched_core(kwargs):
    cfg = EdgePartitionConfig(episode_slots=300, **kwargs)
    state = _random_states(cfg, [42, 43, 44])
    static = static_features(cfg, state.blocks)
    fast = CompiledCore(state.rows(slice(None)), static)
    out = np.empty((3, fast.outcome.size))
    obs = np.empty((3, 5 * cfg.num_blocks + 3 * cfg.num_servers + 4), dtype=np.float32)
    rng = np.random.default_rng(3)
    for _ in range(cfg.episode_slots):
        placement = rng.integers(0, cfg.num_servers + 1, size=(3, cfg.num_blocks))
        state, expected = core.transition(state, placement)
        assert fast.step(placement, np.ones(3, dtype=bool), out, obs) == -1
        next_slot = {
            "queue": state.queue,
            "server_speed": state.speed_now,
            "rate": 1.0 / state.access_now[:, 0],
            "deadline": state.deadline_now[:, 0],
            "next_tasks": state.tasks_now[:, 0],
            "energy_left": state.energy_left[:, 0],
        }
        assert len(fast.outcome.parts) == len(layout.OUTCOME)
        for key, part in fast.outcome.parts.items():
            assert np.array_equal(out[:, part], next_slot[key] if key in next_slot else getattr(expected, key)), key
        assert np.array_equal(obs, encode_state(state, static)[:, 0])
        if expected.ran_out.any():
            break
    for key, value in core._row_arrays(state).items():
        assert np.array_equal(getattr(fast.state, key), value), key


def test_compiled_core__scalars_alone_equal_the_full_outcome_in_either_memory_layout():
    cfg = EdgePartitionConfig(episode_slots=40)
    state = _random_states(cfg, [5, 6, 7])
    static = static_features(cfg, state.blocks)
    cores = [CompiledCore(state.rows(slice(None)), static) for _ in range(3)]
    outs = [np.empty((3, cores[0].outcome.size)), np.empty((3, layout.SCALARS)), np.empty((layout.SCALARS, 3)).T]
    obs = [np.empty((3, 46), dtype=np.float32) for _ in cores]
    rng = np.random.default_rng(1)
    for _ in range(cfg.episode_slots):
        placement = rng.integers(0, cfg.num_servers + 1, size=(3, cfg.num_blocks))
        for fast, out, ob in zip(cores, outs, obs):
            assert fast.step(placement, np.ones(3, dtype=bool), out, ob) == -1
        for out, ob in zip(outs[1:], obs[1:]):
            assert np.array_equal(out, outs[0][:, : layout.SCALARS]) and np.array_equal(ob, obs[0])


def test_compiled_core__inactive_rows_are_left_alone_and_bad_rows_change_nothing():
    cfg = EdgePartitionConfig(episode_slots=20)
    state = _random_states(cfg, [1, 2])
    fast = CompiledCore(state.rows(slice(None)), static_features(cfg, state.blocks))
    out, obs = np.zeros((2, fast.outcome.size)), np.empty((2, 46), dtype=np.float32)
    fast.step(np.ones((2, 6), dtype=np.int64), np.array([True, False]), out, obs)
    assert fast.state.slot.tolist() == [1, 0] and (out[1] == 0).all()
    for key, value in core._row_arrays(state.rows([1])).items():
        assert np.array_equal(getattr(fast.state, key)[1:], value), key
    before = fast.state.rows(slice(None))
    assert fast.step(np.array([[1] * 6, [1, 2, 3, 4, 5, 0]]), np.ones(2, dtype=bool), out, obs) == 1
    for key, value in core._row_arrays(before).items():
        assert np.array_equal(getattr(fast.state, key), value), key


@pytest.mark.slow
def test_compiled_core__threads_give_the_serial_result():
    cfg = EdgePartitionConfig(episode_slots=50, poisson_tasks=True)
    state = _random_states(cfg, range(20))
    static = static_features(cfg, state.blocks)
    cores = [CompiledCore(state.rows(slice(None)), static, parallel=p) for p in (False, True)]
    outs = [np.empty((20, cores[0].outcome.size)) for _ in cores]
    obs = [np.empty((20, 46), dtype=np.float32) for _ in cores]
    rng = np.random.default_rng(0)
    for _ in range(cfg.episode_slots):
        placement = rng.integers(0, 5, size=(20, 6))
        active = rng.random(20) < 0.9
        for fast, out, ob in zip(cores, outs, obs):
            fast.step(placement, active, out, ob)
        assert np.array_equal(outs[0][active], outs[1][active]) and np.array_equal(obs[0], obs[1])
    for key, value in core._row_arrays(cores[0].state).items():
        assert np.array_equal(getattr(cores[1].state, key), value), key


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(contention_free=True),
        dict(task_rate=70, num_servers=2, poisson_tasks=True, energy_budget_j=150.0),
    ],
)
def test_compiled_devices__bit_identical_to_the_batched_core_with_several_devices(kwargs):
    # 3 rows of 4 devices contending for the servers, through one compiled call per slot, against
    # core.transition (numpy); some devices spend their energy (then add no load) in the last case
    cfg = EdgePartitionConfig(episode_slots=80, **kwargs)
    gen = RandomGenerator(cfg, ("alexnet", "vgg16", "nin", "resnet32"))
    rngs = [np.random.default_rng(s) for s in (40, 41, 42)]
    state = core.initial(cfg, [gen(r) for r in rngs], rngs)
    static = static_features(cfg, state.blocks)
    fast = kernels.CompiledDevices(state.rows(slice(None)), static)
    A, size = 4, fast.outcome.size
    out, obs = np.empty((3, A, size)), np.empty((3, A, 5 * cfg.num_blocks + 3 * cfg.num_servers + 4), np.float32)
    rng = np.random.default_rng(3)
    mixed = False  # a slot where some devices had spent their energy and others had not
    for _ in range(cfg.episode_slots):
        placement = rng.integers(0, cfg.num_servers + 1, size=(3, A, cfg.num_blocks))
        mixed |= 0 < state.alive.sum() < state.alive.size
        state, expected = core.transition(state, placement)
        assert fast.step(placement, np.ones(3, dtype=bool), out, obs) == -1
        next_slot = {
            "queue": state.queue[:, None],
            "server_speed": state.speed_now[:, None],
            "rate": 1.0 / state.access_now,
            "deadline": state.deadline_now,
            "next_tasks": state.tasks_now,
            "energy_left": state.energy_left,
            "server_load": expected.server_load[:, None],
            "queue_end": expected.queue_end[:, None],
        }
        for key, part in fast.outcome.parts.items():
            want = next_slot[key] if key in next_slot else getattr(expected, key)
            assert np.array_equal(out[..., part], np.broadcast_to(want, out[..., part].shape)), key
        assert np.array_equal(obs, encode_state(state, static))
    assert mixed == ("energy_budget_j" in kwargs)
    for key, value in core._row_arrays(state).items():
        assert np.array_equal(getattr(fast.state, key), value), key


def test_compiled_devices__bad_location_names_its_row_and_device_and_changes_nothing():
    cfg = EdgePartitionConfig(episode_slots=20)
    gen = RandomGenerator(cfg, ("vgg16", "nin"))
    rngs = [np.random.default_rng(s) for s in (1, 2)]
    state = core.initial(cfg, [gen(r) for r in rngs], rngs)
    fast = kernels.CompiledDevices(state, static_features(cfg, state.blocks))
    before = state.rows(slice(None))
    placement = np.ones((2, 2, 6), dtype=np.int64)
    placement[1, 1, 3] = 5
    out, obs = np.empty((2, 2, layout.SCALARS)), np.empty((2, 2, 46), np.float32)
    assert fast.step(placement, np.ones(2, dtype=bool), out, obs) == 1 * 2 + 1
    for key, value in core._row_arrays(before).items():
        assert np.array_equal(getattr(fast.state, key), value), key
    assert fast.step(placement, np.array([True, False]), out, obs) == -1  # an inactive row is not checked
    assert fast.state.slot.tolist() == [1, 0]


def _run(state, slots, placement=1):
    for _ in range(slots):
        state, _ = core.transition(state, np.full((state.batch_size, state.cfg.num_blocks), placement))
    return state


def test_transition__a_row_does_not_depend_on_its_batch():
    cfg = EdgePartitionConfig(episode_slots=50, poisson_tasks=True)
    batch = _run(_random_states(cfg, [7, 8, 9]), 30)
    alone = _run(_random_states(cfg, [8]), 30)
    for key, value in core._row_arrays(alone).items():
        assert np.array_equal(getattr(batch, key)[1], value[0]), key


def test_transition__contention_free_links_and_speeds_stay_fixed():
    cfg = EdgePartitionConfig(contention_free=True, episode_slots=30)
    first = _random_states(cfg, [1])
    state = _run(first, 20)
    for key in ("speed_now", "access_now", "airtime_now", "position"):
        assert np.array_equal(getattr(state, key), getattr(first, key)), key
    assert not np.array_equal(state.deadline_now, first.deadline_now)
    assert np.isinf(state.energy_left).all()
    state, out = core.transition(state, np.ones((1, 6), dtype=int))
    assert (state.queue == 0).all() and (out.block_wait == 0).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), servers=st.integers(2, 5), blocks=st.integers(3, 7))
def test_transition__queues_stay_non_negative_and_energy_never_grows(seed, servers, blocks):
    cfg = EdgePartitionConfig(num_servers=servers, num_blocks=blocks, episode_slots=15, task_rate=100)
    state = _random_states(cfg, [seed])
    rng = np.random.default_rng(seed)
    for _ in range(cfg.episode_slots):
        energy = state.energy_left.copy()
        state, out = core.transition(state, rng.integers(0, servers + 1, size=(1, blocks)))
        assert (state.queue >= 0).all() and (state.device_queue >= 0).all()
        assert (state.energy_left <= energy).all()
        assert (out.block_delay >= out.block_compute).all() and (out.reward <= 0).all()


def test_outcome__named_scalar_indices_match_the_layout():
    keys = [key for key, _ in layout.OUTCOME]
    names = [
        "REWARD",
        "COST",
        "DELAY",
        "PENALTY",
        "ENERGY",
        "OUTAGE",
        "RAN_OUT",
        "DEVICE_QUEUE_END",
        "DEVICE_LOAD",
        "NEXT_TASKS",
        "ENERGY_LEFT",
    ]
    assert layout.SCALARS == len(names) and [keys[getattr(layout, name)] for name in names] == [
        n.lower() for n in names
    ]
    M, N = 6, 4
    outcome = layout.Outcome(M, N)
    assert outcome.size == layout.SCALARS + 5 * M + 2 * N + 3 * N + M
    assert list(outcome.parts)[layout.SCALARS : layout.SCALARS + 5] == list(layout.Outcome.BLOCK_KEYS)


def test_observation_layout__parts_lie_end_to_end_with_symbolic_indices():
    lay = layout.ObservationLayout(6, 4)
    assert lay.size == 5 * 6 + 3 * 4 + 4 and lay.static == slice(0, 24) and lay.queue == slice(34, 38)
    assert lay.time_left == lay.size - 1 and lay.starts.tolist()[:6] == [0, 6, 12, 18, 24, 30]
    text = layout.ObservationLayout.index_text()
    assert text[0] == "0 .. M-1" and text[6] == "5M+N .. 5M+2N-1" and text[-1] == "5M+3N+3"
    for M, N in ((3, 2), (9, 7)):  # the written indices evaluate to the layout's
        lay = layout.ObservationLayout(M, N)
        for part, written in zip(lay.parts.values(), text):
            first, *last = written.split(" .. ")
            span = (part, part) if isinstance(part, int) else (part.start, part.stop - 1)
            assert [_evaluate(t, M, N) for t in (first, *last)] == list(span[: 1 + len(last)]), written


def _evaluate(text: str, M: int, N: int) -> int:
    """An index written as the docstring writes it ("5M+2N-1") for given M and N."""
    total = 0
    for sign, count, symbol in re.findall(r"([+-]?)(\d*)([MN]?)", text):
        if count or symbol:
            value = (int(count) if count else 1) * {"M": M, "N": N, "": 1}[symbol]
            total += -value if sign == "-" else value
    return total


def test_energy_terms__sum_along_a_placement_to_the_energy_and_outage_the_core_charges():
    cfg = EdgePartitionConfig(num_blocks=5, num_servers=3, episode_slots=50)
    rng = np.random.default_rng(4)
    state = core.initial(cfg, RandomGenerator(cfg)(rng), rng)
    state.slot[:] = 20  # 29 slots left after this one
    placements = rng.integers(0, 4, (64, 5))
    placements[0] = 0  # all on the device
    placements[1] = 2  # all on server 2: only block 0's input is uploaded
    energy, outage = exact.energy_terms(0, exact.slot_cost_args(state))
    outcome = core.slot_cost(state, placements[None])
    for p, row in enumerate(placements):
        path = [0, *row]
        per_task = sum(energy[m, path[m], path[m + 1]] for m in range(5))
        assert state.tasks_now[0, 0] * per_task == pytest.approx(outcome.energy[0, p], rel=1e-12)
    assert outage == 29 * cfg.outage_cost_s
    assert energy[1:, 1:, 1:].max() == 0.0  # server to server: no energy from the device's budget
