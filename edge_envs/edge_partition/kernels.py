"""The compiled step of EdgePartition: the envs' fast path, bit-identical to :func:`core.transition`.

numpy's per-call overhead dominates the batched core at small B, and a 1024-wide step through it makes
about sixty passes over memory; numba compiles :func:`_advance`, which does one row at a time (all of its
devices) the floating-point operations of :func:`core.transition` in the same order (no fused
multiply-adds), so its trajectory is bit-identical to the batched core's (the tests hold the two to
that). One kernel body serves every path: :class:`CompiledCore` (one device per row, the single and
vector envs; on one thread or numba's threads) and :class:`CompiledDevices` (A devices per row, the
multi-agent envs) both run it. :func:`row_cost` is its cost part, which the exact per-slot solvers
(``baselines.edge_partition.exact``) also charge placements with.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import literal_unroll, njit, prange

from edge_envs.compiled import compiled_for, hold
from edge_envs.edge_partition import core
from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.layout import (
    COST,
    DELAY,
    DEVICE_LOAD,
    DEVICE_QUEUE_END,
    ENERGY,
    ENERGY_LEFT,
    NEXT_TASKS,
    OBSERVATION,
    OUTAGE,
    OUTCOME,
    PENALTY,
    RAN_OUT,
    REWARD,
    SCALARS,
    STATIC_KEYS,
    ObservationLayout,
    Outcome,
)
from edge_envs.edge_partition.processes import draw_slot, process_params

# entries of the step constants (step_constants)
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


def block_table(blocks: core.Blocks) -> np.ndarray:
    """(A, 4, M): each device's local time, edge work, input bits and local energy per block, as the
    kernels read them."""
    return np.ascontiguousarray(
        np.stack([blocks.local_time, blocks.edge_work, blocks.input_bits, blocks.local_energy], axis=1)
    )


# ---------------------------------------------------------------------------------------------
# one device's slot, in parts


@njit(cache=True, error_model="numpy", inline="always")
def ramp_mean_positive(x0: float, x1: float) -> float:
    """Mean over a slot of max(0, x) with x moving linearly from x0 to x1: the waiting (and deadline
    excess) term of a queued block; ``core._mean_positive`` of two floats (same operations), written as
    a select, not a branch."""
    p = (x0 if x0 > 0.0 else 0.0) + (x1 if x1 > 0.0 else 0.0)
    return p * p / (2.0 * abs(x1 - x0)) if x0 * x1 < 0.0 else 0.5 * p


@njit(cache=True, error_model="numpy", inline="always")
def block_energy(c, table, a, m, air_here, here, prev):
    """J per task of device a's block m at ``here`` after ``prev``: its compute on the device (Eq. 4) and
    the upload of its input from the device (Eq. 7); ``table``: :func:`block_table` (A, 4, M)."""
    return table[a, 3, m] * (here == 0) + c[_TX_POWER] * (table[a, 2, m] * (air_here * (prev == 0)))


@njit(cache=True, error_model="numpy", inline="always")
def outage_charge(c, slot_b):
    """The outage charge of a slot whose energy runs out: ``outage_cost_s`` for each later slot."""
    return (c[_LAST_SLOT] - 1 - slot_b) * c[_OUTAGE_COST]


# The functions below index the whole arrays with (b, a) rather than take views of a row: every view
# made in the loop over rows costs an atomic reference count up and down (a quarter of the step's time).


@njit(cache=True, error_model="numpy", inline="always")
def _place_row(b, a, placement, c, table, result_bits, access, airtime, speed_now, at, along) -> float:
    """First part of device a's slot in row b under ``placement[b, a]`` (M,): transfer and compute of
    each block into ``along[b, a, 1..2]`` (Outcome.BLOCK_KEYS), per location (device first) the access
    and air time per bit, speed and work per task into ``at[b, a, 0..3]``; returns the energy per
    task. ``table``: (local time, edge work, input bits, local energy) (A, 4, M); ``access``,
    ``airtime`` (B, A, N): the links; ``speed_now`` (B, N): the servers' speeds."""
    M, N = placement.shape[2], speed_now.shape[1]
    at[b, a, 0, 0], at[b, a, 1, 0], at[b, a, 2, 0], at[b, a, 3, 0] = 0.0, 0.0, 1.0, 0.0
    for n in range(N):
        at[b, a, 0, n + 1], at[b, a, 1, n + 1] = access[b, a, n], airtime[b, a, n]
        at[b, a, 2, n + 1], at[b, a, 3, n + 1] = speed_now[b, n], 0.0
    # transfer and compute of each block, compute per task at each location, energy (Eqs. 3-7)
    wired = c[_INV_WIRED]
    energy = 0.0
    prev = 0
    for m in range(M):
        here, bits = placement[b, a, m], table[a, 2, m]
        # same location: 0; device <-> server: that server's access time; server <-> server: R_max
        link = at[b, a, 0, here] + at[b, a, 0, prev] if here * prev == 0 else wired
        along[b, a, 1, m] = bits * (link * (here != prev))
        compute = table[a, min(here, 1), m] / at[b, a, 2, here]  # local time on the device; edge work / speed
        along[b, a, 2, m] = compute
        energy += block_energy(c, table, a, m, at[b, a, 1, here], here, prev)  # Eqs. (4), (7)
        at[b, a, 3, here] += compute
        prev = here
    along[b, a, 1, M - 1] = along[b, a, 1, M - 1] + result_bits[a] * at[b, a, 0, prev]  # the result's return
    return energy


