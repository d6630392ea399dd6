"""Non-myopic baselines of EdgePartition-v0: exact-slot with an energy price, a queue-aware variant, and rollout.

``exact-slot`` minimises the current slot's cost and ignores what it leaves behind: the energy it
draws (a budget that, once spent, stops the device) and the backlog left on the queues (which later
slots wait behind). These rules weigh both, from every placement's terms (``placements.slot_terms``):

* ``exact-slot-paced``: each slot gets an energy allowance, ``burst`` times the budget left over the
  slots left (bursts need more than the average), less a reserve for the later slots at this slot's
  least energy (it never plans to run out); the price of energy is the least price at which the
  slot's priced optimum (cost + price x energy, over the lower convex hull of the placements' (energy,
  cost)) stays below the allowance, and the rule plays that priced optimum. A slot that under-spends
  leaves more for later ones.
* ``exact-slot-queue``: the same, the cost including ``queue_weight`` x the mean wait the backlog left
  alone would impose next slot (each location's backlog draining over a slot with no new work).
* ``rollout``: the ``candidates`` best placements under exact-slot-queue's priced cost among those within
  its energy allowance (and exact-slot-queue's own choice), each scored by
  playing it and then ``horizon`` - 1 slots of the ``base`` policy on ``samples`` futures drawn from the
  env's own model with the policy's own random stream (each sampled row's stream is reseeded from the
  policy's generator: the env's future draws are never read), plus the price of the energy drawn and
  ``terminal_weight`` (default ``queue_weight``) x the backlog's next wait at the end; common random
  numbers across candidates. ``base`` "exact-slot" (the default) is myopic; "queue" plays
  exact-slot-queue's rule (``paced_choice``) over a short list: the simulated row's exact-slot placement,
  the root slot's hull points of (energy, priced cost) and its ``LISTED`` cheapest (listing every
  placement of every simulated row would take ~50 ms each). Measured on training seeds 100..105 (200
  slots): neither "queue", a horizon of 6 nor ``terminal_weight`` 3 beat the defaults on every foresight
  scenario; ``candidates`` = ``samples`` = 8 gains 3-4% in ``bursty`` and ``deadlines`` (the benchmark's
  setting there, ``benchmarks.baselines_edge_partition.POLICY_OPTIONS``) and nothing in ``energy``.

All three list every placement: where (N+1)^M exceeds ``placements.MAX_PLACEMENTS`` they play
exact-slot's placement instead (``exact.solve``). Single-device envs only. None is exact over the
episode: references live in ``hindsight``.
"""

from __future__ import annotations

import numpy as np

from baselines.edge_partition import exact, placements
from baselines.edge_partition.policies import Baseline
from edge_envs.edge_partition import core

BASES = ("exact-slot", "queue")
"""rollout's base policies over the horizon: exact-slot, or exact-slot-queue's rule over a short list."""
LISTED = 16
"""The "queue" base's short list: the root slot's hull points of (energy, priced cost) and its LISTED cheapest."""


def paced_index(cost: np.ndarray, energy: np.ndarray, allowance: float) -> tuple[int, float]:
    """(placement index, price): the hull point of (energy, cost) with the most energy below ``allowance``
    (the least-energy point if none is), and the least price >= 0 at which it minimises cost + price x energy."""
    hull = placements.lower_hull(energy, cost)
    e, c = energy[hull], cost[hull]
    i = max(int(np.searchsorted(e, allowance, side="left")) - 1, 0)
    price = 0.0 if i == len(hull) - 1 else float((c[i] - c[i + 1]) / (e[i + 1] - e[i]))
    return int(hull[i]), price


def paced_choice(
    state: core.State, b: int, terms: placements.SlotTerms, queue_weight: float, burst: float
) -> tuple[np.ndarray, int, float, float]:
    """(cost with the backlog priced, chosen index, energy price, energy allowance) of row b's slot among the
    placements of ``terms``: the rule of exact-slot-paced (``queue_weight`` 0) and exact-slot-queue."""
    cost = -terms.reward + queue_weight * terms.next_wait
    slots_left = max(state.cfg.episode_slots - int(state.slot[b]), 1)
    left = float(state.energy_left[b, 0])
    reserve = (slots_left - 1) * float(terms.energy.min())  # the later slots at this slot's least energy
    allowance = min(burst * left / slots_left, left - reserve)
    index, price = paced_index(cost, terms.energy, allowance)
    return cost, index, price, allowance


def _check_single(env, who: str) -> None:
    if hasattr(env, "possible_agents") and len(env.possible_agents) > 1:
        raise ValueError(f"{who}: single-device envs only; this env has {len(env.possible_agents)} devices")


def _check_weight(weight, name: str = "queue_weight") -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {weight!r}")
    return float(weight)


def _check_burst(burst) -> float:
    if isinstance(burst, bool) or not isinstance(burst, (int, float)) or not burst >= 1:
        raise ValueError(f"burst must be a number >= 1, got {burst!r}")
    return float(burst)


