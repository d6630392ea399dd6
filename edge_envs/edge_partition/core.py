"""Dynamics of EdgePartition (seed 002, Eqs. 3-14), over a leading batch axis B of instances.

A slot of ``slot_s`` seconds: device ``a`` releases ``K_a`` tasks of its DNN, spread evenly over the
slot; every task of the slot follows the same placement ``p`` (location 0 = the device, n = edge
server n). For block m at location l = p_m, with p_{-1} = 0 (the raw image is on the device):

* transfer of the block's input (Eq. 5): 0 if p_{m-1} = l; ``I_m / R`` between the device and a server
  (R: the wireless rate to a server in coverage; a server out of coverage is reached through the
  associated server: ``I_m / R_assoc + I_m / R_max``); ``I_m / R_max`` between two servers. The last
  block's result goes back to the device the same way (its delay is added to the last block).
* compute (Eqs. 3, 6): the profiled latency over the device's speed factor, or over the server's
  speed this slot (base speed x (1 - background load)).
* waiting: each location is a FIFO queue (per device for the device's CPU, shared by all devices for
  a server). A block that starts a *segment* (block 0, or a block whose predecessor ran elsewhere)
  joins the queue of its location and waits behind the work queued there. Fluid model: a location
  with backlog ``b`` seconds at the slot start and utilisation ``rho`` (the slot's work there over
  ``slot_s``) shows a task released at time ``s`` in the slot the backlog ``max(0, b + (rho - 1) s)``;
  delays and penalties are averaged exactly over the release times (closed form ``_mean_positive``),
  and the backlog left, ``max(0, b + (rho - 1) slot_s)``, carries over to the next slot.
* block delay (Eqs. 8, 9): transfer + wait + compute; excess over the deadline tau_m (Eq. 13),
  averaged over the slot's tasks; per-task cost = sum_m delay + penalty_weight * sum_m excess, and
  the reward (Eq. 14) is minus the cost (ERRATA: beta of Eq. 14 is ``penalty_weight``).
* energy (Eqs. 4, 7): a block run locally costs ``kappa (f^l)^2 c_m`` with cycles ``c_m = L^l_m f^l``;
  each transmission by the device costs ``p_m`` times its air time (receptions and server-to-server
  transfers cost the device nothing). The budget E_max is drawn down by the slot's tasks (Eq. 11);
  when it is spent the device stops, and the slot's reward is charged ``outage_cost_s`` per slot left.

Every random draw of an episode (tasks per slot, deadlines, background load, mobility, fading) is
made in :func:`initial`, one trace per instance from its own Generator, so a transition is
deterministic and an instance's trajectory does not depend on the batch it runs in.

Contention-free configuration: no waiting (each task is served as if alone), fixed speeds, a still
device without fading, no energy limit; :func:`block_pair_costs` chained along a placement then sums
exactly to the slot's per-task cost, so each slot is a shortest-path problem.

:class:`RowCore` runs one instance through a compiled kernel (the single env's fast path); it
performs the same floating-point operations in the same order as the batched functions, and the
tests hold the two to bit-identical trajectories.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.generator import Instance
from edge_envs.net import channel

DEVICE = 0


@dataclass(frozen=True, eq=False)
class Blocks:
    """Per-block constants shared by every instance of a batch, (A, M) unless noted."""

    local_time: np.ndarray  # s: compute time on the device (profile / device_speed_factor), Eq. (3)
    edge_work: np.ndarray  # s: latency in the edge profile; / server speed gives Eq. (6)
    input_bits: np.ndarray  # I_m (block 0: the raw image)
    result_bits: np.ndarray  # (A,): the last block's output, sent back to the device
    output_bits: np.ndarray  # activation leaving each block (observation only)
    local_energy: np.ndarray  # J: kappa (f^l)^2 c_m with c_m = local_time f^l, Eq. (4)


@dataclass(eq=False)
class State:
    """Batched state: arrays with leading axis B (A devices, M blocks, N servers, T slots).

    Trace arrays (``trace_*``, axis 1 = slot 0..T) hold the episode's exogenous draws; ``*_now`` are
    the current slot's values (what the observation and the costs read).
    """

    cfg: EdgePartitionConfig
    blocks: Blocks
    slot: np.ndarray  # (B,) int: index t of the current slot
    queue: np.ndarray  # (B, N): server backlog at the slot start, s at this slot's speeds
    device_queue: np.ndarray  # (B, A): device CPU backlog, s
    energy_left: np.ndarray  # (B, A): J
    alive: np.ndarray  # (B, A) bool: energy not yet spent
    server_xy: np.ndarray  # (B, N, 2)
    trace_tasks: np.ndarray  # (B, T+1, A) float64: tasks released in each slot
    trace_deadline: np.ndarray  # (B, T+1, A, M) float32: tau_m
    trace_speed: np.ndarray  # (B, T+1, N) float32: server speed factors
    trace_access: np.ndarray  # (B, T+1, A, N) float32: s/bit from the device to each server (Eq. 5)
    trace_airtime: np.ndarray  # (B, T+1, A, N) float32: device air time per bit sent towards each server
    tasks_now: np.ndarray  # (B, A)
    deadline_now: np.ndarray  # (B, A, M)
    speed_now: np.ndarray  # (B, N)
    access_now: np.ndarray  # (B, A, N)
    airtime_now: np.ndarray  # (B, A, N)

    @property
    def batch_size(self) -> int:
        return self.slot.shape[0]

    @property
    def num_devices(self) -> int:
        return self.device_queue.shape[1]

    def rows(self, index) -> State:
        """The instances ``index`` (an int array or slice) as a State of their own (copies)."""
        return dataclasses.replace(self, **{k: v[index].copy() for k, v in _row_arrays(self).items()})

    def set_rows(self, index, other: State, other_index=None) -> None:
        """Overwrite instances ``index`` with ``other``'s (same cfg and blocks), in place; with
        ``other_index``, with ``other``'s instances ``other_index``."""
        for key, value in _row_arrays(other).items():
            getattr(self, key)[index] = value if other_index is None else value[other_index]


