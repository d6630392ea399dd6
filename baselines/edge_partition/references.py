"""References for EdgePartition-v0 tables: a bound on any policy's episode, from the episode's exogenous draws.

The tasks, deadlines, server speeds and radio rates of every slot are drawn from the episode's own
random stream whatever the placements (``processes.draw_slot``), so they are the same for every policy
under a seed. Given them, no policy's slot costs less than the exact slot optimum with empty queues
(``exact.solve`` on ``exact.with_empty_queues``; where its node limit stops the search first, the
least bound of the subtrees it left open): queued work only adds waiting and deadline excess, and the
slot's own load is priced exactly. A policy whose energy runs out in slot t is charged
``outage_cost_s`` for each later slot instead of their costs. So, over the T slots,

    episode cost >= sum_t min(c_t, outage_cost_s),   c_t = the empty-queue slot optimum of slot t,

and minus the right-hand side is an upper bound on the episode's return (Eq. 14 summed). It is
computed by replaying the episode's draws (``core.transition`` with an unlimited energy budget, so
the replay reaches slot T whatever happens to the energy).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from baselines.edge_partition import exact
from edge_envs.edge_partition import core


def slot_lower_bounds(state: core.State) -> np.ndarray:
    """(B,): the empty-queue exact optimum of each row's current slot, capped at ``outage_cost_s``."""
    found = exact.solve(exact.with_empty_queues(state))
    return np.minimum(-found.reward_bound, state.cfg.outage_cost_s)


def episode_cost_bounds(env, seed: int) -> np.ndarray:
    """(T,): the lower bound on each slot's share of any policy's cost in the episode ``env.reset(seed=seed)``
    starts (``env``: a single EdgePartition-v0 env; it is reset, and left at the episode's start)."""
    env.reset(seed=seed)
    state = env.unwrapped.state.rows(np.arange(1))
    if state.num_devices != 1:
        raise ValueError(f"return-bound: single-device envs only, got {state.num_devices} devices")
    state.energy_left[:] = math.inf  # the replay must reach the last slot; the outage is priced by the cap
    bounds = np.empty(state.cfg.episode_slots)
    for t in range(state.cfg.episode_slots):
        found = exact.solve(exact.with_empty_queues(state))
        bounds[t] = min(-found.reward_bound[0], state.cfg.outage_cost_s)
        state, _ = core.transition(state, found.placement)
    env.reset(seed=seed)
    return bounds


def return_upper_bound(env, seed: int) -> float:
    """Upper bound on the return of any policy in the episode ``env.reset(seed=seed)`` starts (module docstring)."""
    return -float(episode_cost_bounds(env, seed).sum())


def lagrangian_or_return_bound(env, seed: int) -> float:
    """``hindsight.lagrangian_return_bound`` where the slot's placements can be listed
    (``placements.MAX_PLACEMENTS``); beyond that, :func:`return_upper_bound` (which it never exceeds)."""
    from baselines.edge_partition import hindsight, placements

    if placements.count(env.unwrapped.cfg) > placements.MAX_PLACEMENTS:
        return return_upper_bound(env, seed)
    return hindsight.lagrangian_return_bound(env, seed)


class Renamed(dict):
    """A dict that still answers to the old names in ``renamed`` ({old: new}), with a DeprecationWarning,
    without listing them: a renamed entry keeps working for one release."""

    def __init__(self, entries: dict, renamed: dict):
        super().__init__(entries)
        self.renamed = dict(renamed)

    def __missing__(self, key):
        if key not in self.renamed:
            raise KeyError(key)
        new = self.renamed[key]
        warnings.warn(f"{key!r} is renamed {new!r}; the old name goes in the next release", DeprecationWarning, 2)
        return self[new]

    def __contains__(self, key) -> bool:
        return super().__contains__(key) or key in self.renamed


REFERENCES = Renamed(
    {"return-bound": return_upper_bound, "lagrangian-bound": lagrangian_or_return_bound},
    {"lower-bound": "return-bound"},
)
"""name -> fn(env, seed) -> float: an upper bound on the episode RETURN of any policy in the episode
``env.reset(seed=seed)`` starts (minus a lower bound on its cost); the leaderboard's reference. Named for
what it returns; its first name, "lower-bound" (it bounds the cost from below), still works until the
next release."""