@njit(cache=True, error_model="numpy", inline="always")
def _wait_row(b, a, placement, c, deadline, at, along) -> tuple:
    """Second part, once each location's backlog at the slot start and end is in ``at[b, a, 4]``,
    ``at[b, a, 5]``: each block's wait, excess over its deadline (``deadline`` (B, A, M)) and delay into
    ``along[b, a]``; returns (delay, penalty) per task. A block that starts a segment waits behind its
    location's backlog."""
    M = placement.shape[2]
    queues = c[_CONTENTION_FREE] == 0.0
    delay = penalty = 0.0
    prev = -1
    for m in range(M):
        here = placement[b, a, m]
        own = along[b, a, 1, m] + along[b, a, 2, m]
        tau = deadline[b, a, m]
        over, slack = own - tau, tau - own
        starts = queues and here != prev
        b0, b1 = at[b, a, 4, here], at[b, a, 5, here]
        wait = ramp_mean_positive(b0, b1) * starts
        excess = (over if over > 0.0 else 0.0) + ramp_mean_positive(
            b0 - (slack if slack > 0.0 else 0.0), b1 - (slack if slack > 0.0 else 0.0)
        ) * starts
        along[b, a, 3, m], along[b, a, 4, m] = wait, excess
        along[b, a, 0, m] = own + wait
        prev = here
        delay += own + wait
        penalty += excess
    return delay, penalty