def _row_arrays(state: State) -> dict:
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name not in ("cfg", "blocks")}


@dataclass(eq=False)
class SlotOutcome:
    """What applying a placement in the current slot costs; per-task values are means over the slot's
    tasks. Shapes (B, [P,] A) unless noted; the A axis is dropped for single-device states."""

    reward: np.ndarray  # -(delay + penalty_weight * penalty) - outage  (Eq. 14)
    cost: np.ndarray  # delay + penalty_weight * penalty, s per task
    delay: np.ndarray  # sum_m L_m (Eq. 9), s per task
    penalty: np.ndarray  # psi = sum_m max(L_m - tau_m, 0) (Eq. 13), s per task
    energy: np.ndarray  # J drawn from the budget by the slot's tasks (Eqs. 4, 7)
    outage: np.ndarray  # outage charge (only in the slot the energy runs out)
    ran_out: np.ndarray  # bool: the energy ran out in this slot
    block_delay: np.ndarray  # (..., M): L_m
    block_transfer: np.ndarray  # (..., M): input transfer (plus the result's return for the last block)
    block_compute: np.ndarray  # (..., M)
    block_wait: np.ndarray  # (..., M): mean queueing delay
    block_excess: np.ndarray  # (..., M): mean max(L_m - tau_m, 0)
    server_load: np.ndarray  # (B, [P,] N): utilisation rho of each server this slot
    device_load: np.ndarray  # utilisation of the device CPU
    queue_end: np.ndarray  # (B, [P,] N): server backlog left at the slot end, s (this slot's speeds)
    device_queue_end: np.ndarray  # device backlog left, s


# ---------------------------------------------------------------------------------------------
# initial state: instance constants and the episode's exogenous trace


def make_blocks(cfg: EdgePartitionConfig, instance: Instance) -> Blocks:
    """Per-block constants of ``instance`` under ``cfg`` (speed factor, clock, kappa)."""
    local_time = instance.local_s / cfg.device_speed_factor
    cycles = local_time * cfg.device_clock_hz  # c_m = L^l_m f^l (Eq. 3 read backwards)
    arrays = dict(
        local_time=local_time, edge_work=np.array(instance.edge_s, dtype=np.float64),
        input_bits=instance.input_bytes * 8.0, result_bits=instance.output_bytes[:, -1] * 8.0,
        output_bits=instance.output_bytes * 8.0,
        local_energy=cfg.energy_coefficient * cfg.device_clock_hz**2 * cycles,  # Eq. (4)
    )
    for value in arrays.values():
        value.setflags(write=False)
    return Blocks(**arrays)


def _reflect(x: np.ndarray, top: float) -> np.ndarray:
    """Fold x into [0, top] as a billiard ball would (a reflected random walk): a triangle wave of
    period 2 top."""
    phase = x * (0.5 / top)
    phase -= np.floor(phase)  # position in the period, [0, 1)
    return top * (1.0 - np.abs(2.0 * phase - 1.0))


def _draw_legs(rng: np.random.Generator, cfg: EdgePartitionConfig, count: int) -> np.ndarray:
    """``count`` random-waypoint legs (count, 3): waypoint x, y uniform in the area, speed uniform in
    ``walk_speed_mps``."""
    legs = rng.random((count, 3))
    legs[:, :2] *= cfg.area_m
    low, high = cfg.walk_speed_mps
    legs[:, 2] = low + (high - low) * legs[:, 2]
    return legs


def _draw_trace(cfg: EdgePartitionConfig, instance: Instance, rng: np.random.Generator) -> dict:
    """One instance's exogenous draws for slots 0..T, in a fixed order (the per-row part; the
    arithmetic on them is batched over instances in :func:`initial`)."""
    T1, A, M, N = cfg.episode_slots + 1, instance.num_devices, instance.num_blocks, instance.num_servers
    mean_tasks = cfg.task_rate * cfg.slot_s
    if cfg.poisson_tasks:
        tasks = rng.poisson(mean_tasks, size=(T1, A)).astype(np.float64)
    else:
        tasks = np.full((T1, A), float(round(mean_tasks)))
    draws = dict(tasks=tasks, deadline=rng.random((T1, A, M), dtype=np.float32))  # scaled in initial()
    if not (cfg.contention_free or cfg.background_load == 0.0):
        # background load: a random walk started uniformly, steps uniform in +-background_step
        draws["walk"] = rng.random((T1, N), dtype=np.float32)
    if instance.fixed_rate_bps is None:
        start = instance.device_xy if instance.device_xy is not None else rng.uniform(0.0, cfg.area_m, size=(A, 2))
        draws["start"] = start
        if not (cfg.contention_free or cfg.walk_speed_mps[1] == 0.0):
            draws["legs"] = [_draw_legs(rng, cfg, 8) for _ in range(A)]
        if cfg.fading and not cfg.contention_free:
            draws["fading"] = rng.standard_exponential((T1, A, N), dtype=np.float32)  # Rayleigh: |h|^2 ~ Exp(1)
    return draws


