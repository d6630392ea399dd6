"""Dynamics of EdgePartition (the TMC 2024 paper, Eqs. 3-14), over a leading batch axis B of instances.

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

The exogenous processes (tasks per slot, deadlines, background load, mobility, fading, the radio
links) are drawn slot by slot (:func:`draw_slot`): each slot's values when it starts, from each
instance's own random stream, so an instance's trajectory does not depend on the batch it runs in.

Contention-free configuration: no waiting (each task is served as if alone), fixed speeds, a still
device without fading, no energy limit; :func:`block_pair_costs` chained along a placement then sums
exactly to the slot's per-task cost, so each slot is a shortest-path problem.

:class:`CompiledCore` steps single-device instances in place through a compiled kernel (the envs'
fast path); it performs the same floating-point operations in the same order as the batched
functions, and the tests hold the two to bit-identical trajectories.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba import literal_unroll, njit, prange

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
    """Batched state: arrays with leading axis B (A devices, M blocks, N servers).

    ``stream`` .. ``leg_speed`` are the exogenous processes' state, advanced by
    :func:`draw_slot` when a slot starts; ``*_now`` are the current slot's draws (what the
    observation and the costs read).
    """

    cfg: EdgePartitionConfig
    blocks: Blocks
    slot: np.ndarray  # (B,) int: index t of the current slot
    queue: np.ndarray  # (B, N): server backlog at the slot start, s at this slot's speeds
    device_queue: np.ndarray  # (B, A): device CPU backlog, s
    energy_left: np.ndarray  # (B, A): J
    alive: np.ndarray  # (B, A) bool: energy not yet spent
    server_xy: np.ndarray  # (B, N, 2)
    server_speed: np.ndarray  # (B, N): base speed factor of each server
    fixed_airtime: np.ndarray  # (B, A, N): s/bit of fixed-rate links (Instance.fixed_rate_bps); 0: radio model
    stream: np.ndarray  # (B,) uint64: state of each row's random stream
    load_walk: np.ndarray  # (B, N): background-load random walk before its reflection into [0, background_load]
    position: np.ndarray  # (B, A, 2): device positions, m
    waypoint: np.ndarray  # (B, A, 2): where each device is walking to
    leg_speed: np.ndarray  # (B, A): its speed on that leg, m/s
    tasks_now: np.ndarray  # (B, A): tasks released this slot
    deadline_now: np.ndarray  # (B, A, M): tau_m
    speed_now: np.ndarray  # (B, N): server speed factors
    access_now: np.ndarray  # (B, A, N): s/bit from the device to each server (Eq. 5)
    airtime_now: np.ndarray  # (B, A, N): device air time per bit sent towards each server

    @property
    def batch_size(self) -> int:
        return self.slot.shape[0]

    @property
    def num_devices(self) -> int:
        return self.device_queue.shape[1]

    def rows(self, index) -> State:
        """The instances ``index`` (an int array or slice) as a State of their own (copies)."""
        return dataclasses.replace(self, **{k: v[index].copy() for k, v in _row_arrays(self).items()})

    def array_pairs(self, other: State) -> tuple:
        """((own array, other's array), ...) for every per-row array: :func:`copy_rows`'s argument."""
        return tuple((getattr(self, key), getattr(other, key)) for key in _ROW_FIELDS)


def _row_arrays(state: State) -> dict:
    return {key: getattr(state, key) for key in _ROW_FIELDS}


@njit(cache=True)
def copy_rows(rows, other_rows, pairs):
    """``dst[rows[i]] = src[other_rows[i]]`` for every (dst, src) pair of arrays."""
    for pair in literal_unroll(pairs):
        dst, src = pair
        for i in range(rows.shape[0]):
            dst[rows[i]] = src[other_rows[i]]


# the arrays the processes read and advance, in draw_slot's argument order
_PROCESS_FIELDS = (
    "stream",
    "server_xy",
    "server_speed",
    "fixed_airtime",
    "load_walk",
    "position",
    "waypoint",
    "leg_speed",
    "tasks_now",
    "deadline_now",
    "speed_now",
    "access_now",
    "airtime_now",
)
_ADVANCED = _PROCESS_FIELDS[:1] + _PROCESS_FIELDS[4:]  # those a slot start changes
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(State) if f.name not in ("cfg", "blocks"))  # (B, ...) arrays


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
# exogenous processes, drawn slot by slot
#
# What the placement does not decide: the tasks each device releases (round(lambda slot_s), or
# Poisson), the deadline tau_m of each block (uniform in deadline_s), each server's speed (base speed
# x (1 - background load), the load a random walk reflected into [0, background_load], steps uniform
# in +-background_step), each device's position (random waypoint: straight legs to waypoints uniform
# in the area at speeds uniform in walk_speed_mps), Rayleigh fading on each direct link, and from
# them the access time and air time per bit to each server (_device_links, Eq. 5).
#
# Each instance (row) draws from its own random stream, a splitmix64 sequence (Steele, Lea and Flood,
# OOPSLA 2014, with Vigna's output mix) whose 64-bit state is State.stream, seeded from the row's
# numpy Generator at the episode start. The draws of a slot are made when the slot starts, in a fixed
# order (per device: tasks, then deadlines; then the background load of each server; then per device
# its move and the fading of each direct link), so a row's trajectory depends only on its seed and its
# actions, never on the batch it runs in, and nothing is drawn ahead of need. Compiled by numba: a
# slot's draws cost about as much as its costs.


# entries of the process parameters (:func:`process_params`)
(
    _P_TASKS,
    _P_POISSON,
    _P_DEADLINE_LOW,
    _P_DEADLINE_SPAN,
    _P_LOAD_TOP,
    _P_LOAD_STEP,
    _P_AREA,
    _P_WALK_LOW,
    _P_WALK_SPAN,
    _P_MOBILE,
    _P_FADING,
    _P_SLOT_S,
    _P_SNR_1M,
    _P_EXPONENT,
    _P_BANDWIDTH,
    _P_RATE_LOW,
    _P_RATE_HIGH,
    _P_COVERAGE_SQ,
    _P_INV_WIRED,
) = range(19)


@functools.lru_cache(maxsize=64)
def _gain_at_1m(exponent: float, carrier_hz: float) -> float:
    """Mean log-distance path gain at the 1 m reference (edge_envs.net.channel)."""
    return float(
        channel.channel_gain(1.0, model="log_distance", fading=False, exponent=exponent, carrier_hz=carrier_hz)
    )


@functools.lru_cache(maxsize=64)
def process_params(cfg: EdgePartitionConfig) -> np.ndarray:
    """The processes' constants under ``cfg`` as a read-only float64 array (entries _P_* above).

    The contention-free configuration switches off the background load, mobility and fading.
    """
    free = cfg.contention_free
    tasks = cfg.task_rate * cfg.slot_s
    out = np.zeros(_P_INV_WIRED + 1)
    out[_P_TASKS] = tasks if cfg.poisson_tasks else float(round(tasks))
    out[_P_POISSON] = cfg.poisson_tasks
    out[_P_DEADLINE_LOW], out[_P_DEADLINE_SPAN] = cfg.deadline_s[0], cfg.deadline_s[1] - cfg.deadline_s[0]
    out[_P_LOAD_TOP] = 0.0 if free else cfg.background_load
    out[_P_LOAD_STEP] = cfg.background_step
    out[_P_AREA] = cfg.area_m
    out[_P_WALK_LOW], out[_P_WALK_SPAN] = cfg.walk_speed_mps[0], cfg.walk_speed_mps[1] - cfg.walk_speed_mps[0]
    out[_P_MOBILE] = not (free or cfg.walk_speed_mps[1] == 0.0)
    out[_P_FADING] = cfg.fading and not free
    out[_P_SLOT_S] = cfg.slot_s
    out[_P_SNR_1M] = (
        cfg.tx_power_w
        * _gain_at_1m(cfg.path_loss_exponent, cfg.carrier_hz)
        / (cfg.noise_psd_w_per_hz * cfg.bandwidth_hz)
    )
    out[_P_EXPONENT] = cfg.path_loss_exponent
    out[_P_BANDWIDTH] = cfg.bandwidth_hz
    out[_P_RATE_LOW], out[_P_RATE_HIGH] = cfg.rate_range_bps
    out[_P_COVERAGE_SQ] = cfg.coverage_m**2
    out[_P_INV_WIRED] = 1.0 / cfg.wired_rate_bps
    out.setflags(write=False)
    return out


def seed_stream(rng: np.random.Generator) -> int:
    """A row's stream state for a new episode: 64 random bits from its numpy Generator."""
    return rng.bit_generator.random_raw()


# ---------------------------------------------------------------------------------------------
# random numbers from a row's stream

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@njit(cache=True, inline="always")
def uniform(s):
    """(u, s'): a float uniform in [0, 1) (53 random bits) from stream state s, and the advanced state
    (splitmix64: advance by the golden ratio, mix)."""
    s = s + _GOLDEN
    z = (s ^ (s >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * (1.0 / 9007199254740992.0), s


@njit(cache=True, error_model="numpy", inline="always")
def poisson(s, lam):
    """(k, s'): a Poisson(lam) count from stream state s: multiplication of uniforms below lam = 10,
    else Hormann's transformed rejection with squeeze (PTRS, Insurance: Mathematics and Economics 12, 1993)."""
    if lam < 10.0:
        limit = math.exp(-lam)
        k = 0.0
        product, s = uniform(s)
        while product > limit:
            k += 1.0
            u, s = uniform(s)
            product *= u
        return k, s
    root = math.sqrt(lam)
    slope = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * slope
    inv_alpha = 1.1239 + 1.1328 / (slope - 3.4)
    v_r = 0.9277 - 3.6224 / (slope - 2.0)
    while True:
        u, s = uniform(s)
        v, s = uniform(s)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + slope) * u + lam + 0.43)
        if us >= 0.07 and v <= v_r:
            return k, s  # the squeeze: accepted without evaluating the density
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + slope) <= -lam + k * math.log(
            lam
        ) - math.lgamma(k + 1.0):
            return k, s


# ---------------------------------------------------------------------------------------------
# the processes, one row at a time


@njit(cache=True, inline="always")
def _reflect(x, top):
    """Fold x into [0, top] as a billiard ball would: a triangle wave of period 2 top."""
    phase = x * (0.5 / top)
    phase -= np.floor(phase)  # a float: math.floor's integer overflows when top is tiny (phase ~ 1e28)
    return top * (1.0 - abs(2.0 * phase - 1.0))


@njit(cache=True, inline="always")
def _new_leg(p, s, b, a, waypoint, leg_speed):
    """Device a's next random-waypoint leg: a waypoint uniform in the area and a speed; returns s'."""
    x, s = uniform(s)
    y, s = uniform(s)
    v, s = uniform(s)
    waypoint[b, a, 0], waypoint[b, a, 1] = p[_P_AREA] * x, p[_P_AREA] * y
    leg_speed[b, a] = p[_P_WALK_LOW] + p[_P_WALK_SPAN] * v
    return s


@njit(cache=True, inline="always")
def _move(p, s, b, a, seconds, position, waypoint, leg_speed):
    """Walk device a for ``seconds`` along its legs, drawing a new leg at each waypoint reached; returns s'."""
    left = seconds
    while True:
        dx, dy = waypoint[b, a, 0] - position[b, a, 0], waypoint[b, a, 1] - position[b, a, 1]
        distance = math.sqrt(dx * dx + dy * dy)
        reach = leg_speed[b, a] * left
        if reach < distance:
            part = reach / distance
            position[b, a, 0] += dx * part
            position[b, a, 1] += dy * part
            return s
        position[b, a, 0], position[b, a, 1] = waypoint[b, a, 0], waypoint[b, a, 1]
        if distance > 0.0:
            left -= distance / leg_speed[b, a]
        s = _new_leg(p, s, b, a, waypoint, leg_speed)


@njit(cache=True, error_model="numpy", inline="always")
def _device_links(p, s, b, a, server_xy, position, access, airtime):
    """Access time and device air time per bit from device a to each server (Eq. 5, ERRATA: N0 is a
    density): rate ``B log2(1 + p g |h|^2 / (N0 B))``, g the log-distance path gain (reference: free
    space at 1 m, ``g(d) = g(1 m) d^-n``, distances below 1 m count as 1 m), |h|^2 ~ Exp(1) when
    fading, clipped to ``rate_range_bps``. The device associates with its nearest server; a server
    beyond ``coverage_m`` (other than that one) is reached through it and the wired link R_max.
    Returns s'."""
    N = server_xy.shape[1]
    x, y = position[b, a, 0], position[b, a, 1]
    nearest, best = 0, np.inf  # the associated server
    for n in range(N):
        dx, dy = x - server_xy[b, n, 0], y - server_xy[b, n, 1]
        squared = max(dx * dx + dy * dy, 1.0)
        if squared < best:
            nearest, best = n, squared
    cube, fading, snr, exponent = p[_P_EXPONENT] == 3.0, p[_P_FADING] != 0.0, p[_P_SNR_1M], p[_P_EXPONENT]
    bandwidth, low, high, coverage = p[_P_BANDWIDTH], p[_P_RATE_LOW], p[_P_RATE_HIGH], p[_P_COVERAGE_SQ]
    for n in range(N):  # the servers reached directly (a link's fading is drawn only then)
        dx, dy = x - server_xy[b, n, 0], y - server_xy[b, n, 1]
        squared = dx * dx + dy * dy
        if n != nearest and squared > coverage:
            continue
        squared = max(squared, 1.0)
        if cube:  # the default exponent, 3: d^-3 without a general power
            gain = snr / (squared * math.sqrt(squared))
        else:
            gain = snr * squared ** (-0.5 * exponent)
        if fading:
            u, s = uniform(s)
            gain *= -math.log(1.0 - u)  # Rayleigh: |h|^2 ~ Exp(1)
        airtime[b, a, n] = access[b, a, n] = 1.0 / min(max(bandwidth * math.log2(1.0 + gain), low), high)
    relay = p[_P_INV_WIRED]
    for n in range(N):  # the others, through the associated server
        dx, dy = x - server_xy[b, n, 0], y - server_xy[b, n, 1]
        if n != nearest and dx * dx + dy * dy > coverage:
            airtime[b, a, n] = airtime[b, a, nearest]
            access[b, a, n] = airtime[b, a, nearest] + relay
    return s


@njit(cache=True, error_model="numpy", inline="always")
def draw_slot(
    p,
    b,
    first,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks,
    deadline,
    speed,
    access,
    airtime,
):
    """Draw row b's values for the slot now starting (``first``: the episode's first slot, where
    nothing has moved yet): tasks (B, A), deadline (B, A, M), speed (B, N), access and airtime
    (B, A, N), advancing its stream, background load walk and device positions in place."""
    A, M, N = deadline.shape[1], deadline.shape[2], speed.shape[1]
    low, span, top, step = p[_P_DEADLINE_LOW], p[_P_DEADLINE_SPAN], p[_P_LOAD_TOP], p[_P_LOAD_STEP]
    s = stream[b]
    for a in range(A):
        if p[_P_POISSON] != 0.0:
            tasks[b, a], s = poisson(s, p[_P_TASKS])
        else:
            tasks[b, a] = p[_P_TASKS]
        for m in range(M):
            u, s = uniform(s)
            deadline[b, a, m] = low + span * u
    for n in range(N):
        if top > 0.0:
            if not first:
                u, s = uniform(s)
                load_walk[b, n] += step * (2.0 * u - 1.0)
            speed[b, n] = server_speed[b, n] * (1.0 - _reflect(load_walk[b, n], top))
        else:
            speed[b, n] = server_speed[b, n]
    for a in range(A):
        if fixed_airtime[b, a, 0] > 0.0:  # fixed rates: no radio model
            for n in range(N):
                access[b, a, n] = airtime[b, a, n] = fixed_airtime[b, a, n]
            continue
        if p[_P_MOBILE] != 0.0 and not first:
            s = _move(p, s, b, a, p[_P_SLOT_S], position, waypoint, leg_speed)
        s = _device_links(p, s, b, a, server_xy, position, access, airtime)
    stream[b] = s


@njit(cache=True, error_model="numpy")
def start_rows(
    p,
    rows,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks,
    deadline,
    speed,
    access,
    airtime,
):
    """Start the episodes of ``rows``: each device at its given position (or uniform in the area when
    NaN) with its first leg, each server's background load uniform in [0, ``background_load``], and
    the first slot's draws."""
    for b in rows:
        s = stream[b]
        for a in range(position.shape[1]):
            if fixed_airtime[b, a, 0] > 0.0:
                continue
            if math.isnan(position[b, a, 0]):
                x, s = uniform(s)
                y, s = uniform(s)
                position[b, a, 0], position[b, a, 1] = p[_P_AREA] * x, p[_P_AREA] * y
            if p[_P_MOBILE] != 0.0:
                s = _new_leg(p, s, b, a, waypoint, leg_speed)
        if p[_P_LOAD_TOP] > 0.0:
            for n in range(load_walk.shape[1]):
                u, s = uniform(s)
                load_walk[b, n] = p[_P_LOAD_TOP] * u
        stream[b] = s
        draw_slot(
            p,
            b,
            True,
            stream,
            server_xy,
            server_speed,
            fixed_airtime,
            load_walk,
            position,
            waypoint,
            leg_speed,
            tasks,
            deadline,
            speed,
            access,
            airtime,
        )


@njit(cache=True, error_model="numpy")
def next_slot(
    p,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks,
    deadline,
    speed,
    access,
    airtime,
):
    """Draw every row's values for its next slot."""
    for b in range(stream.shape[0]):
        draw_slot(
            p,
            b,
            False,
            stream,
            server_xy,
            server_speed,
            fixed_airtime,
            load_walk,
            position,
            waypoint,
            leg_speed,
            tasks,
            deadline,
            speed,
            access,
            airtime,
        )


# ---------------------------------------------------------------------------------------------
# initial state: instance constants, empty queues, the first slot's draws


def make_blocks(cfg: EdgePartitionConfig, instance: Instance) -> Blocks:
    """Per-block constants of ``instance`` under ``cfg`` (speed factor, clock, kappa)."""
    local_time = instance.local_s / cfg.device_speed_factor
    cycles = local_time * cfg.device_clock_hz  # c_m = L^l_m f^l (Eq. 3 read backwards)
    arrays = dict(
        local_time=local_time,
        edge_work=np.array(instance.edge_s, dtype=np.float64),
        input_bits=instance.input_bytes * 8.0,
        result_bits=instance.output_bytes[:, -1] * 8.0,
        output_bits=instance.output_bytes * 8.0,
        local_energy=cfg.energy_coefficient * cfg.device_clock_hz**2 * cycles,  # Eq. (4)
    )
    for value in arrays.values():
        value.setflags(write=False)
    return Blocks(**arrays)


def initial(
    cfg: EdgePartitionConfig,
    instance: Instance | Sequence[Instance],
    rng: np.random.Generator | Sequence[np.random.Generator],
) -> State:
    """Start of an episode for each (instance, rng) pair: empty queues, full energy, slot 0.

    A single Instance and Generator give B = 1. Each row's random stream is seeded from its own
    Generator (one draw), so row b of a batch equals the same (instance, rng) run alone.
    """
    instances = [instance] if isinstance(instance, Instance) else list(instance)
    first = instances[0]
    A, M, N, B = first.num_devices, first.num_blocks, first.num_servers, len(instances)
    state = State(
        cfg=cfg,
        blocks=make_blocks(cfg, first),
        slot=np.empty(B, dtype=np.int64),
        queue=np.empty((B, N)),
        device_queue=np.empty((B, A)),
        energy_left=np.empty((B, A)),
        alive=np.empty((B, A), dtype=bool),
        server_xy=np.empty((B, N, 2)),
        server_speed=np.empty((B, N)),
        fixed_airtime=np.empty((B, A, N)),
        stream=np.empty(B, dtype=np.uint64),
        load_walk=np.empty((B, N)),
        position=np.empty((B, A, 2)),
        waypoint=np.empty((B, A, 2)),
        leg_speed=np.empty((B, A)),
        tasks_now=np.empty((B, A)),
        deadline_now=np.empty((B, A, M)),
        speed_now=np.empty((B, N)),
        access_now=np.empty((B, A, N)),
        airtime_now=np.empty((B, A, N)),
    )
    start_episodes(state, np.arange(B), instances, rng)
    return state


def start_episodes(
    state: State,
    rows: np.ndarray,
    instances: Sequence[Instance],
    rngs: np.random.Generator | Sequence[np.random.Generator],
) -> None:
    """Start a new episode in each of ``rows`` (an int array) of ``state``, in place: one per
    (instance, rng) pair, as :func:`initial` would (the instances have ``state``'s blocks)."""
    cfg = state.cfg
    rngs = [rngs] if isinstance(rngs, np.random.Generator) else list(rngs)
    if not len(instances) == len(rngs) == len(rows):
        raise ValueError(f"rng: need one Generator per instance ({len(instances)}), got {len(rngs)}")
    M, N = instances[0].num_blocks, instances[0].num_servers
    if (M, N) != (cfg.num_blocks, cfg.num_servers):
        raise ValueError(
            f"instance: has {M} blocks and {N} servers but the config says num_blocks="
            f"{cfg.num_blocks}, num_servers={cfg.num_servers}"
        )
    state.slot[rows] = 0
    state.queue[rows] = 0.0
    state.device_queue[rows] = 0.0
    state.energy_left[rows] = np.inf if cfg.contention_free else cfg.energy_budget_j
    state.alive[rows] = True
    state.server_xy[rows] = [inst.server_xy for inst in instances]
    state.server_speed[rows] = [inst.server_speed for inst in instances]
    state.stream[rows] = np.array([seed_stream(g) for g in rngs], dtype=np.uint64)
    state.fixed_airtime[rows] = 0.0
    state.position[rows] = np.nan  # NaN: drawn uniformly by start_rows
    for b, inst in zip(rows.tolist(), instances):
        if inst.fixed_rate_bps is not None:
            state.fixed_airtime[b] = 1.0 / inst.fixed_rate_bps
        if inst.device_xy is not None:
            state.position[b] = inst.device_xy
    state.load_walk[rows] = state.waypoint[rows] = state.leg_speed[rows] = 0.0
    start_rows(process_params(cfg), rows, *_process_arrays(state))


def _process_arrays(state: State) -> tuple:
    return tuple(getattr(state, key) for key in _PROCESS_FIELDS)


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
    """Sum of a block-major array (M, ...) over its blocks, strictly in block order (as the compiled core adds)."""
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
        raise ValueError(
            f"placement: locations must lie in [0, {L - 1}] (0 = device, n = edge server n), "
            f"got values in [{p.min()}, {p.max()}]"
        )
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
    compute = np.where(
        on_device, per_block(blocks.local_time), per_block(blocks.edge_work) / np.take(speed.ravel(), where_at)
    )  # Eqs. (3), (6)
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
        reward=reward,
        cost=cost,
        delay=delay,
        penalty=penalty,
        energy=energy,
        outage=outage,
        ran_out=ran_out,
        block_delay=per_block_out(block_delay),
        block_transfer=per_block_out(transfer),
        block_compute=per_block_out(compute),
        block_wait=per_block_out(wait),
        block_excess=per_block_out(excess),
        server_load=server_load,
        device_load=device_load,
        queue_end=queue_end,
        device_queue_end=device_queue_end,
    )


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

    Returns the state at the next slot, with that slot's draws made (:func:`draw_slot`), and the
    slot's outcome. ``rng`` is accepted for the common core signature but unused: each row draws
    from its own stream, seeded in :func:`initial`.
    """
    p, has_p = _canonical(state, placement)
    if has_p:
        raise ValueError("placement: transition takes one placement per instance, (B, M) or (B, A, M)")
    out = _evaluate(state, p)
    nxt = dataclasses.replace(
        state,
        slot=state.slot + 1,
        device_queue=out.device_queue_end[:, 0],
        energy_left=state.energy_left - out.energy[:, 0],
        alive=state.alive & ~out.ran_out[:, 0],
        **{key: getattr(state, key).copy() for key in _ADVANCED},
    )
    next_slot(process_params(state.cfg), *_process_arrays(nxt))
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
    compute = np.where(
        here == DEVICE, blocks.local_time[None, :, :, None, None], blocks.edge_work[None, :, :, None, None] / speed
    )
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
# array layouts: the one definition of the observation and of the compiled step's outcome, from which
# the envs' encoding, the kernels' offsets and the observation table of the env's docstring derive


class Layout:
    """Index of each named part of an array whose parts lie end to end, for M blocks and N servers.

    ``PARTS``: (key, size) in order, size ``"M"`` (one entry per block), ``"N"`` (per server) or 1 (a
    single index). ``parts[key]`` (also ``self.<key>``) is a slice, or an int for a size-1 part;
    ``starts`` (int64, in ``PARTS`` order) is each part's first index, as the compiled kernels read it.
    """

    PARTS: tuple = ()

    def __init__(self, num_blocks: int, num_servers: int):
        sizes = {"M": num_blocks, "N": num_servers, 1: 1}
        self.parts, starts, at = {}, [], 0
        for key, size in self.PARTS:
            self.parts[key] = at if size == 1 else slice(at, at + sizes[size])
            starts.append(at)
            at += sizes[size]
        self.size = at
        self.starts = np.array(starts, dtype=np.int64)
        self.starts.setflags(write=False)
        self.__dict__.update(self.parts)

    @classmethod
    def index_text(cls) -> list[str]:
        """Each part's indices written with M and N, as the docstring tables show them ("5M+N .. 5M+2N-1")."""

        def text(m: int, n: int, c: int) -> str:
            terms = [f"{k if k != 1 else ''}{name}" for k, name in ((m, "M"), (n, "N")) if k]
            out = "+".join(terms)
            return out + (f"{c:+d}" if c and out else "" if out else str(c))

        out, at = [], [0, 0, 0]
        for _, size in cls.PARTS:
            step = {"M": (1, 0, 0), "N": (0, 1, 0), 1: (0, 0, 1)}[size]
            end = [a + s for a, s in zip(at, step)]
            out.append(text(*at) if size == 1 else f"{text(*at)} .. {text(end[0], end[1], end[2] - 1)}")
            at = end
        return out


