"""References over a whole episode's exogenous draws: a Lagrangian bound on the energy budget, and the
hindsight (clairvoyant) optimum on tiny instances.

Every slot's draws (tasks, deadlines, speeds, radio) come from the episode's own stream whatever the
placements (``processes.draw_slot``), so under a seed they are the same for every policy; a policy that
does not see the future does no better than the best sequence of placements chosen knowing them.

Lagrangian bound. Let c_t(p) be slot t's cost under placement p with empty queues (queued work only
adds waiting and deadline excess, so the real cost is at least c_t(p)), e_t(p) the energy its tasks
draw (independent of the queues), c*_t = min_p c_t(p), O = ``outage_cost_s`` and B the budget.
For any price lam >= 0 let g_t(lam) = min_p c_t(p) + lam e_t(p). A policy that never runs out spends
sum_t e_t < B, so its cost is at least L_T(lam) = sum_t g_t(lam) - lam B. A policy that runs out in slot tau has
spent less than B before it and is charged its slot-tau cost plus O per later slot, so its cost is at
least L_tau(lam) = sum_{t<tau} g_t(lam) - lam B + c*_tau + (T - 1 - tau) O. Each case holds for every
price, so

    episode cost >= min over the cases k in {0, ..., T} of max_{lam >= 0} L_k(lam),

where a case is dropped when even the least-energy placements of the slots before it spend B. Each
L_k is concave in lam (a sum of minima of affine functions, less a linear term); it is maximised over a
grid of prices (any price gives a valid bound). At lam = 0 the bound is at least
``references.episode_cost_bounds``'s sum (each of whose terms is min(c*_t, O)). It ignores the queues
carried between slots: where those couple the slots (bursts), it stays loose.

Hindsight optimum (:func:`hindsight_return`): the best return over every sequence of placements, by
enumerating them on the episode's draws, ``(N+1)^(M T)`` sequences; for tiny instances only (tests).
"""

from __future__ import annotations

import math

import numpy as np

from baselines.edge_partition import placements
from edge_envs.edge_partition import core

PRICE_GRID = 400
"""Prices tried per case (0 and a geometric grid up to the steepest hull slope; the bound holds at any price)."""
HINDSIGHT_MAX_SEQUENCES = 1_000_000
"""Most placement sequences :func:`hindsight_return` enumerates."""


def _single_row(env, seed: int) -> core.State:
    env.reset(seed=seed)
    state = env.unwrapped.state.rows(np.arange(1))
    if state.num_devices != 1:
        raise ValueError(f"single-device envs only, got {state.num_devices} devices")
    return state


def episode_hulls(env, seed: int) -> tuple[list, np.ndarray, dict]:
    """([(energy, cost) lower hull of each slot t], c*_t (T,), the config values the bound needs) for the
    episode ``env.reset(seed=seed)`` starts, with empty queues (``env`` is reset and left at its start)."""
    state = _single_row(env, seed)
    cfg = state.cfg
    placements.check_size(cfg, "lagrangian-bound")
    state.energy_left[:] = math.inf  # the replay must reach the last slot
    hulls, best = [], np.empty(cfg.episode_slots)
    for t in range(cfg.episode_slots):
        empty = state.rows(np.arange(1))
        empty.queue[:] = 0.0
        empty.device_queue[:] = 0.0
        terms = placements.slot_terms(empty)
        cost = -terms.reward
        hull = placements.lower_hull(terms.energy, cost)
        hulls.append((terms.energy[hull], cost[hull]))
        best[t] = cost.min()
        # the draws do not depend on the placement: any one advances the replay
        state, _ = core.transition(state, placements.placement_of([int(cost.argmin())], cfg))
    env.reset(seed=seed)
    return hulls, best, {"budget": cfg.energy_budget_j, "outage": cfg.outage_cost_s}


def case_values(prices: np.ndarray, hulls: list, best: np.ndarray, budget: float, outage: float) -> np.ndarray:
    """(len(prices), T + 1): each case's bound on the episode cost at each price (module docstring): column
    tau < T for a policy that runs out in slot tau, column T for one that never does; +inf for a case no
    policy can reach (the least energy of the slots before it already spends the budget)."""
    prices = np.asarray(prices, dtype=np.float64)
    g = np.stack([np.min(c[None, :] + prices[:, None] * e[None, :], axis=1) for e, c in hulls], axis=1)  # (K, T)
    least = np.array([e[0] for e, _ in hulls])  # hull points come in increasing energy: the first is the least
    slots = len(best)
    before = np.concatenate([np.zeros((len(prices), 1)), np.cumsum(g, axis=1)], axis=1)  # sum_{t < tau} g_t
    tail = np.concatenate([best + (slots - 1 - np.arange(slots)) * outage, [0.0]])
    values = before + tail[None, :] - prices[:, None] * budget
    spent = np.concatenate([[0.0], np.cumsum(least)])  # least energy of the slots before each case
    return np.where(spent[None, :] < budget, values, np.inf)


def cost_bound(hulls: list, best: np.ndarray, budget: float, outage: float, grid: int = PRICE_GRID) -> float:
    """The Lagrangian lower bound on any policy's episode cost: per case, the best of ``grid`` prices in
    [0, the steepest hull slope] (beyond it every case's bound falls), then the least case."""
    slopes = [-np.diff(c) / np.diff(e) for e, c in hulls if len(e) > 1]
    top = max((float(x.max()) for x in slopes if x.size), default=0.0)
    prices = np.concatenate([[0.0], top * np.geomspace(1e-6, 1.0, grid - 1)]) if top > 0 else np.zeros(1)
    return float(case_values(prices, hulls, best, budget, outage).max(axis=0).min())


def lagrangian_return_bound(env, seed: int) -> float:
    """Upper bound on the return of any policy in the episode ``env.reset(seed=seed)`` starts: minus the
    Lagrangian bound on its cost at the best energy price (module docstring)."""
    hulls, best, values = episode_hulls(env, seed)
    return -cost_bound(hulls, best, values["budget"], values["outage"])


def hindsight_return(env, seed: int) -> float:
    """The best return of any placement sequence in the episode ``env.reset(seed=seed)`` starts, chosen
    knowing its draws: every sequence enumerated (at most ``HINDSIGHT_MAX_SEQUENCES``)."""
    state = _single_row(env, seed)
    cfg = state.cfg
    size = placements.count(cfg)
    if size**cfg.episode_slots > HINDSIGHT_MAX_SEQUENCES:
        raise ValueError(
            f"hindsight: (N+1)^(M T) = {size}^{cfg.episode_slots} sequences exceed {HINDSIGHT_MAX_SEQUENCES:,}; "
            "use a tiny instance (few blocks, servers and slots)"
        )
    every = placements.placement_of(np.arange(size), cfg)  # (P, M)
    returns = np.zeros(1)
    for _ in range(cfg.episode_slots):
        rows = state.batch_size
        state = state.rows(np.repeat(np.arange(rows), size))
        returns = np.repeat(returns, size)
        state, outcome = core.transition(state, np.tile(every, (rows, 1)))
        returns = returns + outcome.reward
    env.reset(seed=seed)
    return float(returns.max())