def _background_speed(cfg: EdgePartitionConfig, base_speed: np.ndarray, walks: list) -> np.ndarray:
    """Server speeds (R, T+1, N): base speed x (1 - background load), the load a reflected walk."""
    if not walks:
        return np.broadcast_to(base_speed[:, None, :], (base_speed.shape[0], cfg.episode_slots + 1,
                                                       base_speed.shape[1]))
    u = np.stack(walks)  # (R, T+1, N) float32 uniforms; traces are float32, so is this arithmetic
    u[:, 0] *= cfg.background_load  # start uniform in [0, background_load]
    u[:, 1:] = cfg.background_step * (2.0 * u[:, 1:] - 1.0)
    load = _reflect(np.cumsum(u, axis=1), cfg.background_load)
    return base_speed.astype(np.float32)[:, None, :] * (1.0 - load)


def _tracks(cfg: EdgePartitionConfig, draws: list[dict], rngs: list) -> np.ndarray:
    """Device positions (R, T+1, A, 2) at the slot starts along random-waypoint tracks: straight legs
    to waypoints uniform in the area, speeds uniform in ``walk_speed_mps``, no pause. A track whose
    legs end before the episode does draws 8 more legs from its row's Generator (after its other draws)."""
    T1 = cfg.episode_slots + 1
    horizon = cfg.episode_slots * cfg.slot_s
    starts = np.stack([d["start"] for d in draws])  # (R, A, 2)
    R, A = starts.shape[:2]
    if "legs" not in draws[0]:
        return np.broadcast_to(starts[:, None], (R, T1, A, 2))
    legs = [list(d["legs"]) for d in draws]
    while True:
        K = max(len(leg) for row in legs for leg in row)
        points = np.empty((R, A, K + 1, 2))
        speeds = np.ones((R, A, K))
        points[:, :, 0] = starts
        for r in range(R):
            for a in range(A):
                n = len(legs[r][a])
                points[r, a, 1:n + 1] = legs[r][a][:, :2]
                points[r, a, n + 1:] = legs[r][a][-1, :2]  # padding: zero-length legs at the last waypoint
                speeds[r, a, :n] = legs[r][a][:, 2]
        step = np.diff(points, axis=2)
        arrival = np.zeros((R, A, K + 1))
        arrival[..., 1:] = np.cumsum(np.hypot(step[..., 0], step[..., 1]) / speeds, axis=-1)
        short = np.argwhere(arrival[..., -1] < horizon)
        if not len(short):
            break
        for r, a in short:
            legs[r][a] = np.concatenate([legs[r][a], _draw_legs(rngs[r], cfg, 8)])
    # one searchsorted over all tracks, each track's times shifted past the previous track's
    span = arrival[..., -1].max() + horizon + 1.0
    offset = (np.arange(R * A) * span).reshape(R, A, 1)
    slot_start = np.arange(T1) * cfg.slot_s
    times = slot_start + offset  # (R, A, T1)
    leg = np.searchsorted((arrival + offset).ravel(), times.ravel(), side="right").reshape(R, A, T1) - 1
    leg = np.minimum(leg - (np.arange(R * A) * (K + 1)).reshape(R, A, 1), K - 1)
    at = leg + (np.arange(R * A) * (K + 1)).reshape(R, A, 1)  # flat index of each slot's leg start
    t0, t1 = np.take(arrival, at), np.take(arrival, at + 1)
    # fraction of the leg covered (from the unshifted times, so a row does not depend on its batch)
    frac = np.clip((slot_start - t0) / np.maximum(t1 - t0, 1e-12), 0.0, 1.0)
    out = np.empty((R, T1, A, 2))
    for c in range(2):  # x, then y: one coordinate at a time keeps the arrays contiguous
        coord = np.ascontiguousarray(points[..., c]).ravel()
        p0, p1 = np.take(coord, at), np.take(coord, at + 1)
        out[..., c] = np.moveaxis(p0 + frac * (p1 - p0), 1, 2)
    return out


@functools.lru_cache(maxsize=64)
def _gain_at_1m(exponent: float, carrier_hz: float) -> float:
    """Mean log-distance path gain at the 1 m reference (edge_envs.net.channel)."""
    return float(channel.channel_gain(1.0, model="log_distance", fading=False, exponent=exponent,
                                      carrier_hz=carrier_hz))


def _links(cfg: EdgePartitionConfig, server_xy: np.ndarray, positions: np.ndarray, fading):
    """Access time and device air time per bit (R, T+1, A, N) float32 from positions (R, T+1, A, 2).

    Rate (Eq. 5, ERRATA: N0 is a density): ``B log2(1 + p g |h|^2 / (N0 B))`` with |h|^2 Rayleigh and
    g the log-distance path gain of :mod:`edge_envs.net.channel` (reference: free space at 1 m),
    ``g(d) = g(1 m) d^-n``; rates are clipped to ``rate_range_bps``. The device associates with its
    nearest server; servers within ``coverage_m`` are reached directly, the others through the
    associated server and the wired link R_max.
    """
    snr_1m = cfg.tx_power_w * _gain_at_1m(cfg.path_loss_exponent, cfg.carrier_hz) / (
        cfg.noise_psd_w_per_hz * cfg.bandwidth_hz)
    positions, server_xy = positions.astype(np.float32), server_xy.astype(np.float32)  # float32 like the traces
    dx = positions[..., None, 0] - server_xy[:, None, None, :, 0]
    dy = positions[..., None, 1] - server_xy[:, None, None, :, 1]
    squared = np.maximum(dx * dx + dy * dy, 1.0)  # distances below 1 m count as 1 m
    if cfg.path_loss_exponent == 3.0:  # the default: d^-3 without a general power
        gain = snr_1m / (squared * np.sqrt(squared))
    else:
        gain = snr_1m * squared ** (-0.5 * cfg.path_loss_exponent)
    rate = cfg.bandwidth_hz * np.log2(1.0 + gain * fading)
    np.clip(rate, *cfg.rate_range_bps, out=rate)
    airtime = 1.0 / rate
    N = squared.shape[-1]
    nearest = np.argmin(squared, axis=-1)[..., None]
    relayed = (squared > cfg.coverage_m**2) & (np.arange(N) != nearest)
    nearest_airtime = np.take(airtime.ravel(), (np.arange(nearest.size) * N).reshape(nearest.shape) + nearest)
    airtime = np.where(relayed, nearest_airtime, airtime)
    access = airtime + relayed * (1.0 / cfg.wired_rate_bps)
    return access, airtime


