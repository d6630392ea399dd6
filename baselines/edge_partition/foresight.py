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
  playing it and then ``horizon`` - 1 slots of exact-slot on ``samples`` futures drawn from the env's
  own model with the policy's own random stream (each sampled row's stream is reseeded from the
  policy's generator: the env's future draws are never read), plus the price of the energy drawn and
  the backlog's next wait at the end; common random numbers across candidates. Measured on training seeds
  100..105 (200 slots): a horizon of 6, a heavier terminal backlog weight and exact-slot-queue's rule in the
  simulated slots did not beat these defaults on every foresight scenario; ``candidates`` = ``samples`` = 8
  gains 3-4% in ``bursty`` and ``deadlines`` (the benchmark's setting there,
  ``benchmarks.baselines_edge_partition.POLICY_OPTIONS``) and nothing in ``energy``.

All three list every placement: where (N+1)^M exceeds ``placements.MAX_PLACEMENTS`` they play
exact-slot's placement instead (``exact.solve``). Single-device envs only. None is exact over the
episode: references live in ``hindsight``.
"""

from __future__ import annotations

import numpy as np

from baselines.edge_partition import exact, placements
from baselines.edge_partition.policies import Baseline
from edge_envs.edge_partition import core


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


def _check_weight(queue_weight) -> float:
    if isinstance(queue_weight, bool) or not isinstance(queue_weight, (int, float)) or not queue_weight >= 0:
        raise ValueError(f"queue_weight must be a number >= 0, got {queue_weight!r}")
    return float(queue_weight)


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
    ):
        for field, value in (("candidates", candidates), ("samples", samples), ("horizon", horizon)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 64:
                raise ValueError(f"{field} must be an integer in [1, 64], got {value!r}")
        self.candidates, self.samples, self.horizon = int(candidates), int(samples), int(horizon)
        super().__init__(env, seed, queue_weight, burst)

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
            chosen[b, 0] = placements.placement_of(pool[int(np.argmax(self._scores(state, b, pool, price)))], cfg)
        return chosen

    def _scores(self, state: core.State, b: int, pool: np.ndarray, price: float) -> np.ndarray:
        """Mean over the sampled futures of each candidate's return over the horizon, less the price of the
        energy it draws and the backlog's next wait at the end."""
        cfg, K, S = state.cfg, len(pool), self.samples
        sim = state.rows(np.full(K * S, b))
        streams = np.array([core.seed_stream(self.rng) for _ in range(S)], dtype=np.uint64)
        sim.stream[:] = np.tile(streams, K)  # the policy's own stream; the same futures for every candidate
        start_energy = sim.energy_left[:, 0].copy()
        sim, outcome = core.transition(sim, np.repeat(placements.placement_of(pool, cfg), S, axis=0))
        total = outcome.reward.copy()
        for _ in range(min(self.horizon, cfg.episode_slots - int(state.slot[b])) - 1):
            sim, outcome = core.transition(sim, exact.solve(sim).placement)
            total += outcome.reward
        spent = start_energy - sim.energy_left[:, 0]
        left = np.concatenate([sim.device_queue, sim.queue], axis=1)
        wait = placements.next_wait(left, cfg.slot_s)
        value = total - price * spent - self.queue_weight * wait * sim.alive[:, 0]
        return value.reshape(K, S).mean(axis=1)


POLICIES = {"exact-slot-paced": PacedExactSlot, "exact-slot-queue": QueueAwareExactSlot, "rollout": Rollout}
"""name -> factory(env, seed=None, **options): the non-myopic baselines (options: ``queue_weight``, ``burst``;
rollout's ``candidates``, ``samples``, ``horizon``)."""
