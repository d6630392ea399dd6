"""Exogenous processes of EdgePartition (in the core): the random stream, its distributions, the per-slot processes."""

import math

import numpy as np
import pytest

from edge_envs.edge_partition import core, processes
from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.generator import RandomGenerator

MASK = 2**64 - 1


def splitmix64(state: int) -> tuple[int, int]:
    """Reference splitmix64 on Python ints: (output, next state)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31), state


def test_uniform__is_splitmix64_scaled_to_53_bits():
    assert splitmix64(0)[0] == 0xE220A8397B1DCDAF  # the published first output from state 0
    s, ref = np.uint64(12345), 12345
    for _ in range(1000):
        u, s = processes.uniform(s)
        bits, ref = splitmix64(ref)
        assert u == (bits >> 11) * 2.0**-53 and s == ref
        s = np.uint64(s)  # numba hands the state back as a Python int


def _draws(sampler, count, seed=7):
    out, s = np.empty(count), np.uint64(seed)
    for i in range(count):
        out[i], s = sampler(s)
        s = np.uint64(s)  # numba hands the state back as a Python int
    return out


def test_uniform__fills_the_unit_interval_evenly():
    u = _draws(processes.uniform, 100_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.bincount((u * 10).astype(int), minlength=10)
    assert np.abs(counts - 10_000).max() < 500  # about 5 standard deviations


@pytest.mark.parametrize("lam", [3.0, 60.0, 110.0])  # both samplers: multiplication below 10, PTRS above
def test_poisson__matches_the_poisson_distribution(lam):
    n = 100_000
    k = _draws(lambda s: processes.poisson(s, lam), n)
    assert k.min() >= 0 and np.array_equal(k, np.round(k))
    assert k.mean() == pytest.approx(lam, abs=5 * math.sqrt(lam / n))
    assert k.var() == pytest.approx(lam, rel=0.03)
    # chi-square over the values with an expected count of at least 50
    values = np.arange(int(lam + 10 * math.sqrt(lam)) + 10)
    pmf = np.exp(values * math.log(lam) - lam - np.array([math.lgamma(v + 1.0) for v in values]))
    keep = pmf * n >= 50
    observed = np.bincount(k.astype(int), minlength=values.size)[: values.size][keep]
    expected = pmf[keep] * n
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < keep.sum() + 5 * math.sqrt(2 * keep.sum())


def _episode(cfg, seeds, slots):
    """The states of a batch over ``slots`` slots, every block on server 1."""
    gen = RandomGenerator(cfg)
    rngs = [np.random.default_rng(s) for s in seeds]
    state = core.initial(cfg, [gen(r) for r in rngs], rngs)
    states = [state]
    for _ in range(slots):
        state, _ = core.transition(state, np.ones((len(seeds), cfg.num_blocks), dtype=np.int64))
        states.append(state)
    return states


def test_processes__deadlines_tasks_and_server_speeds_stay_in_their_ranges():
    cfg = EdgePartitionConfig(episode_slots=200, poisson_tasks=True, energy_budget_j=1e9)
    states = _episode(cfg, range(8), 200)
    deadline = np.stack([s.deadline_now for s in states])
    assert deadline.min() >= 1.0 and deadline.max() < 7.0
    assert deadline.std() == pytest.approx(6 / math.sqrt(12), rel=0.05)  # uniform on [1, 7]
    tasks = np.stack([s.tasks_now for s in states])
    assert tasks.mean() == pytest.approx(60.0, abs=0.5)
    base = states[0].server_speed
    load = 1.0 - np.stack([s.speed_now for s in states]) / base  # background load of each server, each slot
    assert load.min() >= 0.0 and load.max() <= cfg.background_load + 1e-12
    assert np.abs(np.diff(load, axis=0)).max() <= cfg.background_step + 1e-12  # a reflected walk moves one step at most


def test_processes__devices_walk_inside_the_area_at_their_speed():
    cfg = EdgePartitionConfig(episode_slots=400, energy_budget_j=1e9)
    states = _episode(cfg, range(6), 400)
    xy = np.stack([s.position[:, 0] for s in states])  # (T+1, B, 2)
    assert xy.min() >= 0.0 and xy.max() <= cfg.area_m
    step = np.hypot(*np.moveaxis(np.diff(xy, axis=0), -1, 0))
    assert step.max() <= cfg.walk_speed_mps[1] * cfg.slot_s + 1e-9
    assert step.mean() > cfg.walk_speed_mps[0] * cfg.slot_s * 0.5  # they do move
    still = _episode(EdgePartitionConfig(walk_speed_mps=(0.0, 0.0), episode_slots=20), [0], 20)
    assert all(np.array_equal(s.position, still[0].position) for s in still)


def test_processes__fading_varies_the_rates_of_a_still_device_within_the_clip_range():
    lo, hi = EdgePartitionConfig().rate_range_bps
    for fading in (False, True):
        cfg = EdgePartitionConfig(walk_speed_mps=(0.0, 0.0), fading=fading, episode_slots=50)
        rate = 1.0 / np.stack([s.airtime_now for s in _episode(cfg, [3], 50)])
        assert rate.min() >= lo * (1 - 1e-12) and rate.max() <= hi * (1 + 1e-12)  # 1 / (1 / rate) may round
        assert (np.ptp(rate, axis=0) > 0).any() == fading