def initial(cfg: EdgePartitionConfig, instance: Instance | Sequence[Instance],
            rng: np.random.Generator | Sequence[np.random.Generator]) -> State:
    """Start of an episode for each (instance, rng) pair: empty queues, full energy, slot 0.

    A single Instance and Generator give B = 1. Each instance draws its whole exogenous trace from its
    own Generator, so row b of a batch equals the same (instance, rng) run alone.
    """
    instances = [instance] if isinstance(instance, Instance) else list(instance)
    rngs = [rng] if isinstance(rng, np.random.Generator) else list(rng)
    if len(instances) != len(rngs):
        raise ValueError(f"rng: need one Generator per instance ({len(instances)}), got {len(rngs)}")
    first = instances[0]
    A, M, N = first.num_devices, first.num_blocks, first.num_servers
    if (M, N) != (cfg.num_blocks, cfg.num_servers):
        raise ValueError(f"instance: has {M} blocks and {N} servers but the config says num_blocks="
                         f"{cfg.num_blocks}, num_servers={cfg.num_servers}")
    draws = [_draw_trace(cfg, inst, g) for inst, g in zip(instances, rngs)]
    stack = lambda key: np.stack([d[key] for d in draws])  # noqa: E731
    low, high = cfg.deadline_s
    deadline = stack("deadline")
    deadline *= high - low
    deadline += low  # tau_m uniform in deadline_s
    server_xy = np.stack([inst.server_xy for inst in instances]).astype(np.float64)
    speed = _background_speed(cfg, np.stack([inst.server_speed for inst in instances]),
                              [d["walk"] for d in draws if "walk" in d])
    if first.fixed_rate_bps is None:
        positions = _tracks(cfg, draws, rngs)
        fading = stack("fading") if "fading" in draws[0] else np.float32(1.0)
        access, airtime = _links(cfg, server_xy, positions, fading)
    else:
        fixed = 1.0 / np.stack([inst.fixed_rate_bps for inst in instances])
        access = airtime = np.broadcast_to(fixed[:, None], (len(instances), cfg.episode_slots + 1, A, N))
    B = len(instances)
    state = State(
        cfg=cfg, blocks=make_blocks(cfg, first), slot=np.zeros(B, dtype=np.int64),
        queue=np.zeros((B, N)), device_queue=np.zeros((B, A)),
        energy_left=np.full((B, A), np.inf if cfg.contention_free else cfg.energy_budget_j),
        alive=np.ones((B, A), dtype=bool), server_xy=server_xy,
        trace_tasks=stack("tasks"), trace_deadline=deadline, trace_speed=speed.astype(np.float32),
        trace_access=np.ascontiguousarray(access, dtype=np.float32),
        trace_airtime=np.ascontiguousarray(airtime, dtype=np.float32),
        tasks_now=None, deadline_now=None, speed_now=None, access_now=None, airtime_now=None)
    return dataclasses.replace(state, **_slot_arrays(state, state.slot))


def _slot_arrays(state: State, slot: np.ndarray) -> dict:
    """The ``*_now`` arrays of every row at slot index ``slot`` (B,), read from the traces."""
    B, T1 = state.trace_tasks.shape[:2]
    flat = np.arange(B) * T1 + slot

    def pick(trace):
        return np.take(trace.reshape((B * T1,) + trace.shape[2:]), flat, axis=0).astype(np.float64)

    return dict(tasks_now=pick(state.trace_tasks), deadline_now=pick(state.trace_deadline),
                speed_now=pick(state.trace_speed), access_now=pick(state.trace_access),
                airtime_now=pick(state.trace_airtime))


def _with_device(x: np.ndarray, device_value: float) -> np.ndarray:
    """x (..., N) per server -> (..., N+1) per location, ``device_value`` at location 0."""
    out = np.empty(x.shape[:-1] + (x.shape[-1] + 1,))
    out[..., 0] = device_value
    out[..., 1:] = x
    return out


# ---------------------------------------------------------------------------------------------
# costs of a placement


def _mean_positive(x0, x1):
    """Mean over s in [0, 1] of max(0, x0 + (x1 - x0) s): the positive part of a linear ramp.

    With p = max(x0, 0) + max(x1, 0): p / 2 when both ends have the same sign (or one is zero);
    otherwise only one end is positive and the triangle above zero averages p^2 / (2 |x1 - x0|).
    """
    p = np.maximum(x0, 0.0) + np.maximum(x1, 0.0)
    out = 0.5 * p
    np.divide(p * p, 2.0 * np.abs(x1 - x0), out=out, where=x0 * x1 < 0.0)
    return out


def _sum_blocks(x: np.ndarray) -> np.ndarray:
    """Sum of a block-major array (M, ...) over its blocks, strictly in block order (as RowCore adds)."""
    total = x[0].copy()
    for m in range(1, x.shape[0]):
        total += x[m]
    return total


