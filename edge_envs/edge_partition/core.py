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
links) are drawn slot by slot (:mod:`~edge_envs.edge_partition.processes`): each slot's values when
it starts, from each instance's own random stream, so an instance's trajectory does not depend on the
batch it runs in.

Contention-free configuration: no waiting (each task is served as if alone), fixed speeds, a still
device without fading, no energy limit; :func:`block_pair_costs` chained along a placement then sums
exactly to the slot's per-task cost, so each slot is a shortest-path problem.

The rest of EdgePartition's model lives beside this module: the exogenous processes in
:mod:`~edge_envs.edge_partition.processes`, the observation and outcome layouts in
:mod:`~edge_envs.edge_partition.layout`, and the compiled step the envs run (same floating-point
operations in the same order, held bit-identical to :func:`transition` by the tests) in
:mod:`~edge_envs.edge_partition.kernels`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import literal_unroll, njit

from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.generator import Instance
from edge_envs.edge_partition.processes import next_slot, process_params, seed_stream, start_rows

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
    ``processes.draw_slot`` when a slot starts; ``*_now`` are the current slot's draws (what the
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
PROCESS_FIELDS = (
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
_ADVANCED = PROCESS_FIELDS[:1] + PROCESS_FIELDS[4:]  # those a slot start changes
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
    return tuple(getattr(state, key) for key in PROCESS_FIELDS)


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

    Returns the state at the next slot, with that slot's draws made (``processes.draw_slot``), and the
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