# (key, size, what it holds, its encoding); s(x) = x / (1 + x), lambda = task_rate
OBSERVATION = (
    ("local_latency", "M", "local latency of each block on the device", "s(lambda * latency)"),
    ("edge_latency", "M", "edge latency of each block (profile, speed 1)", "s(lambda * latency)"),
    ("input_size", "M", "input size of each block (block 0: the raw image)", "s(lambda * bits / lowest rate)"),
    ("output_size", "M", "output size of each block", "s(lambda * bits / lowest rate)"),
    ("deadline", "M", "deadline tau_m of each block this slot", "tau / highest deadline"),
    ("speed", "N", "speed of each server this slot", "speed / highest base speed"),
    ("queue", "N", "queued work of each server (seconds to drain)", "s(backlog / slot_s)"),
    ("rate", "N", "rate from the device to each server (relays incl.)", "rate / highest wireless rate"),
    ("device_queue", 1, "queued work of the device's CPU", "s(backlog / slot_s)"),
    ("tasks", 1, "tasks released this slot", "s(tasks / (lambda * slot_s))"),
    ("energy", 1, "remaining energy", "E_left / E_max"),
    ("time_left", 1, "time left", "(T - t) / T"),
)
STATIC_KEYS = ("local_latency", "edge_latency", "input_size", "output_size")  # fixed for the episode, first