@functools.lru_cache(maxsize=64)
def _pair_of_row(B: int, P: int, A: int) -> np.ndarray:
    """(R,) index b * A + a of the (instance, device) of each row r = (b, candidate, a)."""
    pair = (np.arange(B)[:, None, None] * A + np.arange(A)[None, None, :]).repeat(P, axis=1).ravel()
    pair.setflags(write=False)
    return pair


def _canonical(state: State, placement) -> tuple[np.ndarray, bool]:
    """placement as an int array (B, P, A, M) (and whether a P axis was given), validated."""
    p = np.asarray(placement)
    B, A = state.batch_size, state.num_devices
    M, L = state.cfg.num_blocks, state.cfg.num_servers + 1
    if A == 1:
        p = p[..., None, :] if p.ndim in (2, 3) else p
    if p.ndim not in (3, 4) or p.shape[0] != B or p.shape[-2:] != (A, M):
        expect = f"(B={B}, M={M}) or (B, P, M)" if A == 1 else f"(B={B}, A={A}, M={M}) or (B, P, A, M)"
        raise ValueError(f"placement: expected shape {expect}, got {np.shape(placement)}")
    if p.dtype.kind not in "iu":
        what = "NaN" if p.dtype.kind == "f" and np.isnan(p).any() else f"dtype {p.dtype}"
        raise ValueError(f"placement: expected integers in [0, {L - 1}] (0 = device, n = edge server n), got {what}")
    if p.size and (p.min() < 0 or p.max() >= L):
        raise ValueError(f"placement: locations must lie in [0, {L - 1}] (0 = device, n = edge server n), "
                         f"got values in [{p.min()}, {p.max()}]")
    has_p = p.ndim == 4
    return (p if has_p else p[:, None]).astype(np.int64, copy=False), has_p


def _evaluate(state: State, p: np.ndarray) -> SlotOutcome:
    """Outcome of placements p (B, P, A, M) in the current slot (no state change); P axis kept.

    Computed block-major: per-block arrays are (M, R) over rows r = (instance, candidate, device),
    and per-location tables of each (instance, device) are gathered with one flat index per block.
    """
    cfg, blocks = state.cfg, state.blocks
    B, P, A, M = p.shape
    N = state.queue.shape[1]
    L, R = N + 1, B * P * A
    pair = _pair_of_row(B, P, A)
    agent = pair % A
    pm = np.ascontiguousarray(p.transpose(3, 0, 1, 2)).reshape(M, R)

    def per_block(x):  # (A, M) constants -> (M, R), or (M, 1) with one device
        return x.T if A == 1 else x.T[:, agent]

    def per_row(x):  # (B, A, ...) -> (R, ...)
        flat = x.reshape((B * A,) + x.shape[2:])
        return flat if P == 1 else flat[pair]

    where_at = pm + pair * L  # flat index into (B, A, L) tables
    at_here = np.take(_with_device(state.access_now, 0.0).ravel(), where_at)  # 0 at the device
    at_prev = np.empty_like(at_here)
    at_prev[0] = 0.0
    at_prev[1:] = at_here[:-1]
    prev = np.empty_like(pm)
    prev[0] = DEVICE
    prev[1:] = pm[:-1]
    moved = pm != prev
    on_device = pm == DEVICE
    # Eq. (5): 0 on the same location; device <-> server: that server's access time; else R_max
    hop = np.where(pm * prev == 0, at_here + at_prev, 1.0 / cfg.wired_rate_bps) * moved
    transfer = per_block(blocks.input_bits) * hop
    result_bits = blocks.result_bits[0] if A == 1 else blocks.result_bits[agent]
    transfer[-1] += result_bits * at_here[-1]  # the result goes back to the device
    speed = np.empty((B, A, L))
    speed[..., 0] = 1.0
    speed[..., 1:] = state.speed_now[:, None, :]
    compute = np.where(on_device, per_block(blocks.local_time),
                       per_block(blocks.edge_work) / np.take(speed.ravel(), where_at))  # Eqs. (3), (6)
    own = transfer + compute
    starts = moved
    starts[0] = True
    tasks = per_row(state.tasks_now * state.alive)  # (R,)
    # work per task at each location, added in block order (bincount adds in input order)
    cell = where_at if P == 1 else pm + np.arange(R) * L  # flat index into (R, L)
    work = np.bincount(cell.ravel(), weights=compute.ravel(), minlength=R * L).reshape(R, L)
    load = tasks[:, None] * work / cfg.slot_s  # (R, L): utilisation each row's tasks put on each location
    by_device = load.reshape(B, P, A, L)
    device_load = by_device[..., 0].copy()
    if A == 1:
        server_load = by_device[:, :, 0, 1:].copy()
    else:  # a server's utilisation sums every device's work on it
        server_load = by_device[:, :, 0, 1:].copy()
        for a in range(1, A):
            server_load += by_device[:, :, a, 1:]
        by_device[..., 1:] = server_load[:, :, None, :]
    start = np.empty((B, A, L))
    start[..., 0] = state.device_queue
    start[..., 1:] = state.queue[:, None, :]
    start = per_row(start)  # (R, L)
    end = start + (load - 1.0) * cfg.slot_s  # backlog at the slot end, before max(0, .)
    deadline = np.ascontiguousarray(per_row(state.deadline_now).T)  # (M, R)
    over = np.maximum(own - deadline, 0.0)
    wait, excess = np.zeros_like(own), over
    if not cfg.contention_free:
        # only blocks that start a segment at a location with backlog wait (or risk their deadline)
        b0, b1 = np.take(start.ravel(), cell), np.take(end.ravel(), cell)
        queued = np.flatnonzero(starts & (np.maximum(b0, b1) > 0.0))
        if queued.size:
            b0, b1 = b0.ravel()[queued], b1.ravel()[queued]
            slack = np.maximum(deadline.ravel()[queued] - own.ravel()[queued], 0.0)
            wait.ravel()[queued] = _mean_positive(b0, b1)
            excess.ravel()[queued] += _mean_positive(b0 - slack, b1 - slack)
    block_delay = own + wait
    delay = _sum_blocks(block_delay).reshape(B, P, A)
    penalty = _sum_blocks(excess).reshape(B, P, A)
    cost = delay + cfg.penalty_weight * penalty
    airtime = np.take(_with_device(state.airtime_now, 0.0).ravel(), where_at)
    uplink = per_block(blocks.input_bits) * (airtime * (prev == DEVICE))  # only what leaves the device
    block_energy = per_block(blocks.local_energy) * on_device + cfg.tx_power_w * uplink  # Eqs. (4), (7)
    energy = (tasks * _sum_blocks(block_energy)).reshape(B, P, A)
    alive = state.alive[:, None]  # (B, 1, A)
    ran_out = alive & (state.energy_left[:, None] - energy <= 0.0)
    slots_left = (cfg.episode_slots - 1 - state.slot)[:, None, None]
    outage = np.where(ran_out, slots_left * cfg.outage_cost_s, 0.0)
    reward = np.where(alive, -cost - outage, 0.0)
    if cfg.contention_free:
        queue_end, device_queue_end = np.zeros((B, P, N)), np.zeros((B, P, A))
    else:
        by_device_end = end.reshape(B, P, A, L)
        queue_end = np.maximum(by_device_end[:, :, 0, 1:], 0.0)
        device_queue_end = np.maximum(by_device_end[..., 0], 0.0)

    def per_block_out(x):  # (M, R) -> (B, P, A, M) view
        return x.reshape(M, B, P, A).transpose(1, 2, 3, 0)

    return SlotOutcome(
        reward=reward, cost=cost, delay=delay, penalty=penalty, energy=energy, outage=outage, ran_out=ran_out,
        block_delay=per_block_out(block_delay), block_transfer=per_block_out(transfer),
        block_compute=per_block_out(compute), block_wait=per_block_out(wait), block_excess=per_block_out(excess),
        server_load=server_load, device_load=device_load, queue_end=queue_end, device_queue_end=device_queue_end)


