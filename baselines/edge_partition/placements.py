"""Every placement of one slot with its terms: reward, energy drawn and backlog left (for non-myopic rules).

The non-myopic baselines and the energy references weigh the slot's cost against what a placement
leaves for later slots: the energy it draws from the budget and the backlog it leaves on each queue.
:func:`slot_terms` lists, for one single-device row, every one of the (N+1)^M placements in
lexicographic order (placement index k = sum_m p_m (N+1)^(M-1-m)) with those terms, each computed by
``exact.placement_reward``, the compiled cost the env steps with (no second copy of the formulas).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from baselines.edge_partition import exact
from edge_envs.edge_partition import core, kernels
from edge_envs.edge_partition.layout import ENERGY

MAX_PLACEMENTS = exact.ENUMERATION_MAX
"""Largest (N+1)^M listed (VGG16 at M = 8, N = 4); the default size (M = 6, N = 4) has 15,625."""


class SlotTerms(NamedTuple):
    """Per placement k (lexicographic order) of one row's current slot."""

    reward: np.ndarray  # (P,): Eq. (14)'s reward, the outage charge included
    energy: np.ndarray  # (P,): J the slot's tasks draw from the budget
    backlog: np.ndarray  # (P,): s of backlog left at the slot end, summed over the device and the servers
    next_wait: np.ndarray  # (P,): mean wait that backlog alone imposes next slot, summed over the locations


@njit(cache=True, error_model="numpy")
def _next_wait(backlog, slot_s):
    """Mean wait over a slot behind each positive backlog (s) draining with no new work, summed."""
    wait = 0.0
    for x in backlog:
        if x > 0.0:
            wait += kernels.ramp_mean_positive(x, x - slot_s)
    return wait


def next_wait(backlog: np.ndarray, slot_s: float) -> np.ndarray:
    """(R,): :func:`_next_wait` of each row of a (R, L) array of backlogs."""
    return np.array([_next_wait(np.ascontiguousarray(row, dtype=np.float64), slot_s) for row in backlog])


@njit(cache=True, error_model="numpy")
def _record(k, b, args, slot_s, placement, out, at, along, reward, energy, backlog, next_wait):
    """Entry ``k`` of the terms: row ``b``'s slot under ``placement[b]`` (reward, energy, backlog left, next wait)."""
    reward[k] = exact.placement_reward(b, placement, args, out, at, along)
    energy[k] = out[b, ENERGY]
    left = 0.0
    for loc in range(at.shape[2]):
        end = at[b, 5, loc]
        left += end if end > 0.0 else 0.0
    backlog[k], next_wait[k] = left, _next_wait(at[b, 5], slot_s)


@njit(cache=True, error_model="numpy")
def _terms(b, args, slot_s, placement, out, at, along, reward, energy, backlog, next_wait):
    M, L = placement.shape[1], at.shape[2]
    row = placement[b]
    row[:] = 0
    for k in range(reward.shape[0]):
        _record(k, b, args, slot_s, placement, out, at, along, reward, energy, backlog, next_wait)
        m = M - 1
        while m >= 0 and row[m] == L - 1:
            row[m] = 0
            m -= 1
        if m >= 0:
            row[m] += 1


def count(cfg) -> int:
    """(N+1)^M: the number of placements of a slot."""
    return (cfg.num_servers + 1) ** cfg.num_blocks


def check_size(cfg, who: str) -> None:
    """A ValueError naming ``who`` when the placements of ``cfg`` are too many to list."""
    if count(cfg) > MAX_PLACEMENTS:
        raise ValueError(
            f"{who}: lists every placement, and (N+1)^M = {count(cfg):,} exceeds {MAX_PLACEMENTS:,} "
            f"(M = {cfg.num_blocks} blocks, N = {cfg.num_servers} servers); use a smaller M or N"
        )


def slot_terms(state: core.State, b: int = 0) -> SlotTerms:
    """The terms of every placement of row ``b``'s current slot (a single-device state)."""
    if state.num_devices != 1:
        raise ValueError(f"slot_terms: single-device states only, got {state.num_devices} devices")
    check_size(state.cfg, "slot_terms")
    size = count(state.cfg)
    found = SlotTerms(*(np.empty(size) for _ in SlotTerms._fields))
    _terms(b, exact.slot_cost_args(state), state.cfg.slot_s, *exact.cost_scratch(state), *found)
    return found


def placement_of(index, cfg) -> np.ndarray:
    """The placement (M,) int64 (or (K, M) for K indices) of lexicographic index ``index``."""
    digits = np.unravel_index(np.asarray(index), (cfg.num_servers + 1,) * cfg.num_blocks)
    return np.stack(digits, axis=-1).astype(np.int64)


def lower_hull(energy: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Indices of the points (energy, cost) on the lower-left convex hull, energy increasing and cost
    decreasing: for every price lam >= 0, min_k cost_k + lam energy_k is attained at one of them."""
    order = np.lexsort((cost, energy))
    running = np.minimum.accumulate(cost[order])
    keep = np.ones(len(order), bool)
    keep[1:] = cost[order[1:]] < running[:-1]  # the others have no less energy and no less cost than one before
    hull: list[int] = []
    for k in order[keep]:
        e, c = energy[k], cost[k]
        while len(hull) >= 2:
            (e0, c0), (e1, c1) = (energy[hull[-2]], cost[hull[-2]]), (energy[hull[-1]], cost[hull[-1]])
            if (c1 - c0) * (e - e1) < (c - c1) * (e1 - e0):
                break  # the slopes rise: the last point stays
            hull.pop()
        hull.append(int(k))
    return np.array(hull, dtype=np.int64)


@njit(cache=True, error_model="numpy")
def _listed_terms(b, args, slot_s, chosen, placement, out, at, along, reward, energy, backlog, next_wait):
    for k in range(chosen.shape[0]):
        placement[b, :] = chosen[k]
        _record(k, b, args, slot_s, placement, out, at, along, reward, energy, backlog, next_wait)


def listed_terms(state: core.State, chosen: np.ndarray, b: int = 0) -> SlotTerms:
    """The terms of the placements ``chosen`` (K, M) of row ``b``'s current slot, in their order (a
    single-device state): :func:`slot_terms` for a short list of placements."""
    if state.num_devices != 1:
        raise ValueError(f"listed_terms: single-device states only, got {state.num_devices} devices")
    chosen = np.ascontiguousarray(chosen, dtype=np.int64)
    found = SlotTerms(*(np.empty(len(chosen)) for _ in SlotTerms._fields))
    _listed_terms(b, exact.slot_cost_args(state), state.cfg.slot_s, chosen, *exact.cost_scratch(state), *found)
    return found