class ObservationLayout(Layout):
    """The observation's parts (:data:`OBSERVATION`); ``static`` spans the :data:`STATIC_KEYS` parts."""

    PARTS = tuple((key, size) for key, size, *_ in OBSERVATION)

    def __init__(self, num_blocks: int, num_servers: int):
        super().__init__(num_blocks, num_servers)
        self.static = slice(0, self.parts[STATIC_KEYS[-1]].stop)

    @classmethod
    def table(cls) -> list[tuple[str, str, str]]:
        """(index, what it holds, encoding) of each part: the rows of the env's observation table."""
        return [(index, what, encoding) for index, (_, _, what, encoding) in zip(cls.index_text(), OBSERVATION)]


# a row of CompiledCore.step's outcome array: the slot's outcome (keys and meanings as SlotOutcome's
# fields), the tasks and energy left of the slot now starting; then the per-block and per-server parts
# of the slot, and the slot now starting's ``queue`` (backlog in seconds at its speeds), ``server_speed``,
# ``rate`` (bit/s from the device, 1 / access time) and ``deadline``
OUTCOME = (
    ("reward", 1),
    ("cost", 1),
    ("delay", 1),
    ("penalty", 1),
    ("energy", 1),
    ("outage", 1),
    ("ran_out", 1),
    ("device_queue_end", 1),
    ("device_load", 1),
    ("next_tasks", 1),
    ("energy_left", 1),
    ("block_delay", "M"),
    ("block_transfer", "M"),
    ("block_compute", "M"),
    ("block_wait", "M"),
    ("block_excess", "M"),
    ("server_load", "N"),
    ("queue_end", "N"),
    ("queue", "N"),
    ("server_speed", "N"),
    ("rate", "N"),
    ("deadline", "M"),
)
SCALARS = next(i for i, (_, size) in enumerate(OUTCOME) if size != 1)  # the leading single entries
# their indices, named after their keys (a test checks the names against OUTCOME)
(REWARD, COST, DELAY, PENALTY, ENERGY, OUTAGE, RAN_OUT, DEVICE_QUEUE_END, DEVICE_LOAD, NEXT_TASKS, ENERGY_LEFT) = range(
    SCALARS
)