def _squeeze(outcome: SlotOutcome, has_p: bool, single: bool) -> SlotOutcome:
    """Drop the P axis when none was given, and the A axis for single-device states."""
    out = {}
    for f in dataclasses.fields(outcome):
        value = getattr(outcome, f.name)
        per_device = f.name not in ("server_load", "queue_end")
        if single and per_device:
            value = value[:, :, 0]
        out[f.name] = value if has_p else value[:, 0]
    return SlotOutcome(**out)


def slot_cost(state: State, placement) -> SlotOutcome:
    """Deterministic outcome of applying ``placement`` to the current slot's tasks; no state change.

    placement: (B, M) or (B, P, M) for single-device states ((B, A, M) or (B, P, A, M) otherwise),
    0 = device, n = edge server n. With a P axis, each of the P candidates is scored on its own
    against the current state.
    """
    p, has_p = _canonical(state, placement)
    return _squeeze(_evaluate(state, p), has_p, state.num_devices == 1)


def transition(state: State, placement, rng: np.random.Generator | None = None) -> tuple[State, SlotOutcome]:
    """Apply ``placement`` ((B, M), or (B, A, M) with several devices) to the current slot.

    Returns the state at the next slot and the slot's outcome. ``rng`` is accepted for the common
    core signature but unused: the episode's random draws were all made in :func:`initial`.
    """
    p, has_p = _canonical(state, placement)
    if has_p:
        raise ValueError("placement: transition takes one placement per instance, (B, M) or (B, A, M)")
    out = _evaluate(state, p)
    slot = state.slot + 1
    nxt = dataclasses.replace(
        state, slot=slot, device_queue=out.device_queue_end[:, 0], energy_left=state.energy_left - out.energy[:, 0],
        alive=state.alive & ~out.ran_out[:, 0], **_slot_arrays(state, np.minimum(slot, state.cfg.episode_slots)))
    nxt.queue = out.queue_end[:, 0] * state.speed_now / nxt.speed_now  # backlog in the next slot's seconds
    return nxt, _squeeze(out, False, state.num_devices == 1)


def truncated(state: State) -> np.ndarray:
    """(B,) bool: the episode's slots are used up."""
    return state.slot >= state.cfg.episode_slots