@njit(cache=True, error_model="numpy", inline="always")
def row_cost(
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
):
    """Row b's slot outcome under ``placement[b]`` (A, M), no state change: each device's scalars into
    ``out[b, a]`` (at least SCALARS), its per-block parts (the Outcome.BLOCK_KEYS) into ``along[b, a]``
    (5, M). The operations of ``core._evaluate`` for one instance, in the same order (adding zeros where
    it skips a term). The State's arrays (``slot`` .. ``airtime``: B rows), ``table`` (A, 4, M)
    (:func:`block_table`), ``result_bits`` (A,). ``at`` (B, A, 6, N + 1) is scratch for per-location
    values, device first: access and air time per bit, speed, work per task (then utilisation; a
    server's sums every device's work on it, in device order), backlog at the slot start and at its
    end. Choices that depend on the placement are lookups and arithmetic, not branches: with varied
    placements, mispredicted branches cost more than the arithmetic."""
    A, N = placement.shape[1], speed.shape[1]
    slot_s = c[_SLOT_S]
    for a in range(A):
        energy = _place_row(b, a, placement, c, table, result_bits, access, airtime, speed, at, along)
        n_tasks = tasks[b, a] if alive[b, a] else 0.0
        for loc in range(N + 1):
            at[b, a, 3, loc] = n_tasks * at[b, a, 3, loc] / slot_s  # the utilisation of each location
        out[b, a, ENERGY] = n_tasks * energy
    if A > 1:
        for n in range(1, N + 1):  # a server's utilisation sums every device's work on it
            load = at[b, 0, 3, n]
            for a in range(1, A):
                load += at[b, a, 3, n]
            for a in range(A):
                at[b, a, 3, n] = load
    for a in range(A):
        at[b, a, 4, 0] = device_queue[b, a]  # backlog of each location over the slot: from start to end
        at[b, a, 5, 0] = at[b, a, 4, 0] + (at[b, a, 3, 0] - 1.0) * slot_s
        for n in range(N):
            at[b, a, 4, n + 1] = queue[b, n]
            at[b, a, 5, n + 1] = queue[b, n] + (at[b, a, 3, n + 1] - 1.0) * slot_s
        delay, penalty = _wait_row(b, a, placement, c, deadline, at, along)
        cost = delay + c[_PENALTY_WEIGHT] * penalty  # Eq. (14)
        live, energy = alive[b, a], out[b, a, ENERGY]
        ran_out = live and energy_left[b, a] - energy <= 0.0  # the slot's tasks spend the budget
        outage = outage_charge(c, slot[b]) if ran_out else 0.0
        out[b, a, REWARD] = -cost - outage if live else 0.0
        out[b, a, COST], out[b, a, DELAY], out[b, a, PENALTY] = cost, delay, penalty
        out[b, a, OUTAGE], out[b, a, RAN_OUT] = outage, 1.0 if ran_out else 0.0
        out[b, a, DEVICE_LOAD] = at[b, a, 3, 0]


@njit(cache=True, error_model="numpy", inline="always")
def _observe_row(
    b, a, c, static, at, slot, queue, device_queue, energy_left, tasks_now, deadline_now, speed_now, access_now, obs
):
    """Device a of row b's observation into ``obs[b, a]``, as the env's ``encode`` computes it;
    ``static`` (A, 4 M): the devices' static features; ``at``: the :class:`ObservationLayout`'s starts."""
    M, N = deadline_now.shape[2], queue.shape[1]
    for i in range(static.shape[1]):
        obs[b, a, at[_O_STATIC] + i] = static[a, i]
    for m in range(M):
        obs[b, a, at[_O_DEADLINE] + m] = deadline_now[b, a, m] * c[_INV_DEADLINE]
    for n in range(N):
        obs[b, a, at[_O_SPEED] + n] = speed_now[b, n] * c[_INV_SPEED]
        x = queue[b, n] * c[_INV_SLOT_S]
        obs[b, a, at[_O_QUEUE] + n] = x / (1.0 + x)
        obs[b, a, at[_O_RATE] + n] = 1.0 / (access_now[b, a, n] * c[_RATE_TOP])
    x = device_queue[b, a] * c[_INV_SLOT_S]
    obs[b, a, at[_O_DEVICE_QUEUE]] = x / (1.0 + x)
    x = tasks_now[b, a] * c[_INV_TASKS]
    obs[b, a, at[_O_TASKS]] = x / (1.0 + x)
    obs[b, a, at[_O_ENERGY]] = min(max(energy_left[b, a], 0.0) * c[_INV_ENERGY], 1.0)
    obs[b, a, at[_O_TIME_LEFT]] = (c[_LAST_SLOT] - slot[b]) * c[_INV_SLOTS]


# ---------------------------------------------------------------------------------------------
# the step: every active row's slot, its advance to the next slot, every row's observation


STEP_FIELDS = ("slot", "queue", "device_queue", "energy_left", "alive") + core.PROCESS_FIELDS  # the step's state
_STEP_INDEX = tuple(range(len(STEP_FIELDS)))