class Outcome(Layout):
    """The outcome row's parts (:data:`OUTCOME`); ``BLOCK_KEYS``: the per-block parts of the slot, in
    the order the kernel's ``along`` holds them."""

    PARTS = OUTCOME
    BLOCK_KEYS = ("block_delay", "block_transfer", "block_compute", "block_wait", "block_excess")


# the kernels' indices into ObservationLayout.starts and Outcome.starts
_O = {key: i for i, (key, *_) in enumerate(OBSERVATION)}
_O_STATIC, _O_DEADLINE, _O_SPEED, _O_QUEUE, _O_RATE, _O_DEVICE_QUEUE, _O_TASKS, _O_ENERGY, _O_TIME_LEFT = (
    _O[key]
    for key in (STATIC_KEYS[0], "deadline", "speed", "queue", "rate", "device_queue", "tasks", "energy", "time_left")
)
_X = {key: i for i, (key, _) in enumerate(OUTCOME)}
_X_BLOCK, _X_SERVER_LOAD, _X_QUEUE_END, _X_QUEUE, _X_SERVER_SPEED, _X_RATE, _X_DEADLINE = (
    _X[key] for key in (Outcome.BLOCK_KEYS[0], "server_load", "queue_end", "queue", "server_speed", "rate", "deadline")
)


