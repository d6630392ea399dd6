"""Exact minimiser of the current slot's cost (the env's charge, queues and the slot's own load included).

The slot's reward of a placement is computed by :func:`placement_reward`, through the compiled cost the
env steps with (``kernels.row_cost``). Two exact methods, both compiled by numba:

* :func:`best_enumerated` visits every one of the (N+1)^M placements (used while that number is
  at most ``ENUMERATION_LIMIT``; refused beyond ``ENUMERATION_MAX``).
* :func:`branch_and_bound` places the blocks in order, depth first, children best-bound first. A
  partial placement (blocks 0..k) is bounded below by (a) the cost of its placed blocks with the
  utilisation their own work puts on each location, plus (b) the cheapest chain of the remaining
  blocks given block k's location, each block priced with that utilisation plus its own work
  (dynamic programming over (block, location)), plus (c) the outage charge when even the
  least-energy completion (the placed blocks' energy plus a shortest path over the rest, from
  ``energy_terms``) runs out of energy. All parts are admissible: a block's delay, wait and
  deadline excess grow with the utilisation of its location (the fluid queue's backlog ramp
  ``b + (rho - 1) s`` rises with rho, and the mean of its positive part is nondecreasing), and the
  blocks placed later only add work; the outage is added only where every completion pays it. A
  child is pruned only when its bound exceeds the incumbent's cost (which includes the outage) by
  more than a rounding margin, so a finished search returns a minimiser; complete placements are
  charged by ``placement_reward``. The per-pair transfer + compute times and per-block work the
  bound needs are read off the env's own cost, from placements that alternate two locations.

  Without (c), a slot whose energy runs out whatever the placement (the last slot before an outage)
  bounds every node about 60 s per remaining slot below every leaf: nothing is pruned, and the
  search visits all 10^12 placements at M = 12, N = 9 (the half-hour decision of issue 34). The
  search also stops after ``node_limit`` expansions (default ``NODE_LIMIT``) with its best placement,
  ``proved`` False and the least bound of the subtrees left open (benchmarks/exact_slot_limits.py
  measures how often that happens).

Both are exact per slot, not per episode: they ignore the queues a placement leaves for later slots
and the energy it spends (beyond the slot's outage charge).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from edge_envs.edge_partition import core, kernels
from edge_envs.edge_partition.layout import REWARD, SCALARS

ENUMERATION_LIMIT = 1024
"""Largest number of placements (N+1)^M that "auto" enumerates; beyond it, branch and bound, which already
wins at the default size (VGG16, M = 6, N = 4: about 16x faster than enumerating the 15,625 placements; the
timing table of benchmarks/results/baselines_edge_partition.md)."""

ENUMERATION_MAX = 400_000
"""Largest placement space that method "enumerate" accepts: VGG16's M = 8, N = 4 (390,625 placements) takes
0.63 s per decision in the timing table."""

NODE_LIMIT = 5_000
"""Default cap on branch-and-bound expansions per decision: the hardest slot found at M = 12, N = 9 takes
4,773 (tests/baselines/edge_partition/test_exact.py), 0.33 s on a shared core at load 11;
benchmarks/results/exact_slot_limits.md
gives the decision times and the share proved optimal over 10,000 states."""

_MARGIN = 1e-12  # relative rounding margin of the pruning test


# ---------------------------------------------------------------------------------------------
# the slot's cost of many placements, charged by the env's own compiled cost (kernels.row_cost), so
# the search scores placements exactly as the env charges them

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


def slot_cost_args(state: core.State) -> tuple:
    """The arguments of the compiled cost for a state of A devices: the step constants, the block
    table (A, 4, M), the result bits (A,), then the state's arrays (read, never written)."""
    blocks = state.blocks
    return (
        kernels.step_constants(state.cfg),
        kernels.block_table(blocks),
        np.ascontiguousarray(blocks.result_bits, dtype=np.float64),
    ) + tuple(getattr(state, key) for key in _COST_FIELDS)


def cost_scratch(state: core.State) -> tuple:
    """(placement (B, M) int64, out (B, SCALARS), at (B, 6, N + 1), along (B, 5, M)): the buffers
    :func:`placement_reward` writes."""
    B, M, N = state.batch_size, state.cfg.num_blocks, state.cfg.num_servers
    return (np.zeros((B, M), np.int64), np.empty((B, SCALARS)), np.empty((B, 6, N + 1)), np.empty((B, 5, M)))


