"""Exogenous processes of EdgePartition, drawn slot by slot: what the placement does not decide.

The tasks each device releases (round(lambda slot_s), or Poisson), the deadline tau_m of each block
(uniform in deadline_s), each server's speed (base speed x (1 - background load), the load a random
walk reflected into [0, background_load], steps uniform in +-background_step), each device's position
(random waypoint: straight legs to waypoints uniform in the area at speeds uniform in walk_speed_mps),
Rayleigh fading on each direct link, and from them the access time and air time per bit to each
server (:func:`_device_links`, Eq. 5).

Each instance (row) draws from its own random stream, a splitmix64 sequence (Steele, Lea and Flood,
OOPSLA 2014, with Vigna's output mix) whose 64-bit state is ``State.stream``, seeded from the row's
numpy Generator at the episode start. The draws of a slot are made when the slot starts, in a fixed
order (per device: tasks, then deadlines; then the background load of each server; then per device its
move and the fading of each direct link), so a row's trajectory depends only on its seed and its
actions, never on the batch it runs in, and nothing is drawn ahead of need. Compiled by numba: a slot's
draws cost about as much as its costs. The arrays are :class:`edge_envs.edge_partition.core.State`'s,
passed in ``core.PROCESS_FIELDS`` order.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.net import channel

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