# ---------------------------------------------------------------------------------------------
# single-device instances through a compiled kernel: the envs' fast path
#
# numpy's per-call overhead dominates the functions above at small B, and a 1024-wide step through
# them makes about sixty passes over memory; numba compiles _step_rows, which does one row at a time
# the floating-point operations of transition() in the same order (no fused multiply-adds), so its
# trajectory is bit-identical to the batched core's (the tests hold the two to that).


# entries of the step constants (CompiledCore)
(
    _LAST_SLOT,
    _SLOT_S,
    _PENALTY_WEIGHT,
    _TX_POWER,
    _INV_WIRED,
    _OUTAGE_COST,
    _CONTENTION_FREE,
    _INV_DEADLINE,
    _INV_SPEED,
    _RATE_TOP,
    _INV_ENERGY,
    _INV_TASKS,
    _INV_SLOT_S,
    _INV_SLOTS,
) = range(14)


@njit(cache=True, error_model="numpy", inline="always")
def _row_mean_positive(x0: float, x1: float) -> float:
    """:func:`_mean_positive` of two floats (same operations), written as a select, not a branch."""
    p = (x0 if x0 > 0.0 else 0.0) + (x1 if x1 > 0.0 else 0.0)
    return p * p / (2.0 * abs(x1 - x0)) if x0 * x1 < 0.0 else 0.5 * p


@njit(cache=True, error_model="numpy", inline="always")
def _block_energy(local_energy, bits, tx, air_here, here, prev):
    """J per task of a block at ``here`` after ``prev``: its compute on the device (Eq. 4) and the upload
    of its ``bits`` of input from the device (Eq. 7)."""
    return local_energy * (here == 0) + tx * (bits * (air_here * (prev == 0)))


@njit(cache=True, error_model="numpy", inline="always")
def _outage_charge(c, slot_b):
    """The outage charge of a slot whose energy runs out: ``outage_cost_s`` for each later slot."""
    return (c[_LAST_SLOT] - 1 - slot_b) * c[_OUTAGE_COST]


@njit(cache=True, error_model="numpy", inline="always")
def _place_row(row, c, table, result_bits, access, airtime, speed_now, at, along) -> float:
    """First part of a device's slot under its placement ``row`` (M,): transfer and compute of each
    block into ``along`` (5, M) (Outcome.BLOCK_KEYS), per location (device first) the access and air
    time per bit, speed and work per task into ``at[0..3]`` (``at``: (6, N + 1)); returns the energy
    per task. ``table``: the device's (local time, edge work, input bits, local energy) (4, M);
    ``access``, ``airtime`` (N,): its links; ``speed_now`` (N,): the servers' speeds."""
    M, N = row.shape[0], speed_now.shape[0]
    link, air, speed, work = at[0], at[1], at[2], at[3]
    transfers, computes = along[1], along[2]
    link[0], air[0], speed[0], work[0] = 0.0, 0.0, 1.0, 0.0
    for n in range(N):
        link[n + 1], air[n + 1] = access[n], airtime[n]
        speed[n + 1], work[n + 1] = speed_now[n], 0.0
    # transfer and compute of each block, compute per task at each location, energy (Eqs. 3-7)
    wired, tx = c[_INV_WIRED], c[_TX_POWER]
    energy = 0.0
    prev = 0
    for m in range(M):
        here, bits = row[m], table[2, m]
        # same location: 0; device <-> server: that server's access time; server <-> server: R_max
        transfers[m] = bits * ((link[here] + link[prev] if here * prev == 0 else wired) * (here != prev))
        computes[m] = table[min(here, 1), m] / speed[here]  # local time on the device; edge work / speed
        energy += _block_energy(table[3, m], bits, tx, air[here], here, prev)  # Eqs. (4), (7)
        work[here] += computes[m]
        prev = here
    transfers[M - 1] = transfers[M - 1] + result_bits * link[prev]  # the result goes back to the device
    return energy


@njit(cache=True, error_model="numpy", inline="always")
def _wait_row(row, c, deadline, at, along) -> tuple:
    """Second part, once each location's backlog at the slot start and end is in ``at[4]``, ``at[5]``:
    each block's wait, excess over its deadline (``deadline`` (M,)) and delay into ``along``; returns
    (delay, penalty) per task. A block that starts a segment waits behind its location's backlog."""
    M = row.shape[0]
    start, end = at[4], at[5]
    delays, transfers, computes, waits, excesses = along[0], along[1], along[2], along[3], along[4]
    queues = c[_CONTENTION_FREE] == 0.0
    delay = penalty = 0.0
    prev = -1
    for m in range(M):
        here = row[m]
        own = transfers[m] + computes[m]
        tau = deadline[m]
        over, slack = own - tau, tau - own
        starts = queues and here != prev
        b0, b1 = start[here], end[here]
        waits[m] = _row_mean_positive(b0, b1) * starts
        excesses[m] = (over if over > 0.0 else 0.0) + _row_mean_positive(
            b0 - (slack if slack > 0.0 else 0.0), b1 - (slack if slack > 0.0 else 0.0)
        ) * starts
        delays[m] = own + waits[m]
        prev = here
        delay += delays[m]
        penalty += excesses[m]
    return delay, penalty


@njit(cache=True, error_model="numpy", inline="always")
def _charge_row(c, delay, penalty, energy, live, energy_left, slot, device_load, out) -> None:
    """A device's slot outcome scalars into ``out`` (its outcome row): cost (Eq. 14), ``energy`` drawn
    by the slot's tasks, the outage when it spends the budget ``energy_left``, the reward."""
    cost = delay + c[_PENALTY_WEIGHT] * penalty
    ran_out = live and energy_left - energy <= 0.0
    outage = _outage_charge(c, slot) if ran_out else 0.0
    out[REWARD] = -cost - outage if live else 0.0
    out[COST], out[DELAY], out[PENALTY] = cost, delay, penalty
    out[ENERGY], out[OUTAGE], out[RAN_OUT] = energy, outage, 1.0 if ran_out else 0.0
    out[DEVICE_LOAD] = device_load


@njit(cache=True, error_model="numpy", inline="always")
def _cost_row(
    b,
    placement,
    c,
    blocks,
    result_bits,
    slot,
    queue,
    device_queue,
    energy_left,
    alive,
    tasks_now,
    deadline_now,
    speed_now,
    access_now,
    airtime_now,
    out,
    at,
    along,
):
    """Row b's outcome under ``placement[b]`` (a single-device state): the scalars into ``out[b]``, the
    per-block parts (the Outcome.BLOCK_KEYS) into ``along[b]`` (5, M); no state change. The operations
    of :func:`_evaluate` for one row, in the same order (adding zeros where it skips a term). ``at[b]``
    (6, N + 1) is scratch for per-location values, device first: access and air time per bit, speed,
    work per task (then utilisation), backlog at the slot start and at its end. Choices that depend on
    the placement are lookups and arithmetic, not branches: with varied placements, mispredicted
    branches cost more than the arithmetic."""
    N = queue.shape[1]
    row = placement[b]
    energy = _place_row(row, c, blocks, result_bits, access_now[b, 0], airtime_now[b, 0], speed_now[b], at[b], along[b])
    work, start, end = at[b, 3], at[b, 4], at[b, 5]
    live = alive[b, 0]
    n_tasks = tasks_now[b, 0] if live else 0.0
    slot_s = c[_SLOT_S]
    for loc in range(N + 1):  # backlog of each location (device first) over the slot: from start to end
        start[loc] = device_queue[b, 0] if loc == 0 else queue[b, loc - 1]
        rho = n_tasks * work[loc] / slot_s
        end[loc] = start[loc] + (rho - 1.0) * slot_s
        work[loc] = rho  # from here on: the utilisation
    delay, penalty = _wait_row(row, c, deadline_now[b, 0], at[b], along[b])
    _charge_row(c, delay, penalty, n_tasks * energy, live, energy_left[b, 0], slot[b], work[0], out[b])