@njit(cache=True, inline="always")
def _first_bad(placement, active, N):
    """-1, or b * A + a for the first active row b whose device a has a location outside [0, N]."""
    B, A, M = placement.shape
    for b in range(B):
        for a in range(A):
            for m in range(M):
                if active[b] and (placement[b, a, m] < 0 or placement[b, a, m] > N):
                    return b * A + a
    return -1


@njit(cache=True, inline="always")
def _restart(active, state, fresh, out):
    """Every row b not active takes row b of each ``fresh`` array (its next episode's start, drawn
    ahead), its outcome row zeroed. ``state``, ``fresh``: arrays in ``STEP_FIELDS`` order, which
    holds every per-row array of a State."""
    for b in range(active.shape[0]):
        if not active[b]:
            for i in literal_unroll(_STEP_INDEX):
                to, row = state[i].reshape((active.shape[0], -1)), fresh[i].reshape((active.shape[0], -1))
                for j in range(to.shape[1]):  # element by element: copying a row whole needs numba's allocator
                    to[b, j] = row[b, j]
            out[b] = 0.0


@njit(cache=True, error_model="numpy", inline="always")
def _advance(placement, active, constants, state, out, obs):
    """Apply placement[b] (A, M) to every active row b and advance it to its next slot in place
    (queues, energy, slot, the next slot's draws), filling ``out[b, a]`` (all of the Outcome layout,
    the shared server parts in every device's row, or its SCALARS first entries alone); then write every
    device's observation into ``obs[b, a]``. ``constants``: (step constants, block table (A, 4, M),
    result bits (A,), static features (A, 4 M), process parameters, ObservationLayout starts, Outcome
    starts, then the work arrays of :func:`row_cost`, ``at`` (B, A, 6, N + 1) and ``along`` (B, A, 5,
    M), which the kernel overwrites); ``state``: the State's arrays in ``STEP_FIELDS`` order; the locations are in range
    (:func:`_first_bad`). Rows are independent, so the loop over them may run on several threads
    (prange)."""
    c, table, result_bits, static, proc, obs_at, out_at, at, along = constants
    slot, queue, device_queue, energy_left, alive, stream, server_xy, server_speed, fixed_airtime, load_walk = state[
        :10
    ]
    position, waypoint, leg_speed, tasks_now, deadline_now, speed_now, access_now, airtime_now = state[10:]
    B, A, M = placement.shape
    N = queue.shape[1]
    detail = out.shape[2] > SCALARS
    free = c[_CONTENTION_FREE] != 0.0
    for b in prange(B):
        if active[b]:
            row_cost(
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
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                airtime_now,
                out,
                at,
                along,
            )
            for a in range(A):
                end = at[b, a, 5, 0]
                left = end if not free and end > 0.0 else 0.0
                out[b, a, DEVICE_QUEUE_END] = device_queue[b, a] = left
                energy_left[b, a] = energy_left[b, a] - out[b, a, ENERGY]
                alive[b, a] = alive[b, a] and out[b, a, RAN_OUT] == 0.0
            for n in range(N):  # every device's row holds the servers' backlog
                end = at[b, 0, 5, n + 1]
                left = end if not free and end > 0.0 else 0.0
                queue[b, n] = left * speed_now[b, n]  # divided by the next slot's speed below
                if detail:
                    for a in range(A):
                        out[b, a, out_at[_X_SERVER_LOAD] + n] = at[b, a, 3, n + 1]
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
                            out[b, a, out_at[_X_BLOCK + k] + m] = along[b, a, k, m]
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
                obs,
            )


# The step on one thread, and on numba's threads (worth their start-up cost for wide batches), each also
# with the vector env's autoreset: one body (_advance), four compiled functions (not dispatchers of one,
# so numba's cache keeps each), and the single env's entry to the serial one (_step_held). Each returns
# -1, or b * A + a for the first active row b whose device a has a location outside [0, N]: then nothing
# has changed. The four run without numba's reference counting (_nrt=False): with it, each inlined call
# that passes arrays left an atomic increment and decrement of their counts in the loop over rows, 15%
# of a 1024-wide step's time (perf). Such a function cannot allocate, so its work arrays come with the
# constants (CompiledDevices makes them once).
@njit(cache=True, error_model="numpy", _nrt=False)
def _step_serial(placement, active, constants, state, out, obs):
    bad = _first_bad(placement, active, state[1].shape[1])
    if bad < 0:
        _advance(placement, active, constants, state, out, obs)
    return bad