class PacedExactSlot(Baseline):
    """exact-slot with an energy price from the budget left per slot left (module docstring); with
    ``queue_weight`` > 0 the backlog left is priced too."""

    name = "exact-slot-paced"

    def __init__(self, env, seed: int | None = None, queue_weight: float = 0.0, burst: float = 10.0):
        _check_single(env, self.name)
        self.queue_weight = _check_weight(queue_weight)
        self.burst = _check_burst(burst)
        super().__init__(env, seed)

    def priced(self, state: core.State, b: int) -> tuple[placements.SlotTerms, np.ndarray, int, float, float]:
        """(terms, cost with the backlog priced, chosen index, energy price, energy allowance) of row b's slot."""
        terms = placements.slot_terms(state, b)
        return (terms, *paced_choice(state, b, terms, self.queue_weight, self.burst))

    def place(self, state, info):
        if placements.count(state.cfg) > placements.MAX_PLACEMENTS:
            return exact.solve(state).placement[:, None, :]  # too many to list: exact-slot
        chosen = np.empty((state.batch_size, 1, state.cfg.num_blocks), np.int64)
        for b in range(state.batch_size):
            index = self.priced(state, b)[2]
            chosen[b, 0] = placements.placement_of(index, state.cfg)
        return chosen


class QueueAwareExactSlot(PacedExactSlot):
    """exact-slot-paced that also prices the backlog it leaves (``queue_weight`` = 1 by default)."""

    name = "exact-slot-queue"

    def __init__(self, env, seed: int | None = None, queue_weight: float = 1.0, burst: float = 10.0):
        super().__init__(env, seed, queue_weight, burst)


class Rollout(PacedExactSlot):
    """Rollout over sampled futures from exact-slot-queue's best candidates (module docstring)."""

    name = "rollout"

    def __init__(
        self,
        env,
        seed: int | None = None,
        candidates: int = 4,
        samples: int = 4,
        horizon: int = 3,
        queue_weight: float = 1.0,
        burst: float = 10.0,
        base: str = "exact-slot",
        terminal_weight: float | None = None,
    ):
        for field, value in (("candidates", candidates), ("samples", samples), ("horizon", horizon)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 64:
                raise ValueError(f"{field} must be an integer in [1, 64], got {value!r}")
        if base not in BASES:
            raise ValueError(f"base must be one of {BASES}, got {base!r}")
        self.candidates, self.samples, self.horizon, self.base = int(candidates), int(samples), int(horizon), base
        super().__init__(env, seed, queue_weight, burst)
        terminal = self.queue_weight if terminal_weight is None else terminal_weight
        self.terminal_weight = _check_weight(terminal, "terminal_weight")

    def place(self, state, info):
        if placements.count(state.cfg) > placements.MAX_PLACEMENTS:
            return exact.solve(state).placement[:, None, :]  # too many to list: exact-slot
        cfg = state.cfg
        chosen = np.empty((state.batch_size, 1, cfg.num_blocks), np.int64)
        for b in range(state.batch_size):
            terms, cost, index, price, allowance = self.priced(state, b)
            priced = np.where(terms.energy < allowance, cost + price * terms.energy, np.inf)  # within the allowance
            others = np.argsort(priced, kind="stable")[: self.candidates]
            others = others[np.isfinite(priced[others])]
            pool = np.concatenate([[index], others[others != index]])[: self.candidates]
            listed = np.union1d(placements.lower_hull(terms.energy, cost), np.argsort(cost, kind="stable")[:LISTED])
            listed = placements.placement_of(listed, cfg).reshape(-1, cfg.num_blocks)
            scores = self._scores(state, b, pool, price, listed)
            chosen[b, 0] = placements.placement_of(pool[int(np.argmax(scores))], cfg)
        return chosen

    def _scores(self, state: core.State, b: int, pool: np.ndarray, price: float, listed: np.ndarray) -> np.ndarray:
        """Mean over the sampled futures of each candidate's return over the horizon, less the price of the
        energy it draws and the backlog's next wait at the end; ``listed`` (L, M): the "queue" base's short list."""
        cfg, K, S = state.cfg, len(pool), self.samples
        sim = state.rows(np.full(K * S, b))
        streams = np.array([core.seed_stream(self.rng) for _ in range(S)], dtype=np.uint64)
        sim.stream[:] = np.tile(streams, K)  # the policy's own stream; the same futures for every candidate
        start_energy = sim.energy_left[:, 0].copy()
        sim, outcome = core.transition(sim, np.repeat(placements.placement_of(pool, cfg), S, axis=0))
        total = outcome.reward.copy()
        for _ in range(min(self.horizon, cfg.episode_slots - int(state.slot[b])) - 1):
            sim, outcome = core.transition(sim, self._base(sim, listed))
            total += outcome.reward
        spent = start_energy - sim.energy_left[:, 0]
        left = np.concatenate([sim.device_queue, sim.queue], axis=1)
        wait = placements.next_wait(left, cfg.slot_s)
        value = total - price * spent - self.terminal_weight * wait * sim.alive[:, 0]
        return value.reshape(K, S).mean(axis=1)

    def _base(self, sim: core.State, listed: np.ndarray) -> np.ndarray:
        """The base policy's placements (R, M) of every simulated row: exact-slot's, or with base "queue"
        exact-slot-queue's rule (``paced_choice``) over exact-slot's placement and ``listed``."""
        own = exact.solve(sim).placement
        if self.base == "exact-slot":
            return own
        chosen = np.empty_like(own)
        for r in range(sim.batch_size):
            pool = np.concatenate([own[r : r + 1], listed])
            terms = placements.listed_terms(sim, pool, r)
            chosen[r] = pool[paced_choice(sim, r, terms, self.queue_weight, self.burst)[1]]
        return chosen


POLICIES = {"exact-slot-paced": PacedExactSlot, "exact-slot-queue": QueueAwareExactSlot, "rollout": Rollout}
"""name -> factory(env, seed=None, **options): the non-myopic baselines (options: ``queue_weight``, ``burst``;
rollout's ``candidates``, ``samples``, ``horizon``, ``base``, ``terminal_weight``)."""