@njit(cache=True, error_model="numpy", inline="always")
def _observe_row(
    b, a, c, static, at, slot, queue, device_queue, energy_left, tasks_now, deadline_now, speed_now, access_now, obs
):
    """Device a of row b's observation into ``obs`` (its row of the observation array), as the env's
    ``encode`` computes it; ``static``: the device's static features; ``at``: the
    :class:`ObservationLayout`'s starts."""
    M, N = deadline_now.shape[2], queue.shape[1]
    for i in range(static.shape[0]):
        obs[at[_O_STATIC] + i] = static[i]
    for m in range(M):
        obs[at[_O_DEADLINE] + m] = deadline_now[b, a, m] * c[_INV_DEADLINE]
    for n in range(N):
        obs[at[_O_SPEED] + n] = speed_now[b, n] * c[_INV_SPEED]
        x = queue[b, n] * c[_INV_SLOT_S]
        obs[at[_O_QUEUE] + n] = x / (1.0 + x)
        obs[at[_O_RATE] + n] = 1.0 / (access_now[b, a, n] * c[_RATE_TOP])
    x = device_queue[b, a] * c[_INV_SLOT_S]
    obs[at[_O_DEVICE_QUEUE]] = x / (1.0 + x)
    x = tasks_now[b, a] * c[_INV_TASKS]
    obs[at[_O_TASKS]] = x / (1.0 + x)
    obs[at[_O_ENERGY]] = min(max(energy_left[b, a], 0.0) * c[_INV_ENERGY], 1.0)
    obs[at[_O_TIME_LEFT]] = (c[_LAST_SLOT] - slot[b]) * c[_INV_SLOTS]


@njit(cache=True, error_model="numpy", inline="always")
def _step_rows(
    placement,
    active,
    c,
    blocks,
    result_bits,
    static,
    proc,
    obs_at,
    out_at,
    slot,
    queue,
    device_queue,
    energy_left,
    alive,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks_now,
    deadline_now,
    speed_now,
    access_now,
    airtime_now,
    out,
    obs,
):
    """Apply placement[b] to every active row b and advance it to its next slot in place (queues,
    energy, slot, the next slot's draws), filling ``out[b]`` (all of the Outcome layout, or only its
    SCALARS first entries when ``out`` has no more columns); then write every row's observation.
    ``obs_at``, ``out_at``: the starts of the :class:`ObservationLayout` and :class:`Outcome` parts.
    Returns -1, or the first row whose placement is out of range (then nothing has changed).
    Rows are independent, so the loop over them may run on several threads (prange)."""
    B, M = placement.shape
    N = queue.shape[1]
    for b in range(B):
        for m in range(M):
            if active[b] and (placement[b, m] < 0 or placement[b, m] > N):
                return b
    at, along = np.empty((B, 6, N + 1)), np.empty((B, 5, M))
    detail = out.shape[1] > SCALARS
    contention_free = c[_CONTENTION_FREE] != 0.0
    for b in prange(B):
        if active[b]:
            _cost_row(
                b,
                placement,
                c,
                blocks,
                result_bits,
                slot,
                queue,
                device_queue,
                energy_left,
                alive,
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                airtime_now,
                out,
                at,
                along,
            )
            end = at[b, 5]
            left = end[0] if not contention_free and end[0] > 0.0 else 0.0
            out[b, DEVICE_QUEUE_END] = device_queue[b, 0] = left
            for n in range(N):
                left = end[n + 1] if not contention_free and end[n + 1] > 0.0 else 0.0
                queue[b, n] = left * speed_now[b, n]  # divided by the next slot's speed below
                if detail:
                    out[b, out_at[_X_SERVER_LOAD] + n] = at[b, 3, n + 1]
                    out[b, out_at[_X_QUEUE_END] + n] = left
            energy_left[b, 0] = energy_left[b, 0] - out[b, ENERGY]
            alive[b, 0] = alive[b, 0] and out[b, RAN_OUT] == 0.0
            slot[b] += 1
            draw_slot(
                proc,
                b,
                False,
                stream,
                server_xy,
                server_speed,
                fixed_airtime,
                load_walk,
                position,
                waypoint,
                leg_speed,
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                airtime_now,
            )
            for n in range(N):
                queue[b, n] = queue[b, n] / speed_now[b, n]
            out[b, NEXT_TASKS], out[b, ENERGY_LEFT] = tasks_now[b, 0], energy_left[b, 0]
            if detail:
                for k in range(5):  # Outcome.BLOCK_KEYS, consecutive in OUTCOME
                    for m in range(M):
                        out[b, out_at[_X_BLOCK + k] + m] = along[b, k, m]
                for n in range(N):
                    out[b, out_at[_X_QUEUE] + n] = queue[b, n]
                    out[b, out_at[_X_SERVER_SPEED] + n] = speed_now[b, n]
                    out[b, out_at[_X_RATE] + n] = 1.0 / access_now[b, 0, n]
                for m in range(M):
                    out[b, out_at[_X_DEADLINE] + m] = deadline_now[b, 0, m]
        _observe_row(
            b,
            0,
            c,
            static,
            obs_at,
            slot,
            queue,
            device_queue,
            energy_left,
            tasks_now,
            deadline_now,
            speed_now,
            access_now,
            obs[b],
        )
    return -1


# the kernel on one thread, and on numba's threads (worth their start-up cost for wide batches); two
# functions, not two dispatchers of one, so numba's cache keeps both
@njit(cache=True, error_model="numpy")
def _step_rows_serial(
    placement,
    active,
    c,
    blocks,
    result_bits,
    static,
    proc,
    obs_at,
    out_at,
    slot,
    queue,
    device_queue,
    energy_left,
    alive,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks_now,
    deadline_now,
    speed_now,
    access_now,
    airtime_now,
    out,
    obs,
):
    return _step_rows(
        placement,
        active,
        c,
        blocks,
        result_bits,
        static,
        proc,
        obs_at,
        out_at,
        slot,
        queue,
        device_queue,
        energy_left,
        alive,
        stream,
        server_xy,
        server_speed,
        fixed_airtime,
        load_walk,
        position,
        waypoint,
        leg_speed,
        tasks_now,
        deadline_now,
        speed_now,
        access_now,
        airtime_now,
        out,
        obs,
    )


@njit(cache=True, error_model="numpy", parallel=True)
def _step_rows_parallel(
    placement,
    active,
    c,
    blocks,
    result_bits,
    static,
    proc,
    obs_at,
    out_at,
    slot,
    queue,
    device_queue,
    energy_left,
    alive,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks_now,
    deadline_now,
    speed_now,
    access_now,
    airtime_now,
    out,
    obs,
):
    return _step_rows(
        placement,
        active,
        c,
        blocks,
        result_bits,
        static,
        proc,
        obs_at,
        out_at,
        slot,
        queue,
        device_queue,
        energy_left,
        alive,
        stream,
        server_xy,
        server_speed,
        fixed_airtime,
        load_walk,
        position,
        waypoint,
        leg_speed,
        tasks_now,
        deadline_now,
        speed_now,
        access_now,
        airtime_now,
        out,
        obs,
    )


PARALLEL_ROWS = 256  # CompiledCore uses the threads from this many rows on


@njit(cache=True, error_model="numpy")
def _observe_rows(
    rows, c, static, at, slot, queue, device_queue, energy_left, tasks_now, deadline_now, speed_now, access_now, obs
):
    """The observations of ``rows`` into ``obs`` (B, A, dim), every device's; ``static`` (A, 4 M)."""
    for b in rows:
        for a in range(static.shape[0]):
            _observe_row(
                b,
                a,
                c,
                static[a],
                at,
                slot,
                queue,
                device_queue,
                energy_left,
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                obs[b, a],
            )