@njit(cache=True, error_model="numpy")
def _step_held(placement, active, held, out, obs):
    """_step_serial of one row and one device, its constants and state held in one structref
    (edge_envs.compiled.hold): a call unboxes one object instead of 25 arrays, an eighth of the single env's
    step. ``placement`` (M,), ``out`` (outcome.size,) and ``obs`` (dim,): contiguous, viewed as (1, 1, ...)."""
    return _step_serial(
        placement.reshape(1, 1, -1), active, held.constants, held.state, out.reshape(1, 1, -1), obs.reshape(1, 1, -1)
    )


@njit(cache=True, error_model="numpy", parallel=True, _nrt=False)
def _step_parallel(placement, active, constants, state, out, obs):
    bad = _first_bad(placement, active, state[1].shape[1])
    if bad < 0:
        _advance(placement, active, constants, state, out, obs)
    return bad


@njit(cache=True, error_model="numpy", _nrt=False)
def _restart_step_serial(placement, active, constants, state, fresh, out, obs):
    bad = _first_bad(placement, active, state[1].shape[1])
    if bad < 0:
        _restart(active, state, fresh, out)
        _advance(placement, active, constants, state, out, obs)
    return bad


@njit(cache=True, error_model="numpy", parallel=True, _nrt=False)
def _restart_step_parallel(placement, active, constants, state, fresh, out, obs):
    bad = _first_bad(placement, active, state[1].shape[1])
    if bad < 0:
        _restart(active, state, fresh, out)
        _advance(placement, active, constants, state, out, obs)
    return bad


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
                static,
                at,
                slot,
                queue,
                device_queue,
                energy_left,
                tasks_now,
                deadline_now,
                speed_now,
                access_now,
                obs,
            )


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


def step_arrays(state: core.State) -> tuple:
    """The State's per-row arrays in ``STEP_FIELDS`` order, as the kernels take them."""
    return tuple(getattr(state, key) for key in STEP_FIELDS)