def block_pair_costs(state: State) -> np.ndarray:
    """Cost (delay + penalty_weight * excess, per task) of block m at location j after block m-1 at i.

    Shape (B, M, N+1, N+1) for single-device states, (B, A, M, N+1, N+1) otherwise. Block 0's
    predecessor is the device (the raw image is there): every row i of m = 0 holds the device's row.
    The result's return to the device is included in the last block's entries. Waiting uses the
    current queues and no self-contention (the placement's own load is ignored): the chain sum equals
    :func:`slot_cost`'s per-task cost exactly in the contention-free configuration and is a myopic
    approximation otherwise.
    """
    cfg, blocks = state.cfg, state.blocks
    B, A, M, L = state.batch_size, state.num_devices, cfg.num_blocks, cfg.num_servers + 1
    location = np.arange(L)
    prev = np.where(np.arange(M)[:, None, None] == 0, DEVICE, location[:, None])  # (M, L, 1): i, device for m=0
    here = location[None, None, :]  # (1, 1, L): j
    access = _with_device(state.access_now, 0.0)  # (B, A, L)
    at_here, at_prev = access[:, :, None, None, :], access[:, :, prev]  # at j (B, A, 1, 1, L), at i (B, A, M, L, 1)
    to_or_from_device = (here == DEVICE) | (prev == DEVICE)
    hop = np.where(here == prev, 0.0, np.where(to_or_from_device, at_here + at_prev, 1.0 / cfg.wired_rate_bps))
    transfer = blocks.input_bits[None, :, :, None, None] * hop
    transfer[:, :, -1] = transfer[:, :, -1] + blocks.result_bits[None, :, None, None] * at_here[:, :, -1]
    speed = _with_device(state.speed_now, 1.0)[:, None, None, None, :]  # (B, 1, 1, 1, L)
    compute = np.where(here == DEVICE, blocks.local_time[None, :, :, None, None],
                       blocks.edge_work[None, :, :, None, None] / speed)
    own = transfer + compute
    deadline = state.deadline_now[..., None, None]
    over = np.maximum(own - deadline, 0.0)
    if cfg.contention_free:
        return (own + cfg.penalty_weight * over)[:, 0] if A == 1 else own + cfg.penalty_weight * over
    starts = (here != prev) | (np.arange(M) == 0)[:, None, None]
    backlog = np.empty((B, A, L))
    backlog[..., 0] = state.device_queue
    backlog[..., 1:] = state.queue[:, None, :]
    backlog = backlog[:, :, None, None, :]  # (B, A, 1, 1, L): at j
    drained = backlog - cfg.slot_s  # no self-contention: utilisation 0
    wait = np.where(starts, _mean_positive(backlog, drained), 0.0)
    slack = np.maximum(deadline - own, 0.0)
    excess = over + np.where(starts, _mean_positive(backlog - slack, drained - slack), 0.0)
    cost = own + wait + cfg.penalty_weight * excess
    return cost[:, 0] if A == 1 else cost


# ---------------------------------------------------------------------------------------------
# one instance through a compiled kernel: the single env's fast path
#
# At B = 1 numpy's per-call overhead dominates the functions above, and the same arithmetic on
# Python floats costs several microseconds a slot; numba compiles _step, which widens float32 trace
# entries to float64 before use and fuses no multiply-adds, so its trajectory is bit-identical to
# the batched core's (the tests hold the two to that).


# entries of RowCore.step's outcome array (then its per-block and per-server parts, see Outcome)
REWARD, COST, DELAY, PENALTY, ENERGY, OUTAGE, RAN_OUT, DEVICE_QUEUE_END, DEVICE_LOAD = range(9)
_SCALARS = DEVICE_LOAD + 1  # where the per-block parts start


class Outcome:
    """Layout of :meth:`RowCore.step`'s array for M blocks and N servers: the scalars above, then
    ``block_delay``, ``block_transfer``, ``block_compute``, ``block_wait``, ``block_excess`` (M each),
    ``server_load``, ``queue_end`` (keys and meanings as :class:`SlotOutcome`) and ``queue``
    (the backlog at the next slot's start, in seconds at its speeds), N each."""

    BLOCK_KEYS = ("block_delay", "block_transfer", "block_compute", "block_wait", "block_excess")
    SERVER_KEYS = ("server_load", "queue_end", "queue")

    def __init__(self, num_blocks: int, num_servers: int):
        M, N = num_blocks, num_servers
        starts = [_SCALARS + k * M for k in range(len(self.BLOCK_KEYS))]
        self.parts = {key: slice(s, s + M) for key, s in zip(self.BLOCK_KEYS, starts)}
        end = starts[-1] + M
        self.parts.update({key: slice(end + k * N, end + (k + 1) * N) for k, key in enumerate(self.SERVER_KEYS)})
        self.size = end + len(self.SERVER_KEYS) * N


@njit(cache=True, error_model="numpy")
def _row_mean_positive(x0: float, x1: float) -> float:
    """:func:`_mean_positive` of two floats (same operations)."""
    p = (x0 if x0 > 0.0 else 0.0) + (x1 if x1 > 0.0 else 0.0)
    return p * p / (2.0 * abs(x1 - x0)) if x0 * x1 < 0.0 else 0.5 * p


