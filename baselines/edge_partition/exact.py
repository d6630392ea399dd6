"""Exact minimiser of the current slot's cost (the env's charge, queues and the slot's own load included).

The slot's reward of a placement is computed by ``core.placement_reward``, the compiled per-row cost
the env steps with. Two exact methods, both compiled by numba:

* :func:`core.best_enumerated` visits every one of the (N+1)^M placements (used while that number is
  at most ``ENUMERATION_LIMIT``).
* :func:`branch_and_bound` places the blocks in order, depth first, children best-bound first. A
  partial placement (blocks 0..k) is bounded below by (a) the cost of its placed blocks with the
  utilisation their own work puts on each location, plus (b) the cheapest chain of the remaining
  blocks given block k's location, each block priced with that utilisation plus its own work
  (dynamic programming over (block, location)). Both parts are admissible: a block's delay, wait and
  deadline excess grow with the utilisation of its location (the fluid queue's backlog ramp
  ``b + (rho - 1) s`` rises with rho, and the mean of its positive part is nondecreasing), and the
  blocks placed later only add work; the outage charge is >= 0 and is left out of the bound. A
  child is pruned only when its bound exceeds the incumbent's cost (which includes the outage) by
  more than a rounding margin, so the search returns a minimiser; complete placements are charged
  by ``core.placement_reward``. The per-pair transfer + compute times and per-block work the bound
  needs are read off the env's own cost, from placements that alternate two locations.

Both are exact per slot, not per episode: they ignore the queues a placement leaves for later slots
and the energy it spends (beyond the slot's outage charge).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from edge_envs.edge_partition import core

ENUMERATION_LIMIT = 1024
"""Largest number of placements (N+1)^M that "auto" enumerates; beyond it, branch and bound, which already
wins at the default size (VGG16, M = 6, N = 4: about 16x faster than enumerating the 15,625 placements; the
timing table of benchmarks/results/baselines_edge_partition.md)."""

_MARGIN = 1e-12  # relative rounding margin of the pruning test


@njit(cache=True, error_model="numpy")
def pair_tables(b, args, placement, out, at, along):
    """(own (M, L, L), work (M, L)): transfer + compute of block m at j after block m-1 at i (block 0:
    row i = 0, the device; the last block's result return included) and block m's compute time at j,
    read off ``core.placement_reward`` for the placements alternating i, j, i, ... (L = N + 1)."""
    M, L = placement.shape[1], at.shape[2]
    own, work = np.empty((M, L, L)), np.empty((M, L))
    row = placement[b]
    for i in range(L):
        for j in range(L):
            for m in range(M):
                row[m] = i if m % 2 == 0 else j
            core.placement_reward(b, placement, args, out, at, along)
            for m in range(M):
                here = row[m]
                work[m, here] = along[b, 2, m]
                t = along[b, 1, m] + along[b, 2, m]
                if m == 0:
                    own[0, :, here] = t
                elif m % 2 == 1:
                    own[m, i, j] = t
                else:
                    own[m, j, i] = t
    return own, work


@njit(cache=True, error_model="numpy", inline="always")
def _block_cost(m, prev, here, load, own, start, deadline, slot_s, penalty_weight, queues):
    """Block m's cost at ``here`` after ``prev`` (block 0: prev 0), its location at utilisation ``load``."""
    o = own[m, prev, here]
    tau = deadline[m]
    over, slack = o - tau, tau - o
    slack = slack if slack > 0.0 else 0.0
    cost = o + penalty_weight * (over if over > 0.0 else 0.0)
    if queues and (m == 0 or here != prev):
        x0 = start[here]
        x1 = x0 + (load - 1.0) * slot_s
        cost += core.ramp_mean_positive(x0, x1) + penalty_weight * core.ramp_mean_positive(x0 - slack, x1 - slack)
    return cost


@njit(cache=True, error_model="numpy")
def _bound(row, k, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, value, step):
    """Lower bound on the cost of every completion of row[0..k] (see the module docstring)."""
    M, L = own.shape[0], own.shape[1]
    load[:] = 0.0
    for m in range(k + 1):
        load[row[m]] += work[m, row[m]] * scale
    placed, prev = 0.0, 0
    for m in range(k + 1):
        here = row[m]
        placed += _block_cost(m, prev, here, load[here], own, start, deadline, slot_s, penalty_weight, queues)
        prev = here
    if k == M - 1:
        return placed
    for j in range(L):
        value[j] = _block_cost(
            k + 1, prev, j, load[j] + work[k + 1, j] * scale, own, start, deadline, slot_s, penalty_weight, queues
        )
    for m in range(k + 2, M):
        for j in range(L):
            at_j = load[j] + work[m, j] * scale
            best = np.inf
            for i in range(L):
                c = value[i] + _block_cost(m, i, j, at_j, own, start, deadline, slot_s, penalty_weight, queues)
                best = c if c < best else best
            step[j] = best
        value[:] = step
    return placed + value.min()


@njit(cache=True, error_model="numpy")
def branch_and_bound(b, args, placement, out, at, along, slot_s, penalty_weight, queues):
    """(placement (M,), reward, nodes expanded) maximising row b's slot reward (see the module docstring)."""
    M, L = placement.shape[1], at.shape[2]
    row = placement[b]
    alive, tasks, deadline = args[7][b, 0], args[8][b, 0], args[9][b, 0]
    if not alive:  # every placement is charged 0
        row[:] = 0
        return row.copy(), core.placement_reward(b, placement, args, out, at, along), 0
    own, work = pair_tables(b, args, placement, out, at, along)
    start = np.empty(L)
    start[0] = args[5][b, 0]  # the device's backlog, then the servers'
    start[1:] = args[4][b]
    scale = tasks / slot_s
    load, value, step = np.empty(L), np.empty(L), np.empty(L)
    order, bounds, pos = np.empty((M, L), np.int64), np.empty((M, L)), np.full(M, L)
    best, best_cost, nodes = np.zeros(M, np.int64), np.inf, 0
    depth = 0
    for j in range(L):
        row[0] = j
        bounds[0, j] = _bound(
            row, 0, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, value, step
        )
    order[0] = np.argsort(bounds[0])
    pos[0] = 0
    while depth >= 0:
        if pos[depth] >= L:
            depth -= 1
            continue
        j = order[depth, pos[depth]]
        pos[depth] += 1
        if bounds[depth, j] > best_cost + _MARGIN * (1.0 + abs(best_cost)):
            pos[depth] = L  # the other children are sorted after it: no better either
            continue
        row[depth] = j
        if depth == M - 1:
            cost = -core.placement_reward(b, placement, args, out, at, along)
            if cost < best_cost:
                best_cost = cost
                best[:] = row[:]
            continue
        depth += 1
        nodes += 1
        for i in range(L):
            row[depth] = i
            bounds[depth, i] = _bound(
                row, depth, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, value, step
            )
        order[depth] = np.argsort(bounds[depth])
        pos[depth] = 0
    return best, -best_cost, nodes


def solve(state: core.State, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Placements (B, M) maximising each row's slot reward, and those rewards (B,), for a single-device
    state. ``method``: "enumerate", "branch-and-bound" or "auto" (enumeration up to ENUMERATION_LIMIT)."""
    if state.num_devices != 1:
        raise ValueError(
            f"exact-slot: single-device states only (the joint space of {state.num_devices} devices "
            "is not searched); got A = {state.num_devices}"
        )
    if method not in ("auto", "enumerate", "branch-and-bound"):
        raise ValueError(f"method must be 'auto', 'enumerate' or 'branch-and-bound', got {method!r}")
    cfg = state.cfg
    size = (cfg.num_servers + 1) ** cfg.num_blocks
    enumerate_ = method == "enumerate" or (method == "auto" and size <= ENUMERATION_LIMIT)
    args = core.slot_cost_args(state)
    scratch = core.cost_scratch(state)
    placements, rewards = np.empty((state.batch_size, cfg.num_blocks), np.int64), np.empty(state.batch_size)
    for b in range(state.batch_size):
        if enumerate_:
            placements[b], rewards[b] = core.best_enumerated(b, args, *scratch)
        else:
            placements[b], rewards[b], _ = branch_and_bound(
                b, args, *scratch, cfg.slot_s, cfg.penalty_weight, not cfg.contention_free
            )
    return placements, rewards


def with_empty_queues(state: core.State) -> core.State:
    """A copy of ``state`` with empty queues and an unlimited energy budget (every row alive): the same
    slot's draws, priced as if nothing were queued and no outage could happen."""
    copy = state.rows(np.arange(state.batch_size))
    copy.queue[:] = 0.0
    copy.device_queue[:] = 0.0
    copy.energy_left[:] = math.inf
    copy.alive[:] = True
    return copy