class CompiledDevices:
    """Instances with any number A of devices (a State's rows) stepped in place by one compiled call:
    the multi-agent env's fast path, and its batched vector form's.

    :meth:`step` advances ``state``'s arrays in place, as :func:`core.transition` would (bit for bit:
    the devices' loads on a server are summed in device order, as there), and writes each device's
    observation as the env's ``encode`` would; start new episodes in rows with
    :func:`core.start_episodes` or :func:`core.copy_rows` (both write in place too). ``parallel``: step
    the rows on numba's threads; ``threads``: how many (None: numba's current setting,
    ``NUMBA_NUM_THREADS`` by default, one per core). The result does not depend on the threads.
    """

    def __init__(self, state: core.State, static: np.ndarray, parallel: bool = False, threads: int | None = None):
        cfg, blocks = state.cfg, state.blocks
        self.state = state
        self.outcome = Outcome(cfg.num_blocks, cfg.num_servers)
        c = step_constants(cfg)
        static = np.ascontiguousarray(static, dtype=np.float32)  # (A, 4 M)
        result_bits = np.ascontiguousarray(blocks.result_bits, dtype=np.float64)
        obs_at = ObservationLayout(cfg.num_blocks, cfg.num_servers).starts
        # the kernel's arguments, gathered once: the kernel writes into these very arrays
        self._constants = (
            c,
            block_table(blocks),
            result_bits,
            static,
            process_params(cfg),
            obs_at,
            self.outcome.starts,
            np.empty((state.batch_size, state.num_devices, 6, cfg.num_servers + 1)),  # row_cost's work arrays
            np.empty((state.batch_size, state.num_devices, 5, cfg.num_blocks)),
        )
        self._state = step_arrays(state)
        self._observe_args = (c, static, obs_at) + tuple(getattr(state, key) for key in _OBSERVE_FIELDS)
        self._kernels = (_step_parallel, _restart_step_parallel) if parallel else (_step_serial, _restart_step_serial)
        self._threads = threads if parallel else None

    def step(
        self, placement: np.ndarray, active: np.ndarray, out: np.ndarray, obs: np.ndarray, fresh: tuple | None = None
    ) -> int:
        """Apply ``placement`` (B, A, M) int64 to the rows where ``active`` (B,) bool (a device that is
        no longer alive adds no load, whatever its placement), filling their rows of ``out`` (B, A,
        outcome.size) float64, or (B, A, SCALARS) for the scalars alone; write every device's
        observation into ``obs`` (B, A, dim) float32. ``fresh``: None, or the :func:`step_arrays` of a
        State whose rows hold each row's next episode start: the rows not active start it first (their
        ``out`` rows zeroed), the vector env's autoreset. Returns -1, or b * A + a for the first active
        row b whose device a has a location outside [0, N]: then nothing has changed."""
        if self._threads is None and fresh is None:  # the multi-agent env's path: no more than the call
            return self._kernels[0](placement, active, self._constants, self._state, out, obs)
        if fresh is None:
            kernel, args = self._kernels[0], (placement, active, self._constants, self._state, out, obs)
        else:
            kernel, args = self._kernels[1], (placement, active, self._constants, self._state, fresh, out, obs)
        if self._threads is None:
            return kernel(*args)
        before = numba.get_num_threads()
        numba.set_num_threads(self._threads)
        try:
            return kernel(*args)
        finally:
            numba.set_num_threads(before)

    def serial_step(self, placement: np.ndarray, active: np.ndarray, out: np.ndarray, obs: np.ndarray):
        """:meth:`step` of a single row and device on one thread as a function ``f(placement, active, out,
        obs)`` for arguments of the types of these (a single env's: it must pass no others; ``placement``
        (M,), ``out`` (outcome.size,) and ``obs`` (dim,) contiguous), which skips numba's typing and
        unboxing of the state's arrays at each call: the single env's step."""
        held = hold(self._constants, self._state)
        run = compiled_for(_step_held, (placement, active, held, out, obs))
        return lambda placement, active, out, obs: run(placement, active, held, out, obs)

    def observe(self, obs: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Write the current observation of ``rows`` (default: all) into ``obs`` (B, A, dim) float32."""
        _observe_rows(np.arange(self.state.batch_size) if rows is None else rows, *self._observe_args, obs)


class CompiledCore(CompiledDevices):
    """Single-device instances (a State with A = 1) stepped in place by the compiled kernel: the single
    and vector envs' fast path. As :class:`CompiledDevices`, with the device axis dropped from the
    arrays :meth:`step` and :meth:`observe` take; ``parallel`` None: from ``PARALLEL_ROWS`` rows on.
    """

    def __init__(self, state: core.State, static: np.ndarray, parallel: bool | None = None, threads: int | None = None):
        if state.num_devices != 1:
            raise ValueError(f"state: CompiledCore runs single-device instances, got A={state.num_devices}")
        super().__init__(state, static, state.batch_size >= PARALLEL_ROWS if parallel is None else parallel, threads)

    def step(
        self, placement: np.ndarray, active: np.ndarray, out: np.ndarray, obs: np.ndarray, fresh: tuple | None = None
    ) -> int:
        """Apply ``placement`` (B, M) int64 to the rows where ``active`` (B,) bool, filling their rows of
        ``out`` (B, outcome.size) float64, or (B, SCALARS) for the scalars alone (the vector env, which
        reports no per-block parts, saves the work); write every row's observation into ``obs`` (B,
        dim) float32; ``fresh``: as for :meth:`CompiledDevices.step`. Returns -1, or the first active
        row with a location outside [0, N]: then nothing has changed."""
        return super().step(placement[:, None], active, out[:, None], obs[:, None], fresh)

    def observe(self, obs: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Write the current observation of ``rows`` (default: all) into ``obs`` (B, dim) float32."""
        super().observe(obs[:, None], rows)