@njit(cache=True, error_model="numpy")
def _step_devices(
    placement,
    active,
    c,
    blocks,
    result_bits,
    static,
    proc,
    obs_at,
    out_at,
    slot,
    queue,
    device_queue,
    energy_left,
    alive,
    stream,
    server_xy,
    server_speed,
    fixed_airtime,
    load_walk,
    position,
    waypoint,
    leg_speed,
    tasks_now,
    deadline_now,
    speed_now,
    access_now,
    airtime_now,
    out,
    obs,
):
    """:func:`_step_rows` for A devices per row: apply placement[b] (A, M) to every active row b, the
    devices' loads on each server summed in device order, and advance it to its next slot in place;
    ``out[b, a]``: device a's outcome row (all of the Outcome layout, the shared server parts in every
    device's row, or its SCALARS first entries alone); then write every device's observation into
    ``obs[b, a]``. ``blocks`` (A, 4, M), ``result_bits`` (A,), ``static`` (A, 4 M): per device.
    The operations of :func:`transition` in the same order. Returns -1, or b * A + a of the first
    active row b whose device a has a location out of range (then nothing has changed)."""
    B, A, M = placement.shape
    N = queue.shape[1]
    for b in range(B):
        for a in range(A):
            for m in range(M):
                if active[b] and (placement[b, a, m] < 0 or placement[b, a, m] > N):
                    return b * A + a
    at, along, energy = np.empty((A, 6, N + 1)), np.empty((A, 5, M)), np.empty(A)
    server_load = np.empty(N)
    detail = out.shape[2] > SCALARS
    free = c[_CONTENTION_FREE] != 0.0
    slot_s = c[_SLOT_S]
    for b in range(B):
        if active[b]:
            for a in range(A):
                row = placement[b, a]
                energy[a] = _place_row(
                    row,
                    c,
                    blocks[a],
                    result_bits[a],
                    access_now[b, a],
                    airtime_now[b, a],
                    speed_now[b],
                    at[a],
                    along[a],
                )
                n_tasks = tasks_now[b, a] if alive[b, a] else 0.0
                for loc in range(N + 1):
                    at[a, 3, loc] = n_tasks * at[a, 3, loc] / slot_s  # the utilisation of each location
                energy[a] = n_tasks * energy[a]
            for n in range(N):  # a server's utilisation sums every device's work on it
                load = at[0, 3, n + 1]
                for a in range(1, A):
                    load += at[a, 3, n + 1]
                server_load[n] = load
            for a in range(A):
                start, end = at[a, 4], at[a, 5]
                start[0] = device_queue[b, a]
                end[0] = start[0] + (at[a, 3, 0] - 1.0) * slot_s
                for n in range(N):
                    start[n + 1] = queue[b, n]
                    end[n + 1] = start[n + 1] + (server_load[n] - 1.0) * slot_s
                delay, penalty = _wait_row(placement[b, a], c, deadline_now[b, a], at[a], along[a])
                _charge_row(
                    c, delay, penalty, energy[a], alive[b, a], energy_left[b, a], slot[b], at[a, 3, 0], out[b, a]
                )
                left = end[0] if not free and end[0] > 0.0 else 0.0
                out[b, a, DEVICE_QUEUE_END] = device_queue[b, a] = left
                energy_left[b, a] = energy_left[b, a] - out[b, a, ENERGY]
                alive[b, a] = alive[b, a] and out[b, a, RAN_OUT] == 0.0
            end = at[0, 5]  # every device's row holds the servers' backlog
            for n in range(N):
                left = end[n + 1] if not free and end[n + 1] > 0.0 else 0.0
                queue[b, n] = left * speed_now[b, n]  # divided by the next slot's speed below
                if detail:
                    for a in range(A):
                        out[b, a, out_at[_X_SERVER_LOAD] + n] = server_load[n]
                        out[b, a, out_at[_X_QUEUE_END] + n] = left
            slot[b] += 1
            draw_slot(
                proc,
                b,
                False,
                stream,
                server_xy,
                server_speed,
                fixed_airtime,
                load_walk,
                position,
                waypoint,
                leg_speed,
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                airtime_now,
            )
            for n in range(N):
                queue[b, n] = queue[b, n] / speed_now[b, n]
            for a in range(A):
                out[b, a, NEXT_TASKS], out[b, a, ENERGY_LEFT] = tasks_now[b, a], energy_left[b, a]
                if detail:
                    for k in range(5):  # Outcome.BLOCK_KEYS, consecutive in OUTCOME
                        for m in range(M):
                            out[b, a, out_at[_X_BLOCK + k] + m] = along[a, k, m]
                    for n in range(N):
                        out[b, a, out_at[_X_QUEUE] + n] = queue[b, n]
                        out[b, a, out_at[_X_SERVER_SPEED] + n] = speed_now[b, n]
                        out[b, a, out_at[_X_RATE] + n] = 1.0 / access_now[b, a, n]
                    for m in range(M):
                        out[b, a, out_at[_X_DEADLINE] + m] = deadline_now[b, a, m]
        for a in range(A):
            _observe_row(
                b,
                a,
                c,
                static[a],
                obs_at,
                slot,
                queue,
                device_queue,
                energy_left,
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                obs[b, a],
            )
    return -1


def step_constants(cfg: EdgePartitionConfig) -> np.ndarray:
    """The compiled kernels' constants under ``cfg``: entries _LAST_SLOT .. _INV_SLOTS, float64."""
    return np.array(
        [
            cfg.episode_slots,
            cfg.slot_s,
            cfg.penalty_weight,
            cfg.tx_power_w,
            1.0 / cfg.wired_rate_bps,
            cfg.outage_cost_s,
            cfg.contention_free,
            1.0 / cfg.deadline_s[1],
            1.0 / cfg.server_speed_factor[1],
            cfg.rate_range_bps[1],
            1.0 / cfg.energy_budget_j,
            1.0 / (cfg.task_rate * cfg.slot_s),
            1.0 / cfg.slot_s,
            1.0 / cfg.episode_slots,
        ],
        dtype=np.float64,
    )


_STEP_FIELDS = ("slot", "queue", "device_queue", "energy_left", "alive") + _PROCESS_FIELDS  # the kernels' state
_OBSERVE_FIELDS = (
    "slot",
    "queue",
    "device_queue",
    "energy_left",
    "tasks_now",
    "deadline_now",
    "speed_now",
    "access_now",
)


def _block_table(blocks: Blocks) -> np.ndarray:
    """(A, 4, M): each device's local time, edge work, input bits and local energy per block, as the
    kernels read them."""
    return np.ascontiguousarray(
        np.stack([blocks.local_time, blocks.edge_work, blocks.input_bits, blocks.local_energy], axis=1)
    )