@njit(cache=True, error_model="numpy")
def _step(p, t, last_slot, slot_s, penalty_weight, tx_power, inv_wired, outage_cost, contention_free,
          local_time, edge_work, input_bits, result_bits, local_energy,
          tasks, deadline, speed, access, airtime, queue, device, out):
    """Slot t under placement p (M,): fills ``out`` (an Outcome layout) and advances the state in
    place: ``queue`` (N,) server backlog, ``device`` = [device backlog, energy left]. The operations
    of :func:`_evaluate` and :func:`transition` for one row, in the same order."""
    M, N = p.shape[0], queue.shape[0]
    b_delay, b_transfer, b_compute = _SCALARS, _SCALARS + M, _SCALARS + 2 * M
    b_wait, b_excess = _SCALARS + 3 * M, _SCALARS + 4 * M
    load_at, queue_end_at, queue_at = _SCALARS + 5 * M, _SCALARS + 5 * M + N, _SCALARS + 5 * M + 2 * N
    # transfer and compute of each block, compute per task at each location, energy (Eqs. 3-7)
    work = np.zeros(N + 1)
    energy = 0.0
    prev = 0
    for m in range(M):
        here, bits = p[m], input_bits[m]
        if here == prev:
            transfer = 0.0
        elif prev == 0:
            transfer = bits * np.float64(access[t, here - 1])
            energy += tx_power * (bits * np.float64(airtime[t, here - 1]))  # Eq. (7)
        elif here == 0:
            transfer = bits * np.float64(access[t, prev - 1])
        else:
            transfer = bits * inv_wired
        if here == 0:
            compute = local_time[m]
            energy += local_energy[m]  # Eq. (4)
        else:
            compute = edge_work[m] / np.float64(speed[t, here - 1])
        work[here] += compute
        out[b_transfer + m], out[b_compute + m] = transfer, compute
        prev = here
    if prev != 0:  # the result goes back to the device
        out[b_transfer + M - 1] = out[b_transfer + M - 1] + result_bits * np.float64(access[t, prev - 1])
    # backlog of each location (device first) over the slot: from start to end
    n_tasks = tasks[t]
    start, end = np.empty(N + 1), np.empty(N + 1)
    start[0] = device[0]
    start[1:] = queue
    for loc in range(N + 1):
        rho = n_tasks * work[loc] / slot_s
        end[loc] = start[loc] + (rho - 1.0) * slot_s
        out[DEVICE_LOAD if loc == 0 else load_at + loc - 1] = rho
    # delays: a block that starts a segment waits behind its location's backlog
    delay = penalty = 0.0
    prev = -1
    for m in range(M):
        here = p[m]
        own = out[b_transfer + m] + out[b_compute + m]
        tau = np.float64(deadline[t, m])
        over = own - tau
        excess = over if over > 0.0 else 0.0
        wait = 0.0
        if not contention_free and here != prev:
            b0, b1 = start[here], end[here]
            if b0 > 0.0 or b1 > 0.0:
                wait = _row_mean_positive(b0, b1)
                slack = tau - own
                slack = slack if slack > 0.0 else 0.0
                excess = excess + _row_mean_positive(b0 - slack, b1 - slack)
        prev = here
        out[b_delay + m] = own + wait
        out[b_wait + m], out[b_excess + m] = wait, excess
        delay += own + wait
        penalty += excess
    cost = delay + penalty_weight * penalty
    energy = n_tasks * energy
    ran_out = device[1] - energy <= 0.0
    outage = (last_slot - 1 - t) * outage_cost if ran_out else 0.0
    out[REWARD], out[COST], out[DELAY], out[PENALTY] = -cost - outage, cost, delay, penalty
    out[ENERGY], out[OUTAGE], out[RAN_OUT] = energy, outage, 1.0 if ran_out else 0.0
    # next slot: the backlog left, re-expressed in seconds at the next slot's speeds
    after = min(t + 1, last_slot)
    for loc in range(N + 1):
        left = end[loc] if not contention_free and end[loc] > 0.0 else 0.0
        if loc == 0:
            out[DEVICE_QUEUE_END] = left
        else:
            out[queue_end_at + loc - 1] = left
            queue[loc - 1] = out[queue_at + loc - 1] = left * np.float64(speed[t, loc - 1]) / np.float64(speed[after, loc - 1])
    device[0] = out[DEVICE_QUEUE_END]
    device[1] = device[1] - energy


class RowCore:
    """One single-device instance (a B = 1 State) stepped by the compiled kernel.

    ``slot``, ``queue`` (N,), ``device_queue`` and ``energy_left`` are the current state
    (``device_state`` is the array [device_queue, energy_left]); :meth:`state` gives the equivalent
    State.
    """

    def __init__(self, state: State):
        if state.batch_size != 1 or state.num_devices != 1:
            raise ValueError(f"state: RowCore runs one single-device instance, got B={state.batch_size}, "
                             f"A={state.num_devices}")
        cfg, blocks = state.cfg, state.blocks
        self.cfg, self._base = cfg, state
        self.outcome = Outcome(cfg.num_blocks, cfg.num_servers)
        self._constants = (cfg.episode_slots, cfg.slot_s, cfg.penalty_weight, cfg.tx_power_w, 1.0 / cfg.wired_rate_bps,
                           cfg.outage_cost_s, cfg.contention_free)
        self._blocks = (np.ascontiguousarray(blocks.local_time[0]), np.ascontiguousarray(blocks.edge_work[0]),
                        np.ascontiguousarray(blocks.input_bits[0]), float(blocks.result_bits[0]),
                        np.ascontiguousarray(blocks.local_energy[0]))
        self.tasks = np.ascontiguousarray(state.trace_tasks[0, :, 0])
        self._trace = tuple(np.ascontiguousarray(x) for x in (
            state.trace_deadline[0, :, 0], state.trace_speed[0], state.trace_access[0, :, 0],
            state.trace_airtime[0, :, 0]))
        self.slot = int(state.slot[0])
        self.queue = state.queue[0].copy()
        self.device_state = np.array([state.device_queue[0, 0], state.energy_left[0, 0]])

    @property
    def device_queue(self) -> float:
        return float(self.device_state[0])

    @property
    def energy_left(self) -> float:
        return float(self.device_state[1])

    def step(self, placement: np.ndarray) -> np.ndarray:
        """Apply a validated placement (M,) int64 to the current slot and advance to the next one;
        returns the slot's outcome (float64, laid out by ``self.outcome``)."""
        out = np.empty(self.outcome.size)
        _step(placement, self.slot, *self._constants, *self._blocks, self.tasks, *self._trace, self.queue,
              self.device_state, out)
        self.slot += 1
        return out

    def state(self) -> State:
        """The current state as a batched State with B = 1."""
        partial = dataclasses.replace(
            self._base, slot=np.array([self.slot]), queue=self.queue[None].copy(),
            device_queue=np.array([[self.device_queue]]), energy_left=np.array([[self.energy_left]]),
            alive=np.array([[self.energy_left > 0.0]]))
        return dataclasses.replace(partial, **_slot_arrays(partial, np.minimum(partial.slot, self.cfg.episode_slots)))