@njit(cache=True, error_model="numpy")
def joint_reward(b, placement, args, out, at, along) -> float:
    """Row b's slot reward (Eq. 14, the outage included) under ``placement[b]`` (A, M), summed over its A
    devices, as the env charges it; ``args``: :func:`slot_cost_args`; ``out`` (B, A, SCALARS), ``at``
    (B, A, 6, N + 1) and ``along`` (B, A, 5, M) are overwritten: they keep the slot's per-block parts (the
    Outcome.BLOCK_KEYS) and the per-location utilisation in ``at[b, a, 3]`` (device first)."""
    c, table, result_bits, slot, queue, device_queue, energy_left, alive, tasks, deadline, speed, access, airtime = args
    kernels.row_cost(
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
    total = 0.0
    for a in range(placement.shape[1]):
        total += out[b, a, REWARD]
    return total


@njit(cache=True, error_model="numpy")
def placement_reward(b, placement, args, out, at, along) -> float:
    """:func:`joint_reward` of a single-device state, ``placement`` (B, M) and the scratch of
    :func:`cost_scratch` without the device axis: the parts in ``along[b]``, the utilisation in ``at[b, 3]``."""
    B, M, L = placement.shape[0], placement.shape[1], at.shape[2]
    return joint_reward(
        b,
        placement.reshape((B, 1, M)),
        args,
        out.reshape((B, 1, out.shape[1])),
        at.reshape((B, 1, 6, L)),
        along.reshape((B, 1, 5, M)),
    )


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
    c, table, airtime = args[0], args[1], args[12]
    M, N = table.shape[2], airtime.shape[2]
    energy = np.empty((M, N + 1, N + 1))
    for m in range(M):
        for i in range(N + 1):
            for j in range(N + 1):
                air = airtime[b, 0, j - 1] if j > 0 else 0.0
                energy[m, i, j] = kernels.block_energy(c, table, 0, m, air, j, i)
    return energy, kernels.outage_charge(c, args[3][b])


@njit(cache=True, error_model="numpy")
def pair_tables(b, args, placement, out, at, along):
    """(own (M, L, L), work (M, L)): transfer + compute of block m at j after block m-1 at i (block 0:
    row i = 0, the device; the last block's result return included) and block m's compute time at j,
    read off ``placement_reward`` for the placements alternating i, j, i, ... (L = N + 1)."""
    M, L = placement.shape[1], at.shape[2]
    own, work = np.empty((M, L, L)), np.empty((M, L))
    row = placement[b]
    for i in range(L):
        for j in range(L):
            for m in range(M):
                row[m] = i if m % 2 == 0 else j
            placement_reward(b, placement, args, out, at, along)
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
        cost += kernels.ramp_mean_positive(x0, x1) + penalty_weight * kernels.ramp_mean_positive(x0 - slack, x1 - slack)
    return cost


@njit(cache=True, error_model="numpy")
def _placed(row, k, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, spend):
    """Part (a) of the bound on the completions of row[0..k], and (c) where it applies; leaves the
    utilisation of the placed blocks' work in ``load``."""
    energy, rest, tasks, energy_left, outage = spend
    load[:] = 0.0
    for m in range(k + 1):
        load[row[m]] += work[m, row[m]] * scale
    placed, prev, drawn = 0.0, 0, 0.0
    for m in range(k + 1):
        here = row[m]
        placed += _block_cost(m, prev, here, load[here], own, start, deadline, slot_s, penalty_weight, queues)
        drawn += energy[m, prev, here]
        prev = here
    if tasks * (drawn + rest[k + 1, prev]) * (1.0 - _MARGIN) >= energy_left:
        placed += outage  # every completion runs out of energy this slot
    return placed


@njit(cache=True, error_model="numpy")
def _chain_after(k, prev, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, value, step):
    """Part (b): the cheapest chain of blocks k+1.. after block k at ``prev``, each block priced with the
    utilisation ``load`` plus its own work."""
    M, L = own.shape[0], own.shape[1]
    if k == M - 1:
        return 0.0
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
    return value.min()


@njit(cache=True, error_model="numpy")
def _child_bounds(row, k, cutoff, own, work, scale, start, deadline, slot_s, penalty_weight, queues, spend, scratch):
    """Bounds (L,) on the completions of row[0..k-1] with block k at each location (the module docstring).

    Part (b) is first priced with the utilisation of blocks 0..k-1 only (one backward pass over the chain
    for all the children, a weaker bound); only a child that this cheaper bound does not push above
    ``cutoff`` gets the full bound."""
    M, L = own.shape[0], own.shape[1]
    load, value, step, after = scratch
    load[:] = 0.0
    for m in range(k):
        load[row[m]] += work[m, row[m]] * scale
    after[:] = 0.0  # after[i]: cheapest chain of blocks m.. after block m-1 at i
    for m in range(M - 1, k, -1):
        for i in range(L):
            best = np.inf
            for j in range(L):
                c = after[j] + _block_cost(
                    m, i, j, load[j] + work[m, j] * scale, own, start, deadline, slot_s, penalty_weight, queues
                )
                best = c if c < best else best
            step[i] = best
        after[:] = step
    bounds = np.empty(L)
    for j in range(L):
        row[k] = j
        placed = _placed(row, k, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, spend)
        bounds[j] = placed + after[j]
        if bounds[j] <= cutoff:
            bounds[j] = placed + _chain_after(
                k, j, own, work, scale, start, deadline, slot_s, penalty_weight, queues, load, value, step
            )
    return bounds


@njit(cache=True, error_model="numpy")
def _least_energy(energy):
    """(M + 1, L): the least energy per task of blocks m.. given block m-1 at i (row M: 0)."""
    M, L = energy.shape[0], energy.shape[1]
    rest = np.zeros((M + 1, L))
    for m in range(M - 1, -1, -1):
        for i in range(L):
            rest[m, i] = np.min(energy[m, i] + rest[m + 1])
    return rest


@njit(cache=True, error_model="numpy")
def branch_and_bound(b, args, placement, out, at, along, slot_s, penalty_weight, queues, node_limit):
    """(placement (M,), reward, nodes expanded, proved, reward bound) for row b's slot (module docstring).

    Stops after ``node_limit`` expansions; ``proved``: the search finished, so the placement maximises
    the reward. ``reward bound``: no placement's reward exceeds it (the returned reward when proved;
    otherwise minus the least lower bound among the subtrees left open)."""
    M, L = placement.shape[1], at.shape[2]
    row = placement[b]
    alive, tasks, deadline = args[7][b, 0], args[8][b, 0], args[9][b, 0]
    if not alive:  # every placement is charged 0
        row[:] = 0
        reward = placement_reward(b, placement, args, out, at, along)
        return row.copy(), reward, 0, True, reward
    own, work = pair_tables(b, args, placement, out, at, along)
    start = np.empty(L)
    start[0] = args[5][b, 0]  # the device's backlog, then the servers'
    start[1:] = args[4][b]
    scale = tasks / slot_s
    energy, outage = energy_terms(b, args)
    spend = (energy, _least_energy(energy), tasks, args[6][b, 0], outage)
    scratch = (np.empty(L), np.empty(L), np.empty(L), np.empty(L))
    order, bounds, pos = np.empty((M, L), np.int64), np.empty((M, L)), np.full(M, L)
    best, best_cost, nodes = np.zeros(M, np.int64), np.inf, 0
    depth = 0
    bounds[0] = _child_bounds(
        row, 0, np.inf, own, work, scale, start, deadline, slot_s, penalty_weight, queues, spend, scratch
    )
    order[0] = np.argsort(bounds[0])
    pos[0] = 0
    while depth >= 0:
        if pos[depth] >= L:
            depth -= 1
            continue
        j = order[depth, pos[depth]]
        if bounds[depth, j] > best_cost + _MARGIN * (1.0 + abs(best_cost)):
            pos[depth] = L  # the other children are sorted after it: no better either
            continue
        if depth < M - 1 and nodes >= node_limit and best_cost < np.inf:
            break  # j and its later siblings (and those of the shallower levels) stay open
        pos[depth] += 1
        row[depth] = j
        if depth == M - 1:
            cost = -placement_reward(b, placement, args, out, at, along)
            if cost < best_cost:
                best_cost = cost
                best[:] = row[:]
            continue
        depth += 1
        nodes += 1
        cutoff = best_cost + _MARGIN * (1.0 + abs(best_cost))
        bounds[depth] = _child_bounds(
            row, depth, cutoff, own, work, scale, start, deadline, slot_s, penalty_weight, queues, spend, scratch
        )
        order[depth] = np.argsort(bounds[depth])
        pos[depth] = 0
    lowest = best_cost
    for d in range(depth + 1):  # the open subtrees: each level's unvisited children (sorted by bound)
        if pos[d] < L:
            lowest = min(lowest, bounds[d, order[d, pos[d]]])
    return best, -best_cost, nodes, depth < 0, -lowest


def checked_node_limit(node_limit) -> int:
    """``node_limit`` as an int, or a ValueError naming it and its range."""
    if isinstance(node_limit, bool) or not isinstance(node_limit, (int, np.integer)) or node_limit < 0:
        raise ValueError(f"node_limit must be an integer >= 0, got {node_limit!r}")
    return int(node_limit)


class Solution(NamedTuple):
    """What :func:`solve` found for each row of a state."""

    placement: np.ndarray  # (B, M) int64: the best placement found
    reward: np.ndarray  # (B,): its slot reward
    proved: np.ndarray  # (B,) bool: the search finished, so the placement maximises the slot reward
    reward_bound: np.ndarray  # (B,): no placement's reward exceeds it (= reward where proved)
    nodes: np.ndarray  # (B,) int64: branch-and-bound expansions (0 when enumerated)


def solve(state: core.State, method: str = "auto", node_limit: int = NODE_LIMIT) -> Solution:
    """The best placement of each row's slot, for a single-device state. ``method``: "enumerate" (at most
    ``ENUMERATION_MAX`` placements), "branch-and-bound" (at most ``node_limit`` expansions, then the best
    placement found) or "auto" (enumeration up to ENUMERATION_LIMIT placements)."""
    if state.num_devices != 1:
        raise ValueError(
            f"exact-slot: single-device states only (the joint space of {state.num_devices} devices "
            "is not searched); got A = {state.num_devices}"
        )
    if method not in ("auto", "enumerate", "branch-and-bound"):
        raise ValueError(f"method must be 'auto', 'enumerate' or 'branch-and-bound', got {method!r}")
    node_limit = checked_node_limit(node_limit)
    cfg = state.cfg
    size = (cfg.num_servers + 1) ** cfg.num_blocks
    enumerate_ = method == "enumerate" or (method == "auto" and size <= ENUMERATION_LIMIT)
    if enumerate_ and size > ENUMERATION_MAX:
        raise ValueError(
            f"method 'enumerate': (N+1)^M = {size:,} placements exceed ENUMERATION_MAX = {ENUMERATION_MAX:,}; "
            "use 'branch-and-bound' or 'auto'"
        )
    args = slot_cost_args(state)
    scratch = cost_scratch(state)
    B = state.batch_size
    found = Solution(
        np.empty((B, cfg.num_blocks), np.int64), np.empty(B), np.ones(B, bool), np.empty(B), np.zeros(B, np.int64)
    )
    for b in range(B):
        if enumerate_:
            found.placement[b], found.reward[b] = best_enumerated(b, args, *scratch)
            found.reward_bound[b] = found.reward[b]
        else:
            found.placement[b], found.reward[b], found.nodes[b], found.proved[b], found.reward_bound[b] = (
                branch_and_bound(b, args, *scratch, cfg.slot_s, cfg.penalty_weight, not cfg.contention_free, node_limit)
            )
    return found


def with_empty_queues(state: core.State) -> core.State:
    """A copy of ``state`` with empty queues and an unlimited energy budget (every row alive): the same
    slot's draws, priced as if nothing were queued and no outage could happen."""
    copy = state.rows(np.arange(state.batch_size))
    copy.queue[:] = 0.0
    copy.device_queue[:] = 0.0
    copy.energy_left[:] = math.inf
    copy.alive[:] = True
    return copy