class CompiledCore:
    """Single-device instances (a State with A = 1) stepped in place by the compiled kernel.

    :meth:`step` advances ``state``'s arrays in place, as :func:`transition` would, and writes each
    row's observation as the env's ``encode`` would; start new episodes in rows with
    :func:`start_episodes` or :func:`copy_rows` (both write in place too). ``parallel``: step the rows
    on numba's threads; None: from ``PARALLEL_ROWS`` rows on. ``threads``: how many (None: numba's
    current setting, ``NUMBA_NUM_THREADS`` by default, one per core). The result does not depend on
    the threads. :class:`CompiledDevices` steps states with several devices.
    """

    def __init__(self, state: State, static: np.ndarray, parallel: bool | None = None, threads: int | None = None):
        if state.num_devices != 1:
            raise ValueError(f"state: CompiledCore runs single-device instances, got A={state.num_devices}")
        cfg, blocks = state.cfg, state.blocks
        self.state = state
        self.outcome = Outcome(cfg.num_blocks, cfg.num_servers)
        constants = step_constants(cfg)
        static = np.ascontiguousarray(static, dtype=np.float32)
        self._constants = (
            constants,
            _block_table(blocks)[0],
            float(blocks.result_bits[0]),
            static[0],
            process_params(cfg),
        )
        obs_at = ObservationLayout(cfg.num_blocks, cfg.num_servers).starts
        # the kernels' arguments, gathered once: the kernels write into these very arrays
        self._step_args = (
            self._constants + (obs_at, self.outcome.starts) + tuple(getattr(state, key) for key in _STEP_FIELDS)
        )
        self._observe_args = (constants, static, obs_at) + tuple(getattr(state, key) for key in _OBSERVE_FIELDS)
        if parallel is None:
            parallel = state.batch_size >= PARALLEL_ROWS
        self._kernel = _step_rows_parallel if parallel else _step_rows_serial
        self._threads = threads if parallel else None

    def step(self, placement: np.ndarray, active: np.ndarray, out: np.ndarray, obs: np.ndarray) -> int:
        """Apply ``placement`` (B, M) int64 to the rows where ``active`` (B,) bool, filling their rows of
        ``out`` (B, outcome.size) float64, or (B, SCALARS) for the scalars alone (the vector env, which
        reports no per-block parts, saves the work); write every row's observation into ``obs`` (B,
        dim) float32. Returns -1, or the first active row with a location outside [0, N]: then nothing
        has changed."""
        if self._threads is None:
            return self._kernel(placement, active, *self._step_args, out, obs)
        before = numba.get_num_threads()
        numba.set_num_threads(self._threads)
        try:
            return self._kernel(placement, active, *self._step_args, out, obs)
        finally:
            numba.set_num_threads(before)

    def observe(self, obs: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Write the current observation of ``rows`` (default: all) into ``obs`` (B, dim) float32."""
        rows = np.arange(self.state.batch_size) if rows is None else rows
        _observe_rows(rows, *self._observe_args, obs[:, None])


class CompiledDevices:
    """Instances with any number A of devices (a State's rows) stepped in place by one compiled call:
    the multi-agent env's fast path, and its batched vector form's.

    As :class:`CompiledCore`, on one thread, for every device of every row at once: :meth:`step`
    advances ``state``'s arrays in place, as :func:`transition` would (bit for bit: the devices'
    loads on a server are summed in device order, as there), and writes each device's observation as
    the env's ``encode`` would.
    """

    def __init__(self, state: State, static: np.ndarray):
        cfg, blocks = state.cfg, state.blocks
        self.state = state
        self.outcome = Outcome(cfg.num_blocks, cfg.num_servers)
        constants = step_constants(cfg)
        static = np.ascontiguousarray(static, dtype=np.float32)  # (A, 4 M)
        result_bits = np.ascontiguousarray(blocks.result_bits, dtype=np.float64)
        obs_at = ObservationLayout(cfg.num_blocks, cfg.num_servers).starts
        self._step_args = (
            constants,
            _block_table(blocks),
            result_bits,
            static,
            process_params(cfg),
            obs_at,
            self.outcome.starts,
        ) + tuple(getattr(state, key) for key in _STEP_FIELDS)
        self._observe_args = (constants, static, obs_at) + tuple(getattr(state, key) for key in _OBSERVE_FIELDS)

    def step(self, placement: np.ndarray, active: np.ndarray, out: np.ndarray, obs: np.ndarray) -> int:
        """Apply ``placement`` (B, A, M) int64 to the rows where ``active`` (B,) bool (a device that is
        no longer alive adds no load, whatever its placement), filling their rows of ``out`` (B, A,
        outcome.size) float64, or (B, A, SCALARS) for the scalars alone; write every device's
        observation into ``obs`` (B, A, dim) float32. Returns -1, or b * A + a for the first active
        row b whose device a has a location outside [0, N]: then nothing has changed."""
        return _step_devices(placement, active, *self._step_args, out, obs)

    def observe(self, obs: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Write the current observation of ``rows`` (default: all) into ``obs`` (B, A, dim) float32."""
        _observe_rows(np.arange(self.state.batch_size) if rows is None else rows, *self._observe_args, obs)


# ---------------------------------------------------------------------------------------------
# the slot's cost of many placements, for exact per-slot search (baselines.edge_partition.exact)
#
# Additive section: the functions below charge a placement through _cost_row, the compiled kernel
# the env itself steps with, so an exact search scores placements with the env's own cost.

_COST_FIELDS = (
    "slot",
    "queue",
    "device_queue",
    "energy_left",
    "alive",
    "tasks_now",
    "deadline_now",
    "speed_now",
    "access_now",
    "airtime_now",
)


def slot_cost_args(state: State) -> tuple:
    """The arguments of the compiled per-row cost for a single-device state: the constants
    :class:`CompiledCore` builds, then the state's arrays (read, never written)."""
    compiled = CompiledCore(state, np.zeros((1, 4 * state.cfg.num_blocks), np.float32), parallel=False)
    return compiled._constants[:3] + tuple(getattr(state, key) for key in _COST_FIELDS)


def cost_scratch(state: State) -> tuple:
    """(placement (B, M) int64, out (B, SCALARS), at (B, 6, N + 1), along (B, 5, M)): the buffers
    :func:`placement_reward` writes."""
    B, M, N = state.batch_size, state.cfg.num_blocks, state.cfg.num_servers
    return (np.zeros((B, M), np.int64), np.empty((B, SCALARS)), np.empty((B, 6, N + 1)), np.empty((B, 5, M)))


@njit(cache=True, error_model="numpy")
def placement_reward(b, placement, args, out, at, along) -> float:
    """Row b's reward this slot (Eq. 14, the outage included) under ``placement[b]``, as the env
    charges it; ``args``: :func:`slot_cost_args`, the rest :func:`cost_scratch`. Leaves the slot's
    per-block parts in ``along[b]`` (the Outcome.BLOCK_KEYS) and the per-location utilisation in
    ``at[b, 3]`` (device first)."""
    c, table, result_bits, slot, queue, device_queue, energy_left, alive, tasks, deadline, speed, access, airtime = args
    _cost_row(
        b,
        placement,
        c,
        table,
        result_bits,
        slot,
        queue,
        device_queue,
        energy_left,
        alive,
        tasks,
        deadline,
        speed,
        access,
        airtime,
        out,
        at,
        along,
    )
    return out[b, REWARD]


@njit(cache=True, error_model="numpy")
def best_enumerated(b, args, placement, out, at, along):
    """(placement (M,), reward) maximising row b's slot reward over all (N + 1)^M placements, visited
    in lexicographic order (ties go to the first); ``placement[b]`` is used as the odometer."""
    M, L = placement.shape[1], at.shape[2]
    row = placement[b]
    row[:] = 0
    best, best_reward = row.copy(), -np.inf
    while True:
        reward = placement_reward(b, placement, args, out, at, along)
        if reward > best_reward:
            best_reward = reward
            best[:] = row
        m = M - 1
        while m >= 0 and row[m] == L - 1:
            row[m] = 0
            m -= 1
        if m < 0:
            return best, best_reward
        row[m] += 1


@njit(cache=True, error_model="numpy")
def energy_terms(b, args) -> tuple[np.ndarray, float]:
    """(energy (M, L, L), outage): J per task that block m at j after block m-1 at i draws from row b's
    budget (block 0: row i = 0, the device; L = N + 1), and the outage charge if the slot's energy runs
    out, as :func:`placement_reward` charges them (``args``: :func:`slot_cost_args`)."""
    c, blocks, airtime = args[0], args[1], args[12]
    M, N = blocks.shape[1], airtime.shape[2]
    energy = np.empty((M, N + 1, N + 1))
    for m in range(M):
        for i in range(N + 1):
            for j in range(N + 1):
                air = airtime[b, 0, j - 1] if j > 0 else 0.0
                energy[m, i, j] = _block_energy(blocks[3, m], blocks[2, m], c[_TX_POWER], air, j, i)
    return energy, _outage_charge(c, args[3][b])


ramp_mean_positive = _row_mean_positive
"""Mean over a slot of max(0, x) with x moving linearly from x0 to x1: the waiting (and deadline-excess)
term of a queued block, for bounds that relax the slot's cost (the cost itself: :func:`placement_reward`)."""
