"""Local search over a slot's joint placement: single-block moves, each priced by the env's own compiled cost.

From a start placement (a rule's, or a trained policy's), each step prices every move of one block of one
device to another location with ``exact.joint_reward``, the env's own compiled cost (its charge: every
device's wait behind the others on the shared servers included), and makes the move that raises the slot's
summed reward most. It stops at a placement that no single move improves (a local optimum of the slot's
reward) or after ``max_moves`` moves. Each move prices A M N placements, each one slot of every device.
Myopic, as exact-slot: it ignores the queues and the energy it leaves for later slots.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from baselines.edge_partition.exact import joint_reward, slot_cost_args
from edge_envs.edge_partition import core
from edge_envs.edge_partition.layout import SCALARS

MAX_MOVES = 100
"""Default cap on the moves per decision (benchmarks/results/local_search_edge_partition.md counts the moves
the searches make)."""


class Improved(NamedTuple):
    placement: np.ndarray
    """(B, A, M) int64: the placement each search ends at."""
    reward: np.ndarray
    """(B,): its slot reward summed over the devices (Eq. 14, outages included)."""
    moves: np.ndarray
    """(B,) int64: the improving moves made."""


@njit(cache=True, error_model="numpy")
def _improve_rows(placement, args, out, at, along, max_moves, reward, moves):
    """Steepest ascent from ``placement`` (B, A, M), in place, row by row; each row's final reward and its
    number of moves into ``reward`` and ``moves``. A move is made only when it raises the reward, so the
    search ends."""
    B, A, M = placement.shape
    L = at.shape[3]
    for b in range(B):
        best = joint_reward(b, placement, args, out, at, along)
        made = 0
        while made < max_moves:
            move_a, move_m, move_to, move_reward = -1, -1, -1, best
            for a in range(A):
                for m in range(M):
                    here = placement[b, a, m]
                    for to in range(L):
                        if to != here:
                            placement[b, a, m] = to
                            r = joint_reward(b, placement, args, out, at, along)
                            if r > move_reward:
                                move_a, move_m, move_to, move_reward = a, m, to, r
                    placement[b, a, m] = here
            if move_a < 0:
                break
            placement[b, move_a, move_m] = move_to
            best = move_reward
            made += 1
        reward[b], moves[b] = best, made


def checked_max_moves(max_moves) -> int:
    """``max_moves`` as an int, or a ValueError naming it unless it is an integer >= 0."""
    if isinstance(max_moves, bool) or not isinstance(max_moves, (int, np.integer)) or max_moves < 0:
        raise ValueError(f"max_moves must be an integer >= 0, got {max_moves!r}")
    return int(max_moves)


def improve(state: core.State, placement, max_moves: int = MAX_MOVES) -> Improved:
    """Local search from ``placement`` ((B, A, M), or (B, M) for a single-device state; locations in
    [0, N]) for the current slot of every row of ``state``; the input is not changed."""
    max_moves = checked_max_moves(max_moves)
    B, A, M, N = state.batch_size, state.num_devices, state.cfg.num_blocks, state.cfg.num_servers
    start = np.asarray(placement)
    if start.shape == (B, M) and A == 1:
        start = start[:, None]
    if start.shape != (B, A, M) or start.dtype.kind not in "iu" or start.min() < 0 or start.max() > N:
        raise ValueError(
            f"placement: expected integer locations in [0, {N}] of shape ({B}, {A}, {M}), got shape {start.shape} "
            f"and dtype {start.dtype}"
        )
    found = np.array(start, dtype=np.int64)  # a C-contiguous copy the search writes into
    reward, moves = np.empty(B), np.empty(B, dtype=np.int64)
    scratch = (np.empty((B, A, SCALARS)), np.empty((B, A, 6, N + 1)), np.empty((B, A, 5, M)))
    _improve_rows(found, slot_cost_args(state), *scratch, max_moves, reward, moves)
    return Improved(found, reward, moves)
