"""One single-device EdgePartition instance stepped by a compiled kernel: the single env's fast path.

At B = 1 numpy's per-call overhead dominates the batched core, and the same arithmetic on Python
floats costs several microseconds a slot; numba compiles :func:`_step`, which performs the
floating-point operations of :func:`core._evaluate` and :func:`core.transition` for one row in
the same order (float32 trace entries widened to float64 before use, no fused multiply-adds), so
its trajectory is bit-identical to the batched core's; the tests hold the two to that.

:meth:`RowCore.step` returns the slot's outcome as one float64 array, laid out by :class:`Outcome`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit

from edge_envs.edge_partition import core

# scalar entries of an outcome array (then the per-block and per-server parts, see Outcome)
REWARD, COST, DELAY, PENALTY, ENERGY, OUTAGE, RAN_OUT, DEVICE_QUEUE_END, DEVICE_LOAD = range(9)
_SCALARS = 9


class Outcome:
    """Layout of :meth:`RowCore.step`'s array for M blocks and N servers: the scalars above, then
    ``block_delay``, ``block_transfer``, ``block_compute``, ``block_wait``, ``block_excess`` (M each),
    ``server_load``, ``queue_end`` (keys and meanings as :class:`core.SlotOutcome`) and ``queue``
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
def _mean_positive(x0: float, x1: float) -> float:
    """core._mean_positive of two floats (same operations)."""
    p = (x0 if x0 > 0.0 else 0.0) + (x1 if x1 > 0.0 else 0.0)
    return p * p / (2.0 * abs(x1 - x0)) if x0 * x1 < 0.0 else 0.5 * p


@njit(cache=True, error_model="numpy")
def _step(p, t, last_slot, slot_s, penalty_weight, tx_power, inv_wired, outage_cost, contention_free,
          local_time, edge_work, input_bits, result_bits, local_energy,
          tasks, deadline, speed, access, airtime, queue, scalars, out):
    """Slot t under placement p (M,): fills ``out`` (an Outcome layout) and advances the state in
    place: ``queue`` (N,) server backlog, ``scalars`` = [device backlog, energy left]."""
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
    start[0] = scalars[0]
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
                wait = _mean_positive(b0, b1)
                slack = tau - own
                slack = slack if slack > 0.0 else 0.0
                excess = excess + _mean_positive(b0 - slack, b1 - slack)
        prev = here
        out[b_delay + m] = own + wait
        out[b_wait + m], out[b_excess + m] = wait, excess
        delay += own + wait
        penalty += excess
    cost = delay + penalty_weight * penalty
    energy = n_tasks * energy
    ran_out = scalars[1] - energy <= 0.0
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
    scalars[0] = out[DEVICE_QUEUE_END]
    scalars[1] = scalars[1] - energy


@njit(cache=True, error_model="numpy")
def _observe(rows, t, queue, scalars, slot_s, energy_budget, queue_at, device_queue_at, energy_at):
    """Observation of slot t: its precomputed row (float32) with the queues and energy filled in,
    encoded as env.encode does."""
    obs = rows[t].copy()
    for n in range(queue.shape[0]):
        x = queue[n] / slot_s
        obs[queue_at + n] = x / (1.0 + x)
    x = scalars[0] / slot_s
    obs[device_queue_at] = x / (1.0 + x)
    energy = scalars[1] / energy_budget if scalars[1] > 0.0 else 0.0
    obs[energy_at] = energy if energy < 1.0 else 1.0
    return obs


class RowCore:
    """One single-device instance (a B = 1 core.State) stepped by the compiled kernel.

    ``slot``, ``queue`` (N,), ``device_queue`` and ``energy_left`` are the current state;
    :meth:`state` gives the equivalent core.State.
    """

    def __init__(self, state: core.State):
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
        self._scalars = np.array([state.device_queue[0, 0], state.energy_left[0, 0]])

    @property
    def device_queue(self) -> float:
        return float(self._scalars[0])

    @property
    def energy_left(self) -> float:
        return float(self._scalars[1])

    def step(self, placement: np.ndarray) -> np.ndarray:
        """Apply a validated placement (M,) int64 to the current slot and advance to the next one;
        returns the slot's outcome (float64, laid out by ``self.outcome``)."""
        out = np.empty(self.outcome.size)
        _step(placement, self.slot, *self._constants, *self._blocks, self.tasks, *self._trace, self.queue,
              self._scalars, out)
        self.slot += 1
        return out

    def observe(self, rows: np.ndarray, layout) -> np.ndarray:
        """The observation of the current slot from the precomputed ``rows`` (T+1, D) and the state."""
        return _observe(rows, self.slot, self.queue, self._scalars, self.cfg.slot_s, self.cfg.energy_budget_j,
                        layout.queue.start, layout.device_queue, layout.energy)

    def state(self) -> core.State:
        """The current state as a batched State with B = 1."""
        partial = dataclasses.replace(
            self._base, slot=np.array([self.slot]), queue=self.queue[None].copy(),
            device_queue=np.array([[self.device_queue]]), energy_left=np.array([[self.energy_left]]),
            alive=np.array([[self.energy_left > 0.0]]))
        return dataclasses.replace(partial, **core._slot_arrays(partial, np.minimum(partial.slot, self.cfg.episode_slots)))
