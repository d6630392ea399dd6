"""Generic solvers for placing a chain of M blocks on K locations, batched over B instances.

Nothing here knows the edge-partitioning model: the solvers see either a pair-cost array
(dynamic programming) or a black-box cost of candidate placements (particle swarm, genetic
search), so the policies in this package feed them the environment core's own cost functions.

* :func:`chain_dp` is exact: the cheapest chain is a shortest path over (block, location),
  found in O(M K^2) per instance.
* :func:`pso` and :func:`ga` are the swarm-intelligence searches that the DNN-migration paper names for
  partition-offloading ("for each DNN subtask, the optimal allocation ... is searched"). They
  sample the cost only, so they also work where no pair decomposition exists.

A cost function takes integer placements of shape (B, P, M) (P candidates per instance) and
returns their costs, shape (B, P); lower is better.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CostFn = Callable[[np.ndarray], np.ndarray]


def chain_dp(pair_costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact cheapest placement of a chain whose cost is a sum of consecutive pair costs.

    ``pair_costs[b, m, i, j]`` is the cost of block m at location j when block m-1 is at i;
    block 0's predecessor is location 0 (the device, where the raw input is), so only
    ``pair_costs[b, 0, 0, :]`` is read for m = 0. A (M, K, K) array is one instance.

    Returns ``(placement, cost)``: int64 (B, M) minimisers (ties go to the lowest location) and
    their float64 (B,) costs; without a batch axis in the input, without one in the output.
    """
    costs = np.asarray(pair_costs, dtype=np.float64)
    single = costs.ndim == 3
    if single:
        costs = costs[None]
    if costs.ndim != 4 or costs.shape[1] < 1 or costs.shape[2] != costs.shape[3] or costs.shape[2] < 1:
        raise ValueError(
            f"pair_costs must have shape (B, M, K, K) or (M, K, K) with M, K >= 1, got {np.shape(pair_costs)}"
        )
    if np.isnan(costs).any():
        raise ValueError("pair_costs contains NaN")
    n_batch, n_blocks, n_locations, _ = costs.shape
    # value[b, j]: cheapest cost of blocks 0..m with block m at j
    value = costs[:, 0, 0, :].copy()
    came_from = np.zeros((n_batch, n_blocks, n_locations), dtype=np.int64)
    for m in range(1, n_blocks):
        through = value[:, :, None] + costs[:, m]  # (B, i, j)
        came_from[:, m] = through.argmin(axis=1)
        value = np.take_along_axis(through, came_from[:, m][:, None, :], axis=1)[:, 0]
    placement = np.empty((n_batch, n_blocks), dtype=np.int64)
    placement[:, -1] = value.argmin(axis=1)
    best = np.take_along_axis(value, placement[:, -1:], axis=1)[:, 0]
    rows = np.arange(n_batch)
    for m in range(n_blocks - 1, 0, -1):
        placement[:, m - 1] = came_from[rows, m, placement[:, m]]
    return (placement[0], best[0]) if single else (placement, best)


def _check_search(
    n_batch: int, n_blocks: int, n_locations: int, size: int, size_name: str, rounds: int, rounds_name: str
) -> None:
    for name, value, low in (
        ("n_batch", n_batch, 1),
        ("n_blocks", n_blocks, 1),
        ("n_locations", n_locations, 1),
        (size_name, size, 2),
        (rounds_name, rounds, 0),
    ):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def _evaluate(cost: CostFn, placements: np.ndarray) -> np.ndarray:
    values = np.asarray(cost(placements), dtype=np.float64)
    if values.shape != placements.shape[:2]:
        raise ValueError(f"cost returned shape {values.shape}, expected {placements.shape[:2]}")
    if np.isnan(values).any():
        raise ValueError("cost returned NaN")
    return values


def _keep_best(best, best_cost, candidates, costs):
    """Update the per-instance incumbent (best, best_cost) with the best of the candidates."""
    winner = costs.argmin(axis=1)
    winner_cost = np.take_along_axis(costs, winner[:, None], axis=1)[:, 0]
    better = winner_cost < best_cost
    rows = np.flatnonzero(better)
    best[rows] = candidates[rows, winner[rows]]
    best_cost[rows] = winner_cost[rows]


def _ring_best(own_best: np.ndarray, own_best_cost: np.ndarray) -> np.ndarray:
    """Each particle's guide: the best personal best among itself and its two ring neighbours."""
    positions = np.stack([np.roll(own_best, 1, axis=1), own_best, np.roll(own_best, -1, axis=1)])
    costs = np.stack([np.roll(own_best_cost, 1, axis=1), own_best_cost, np.roll(own_best_cost, -1, axis=1)])
    return np.take_along_axis(positions, costs.argmin(axis=0)[None, ..., None], axis=0)[0]


def pso(
    cost: CostFn,
    n_batch: int,
    n_blocks: int,
    n_locations: int,
    rng: np.random.Generator,
    *,
    particles: int = 30,
    iterations: int = 40,
    inertia: float = 0.729,
    cognitive: float = 1.494,
    social: float = 1.494,
    turbulence: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Particle swarm search over integer placements (local-best PSO on a ring).

    Each particle moves in the continuous box [0, K)^M; its placement is the floor of its
    position. Velocities follow ``v <- inertia v + cognitive r1 (own best - x) + social r2
    (neighbourhood best - x)`` with r1, r2 ~ U(0, 1) per coordinate (Clerc's constriction
    values by default), clipped to half the box; the neighbourhood is the particle and its two
    ring neighbours, which keeps the swarm from collapsing early on these discrete landscapes,
    and each coordinate is redrawn uniformly with probability ``turbulence`` per iteration.
    Costs ``particles * (iterations + 1)`` placements per instance.

    Returns the best placements found, int64 (B, M), and their costs, (B,).
    """
    _check_search(n_batch, n_blocks, n_locations, particles, "particles", iterations, "iterations")
    if not 0.0 <= turbulence <= 1.0:
        raise ValueError(f"turbulence must be in [0, 1], got {turbulence!r}")
    shape = (n_batch, particles, n_blocks)
    top = np.nextafter(float(n_locations), 0.0)  # largest position that floors to K - 1
    max_speed = n_locations / 2.0
    position = rng.uniform(0.0, top, shape)
    velocity = rng.uniform(-max_speed, max_speed, shape) / 2.0
    placements = position.astype(np.int64)
    costs = _evaluate(cost, placements)
    own_best, own_best_cost = position.copy(), costs.copy()
    best, best_cost = placements[:, 0].copy(), np.full(n_batch, np.inf)
    _keep_best(best, best_cost, placements, costs)
    for _ in range(iterations):
        guide = _ring_best(own_best, own_best_cost)
        r_own, r_guide = rng.random((2, *shape))
        velocity = (
            inertia * velocity + cognitive * r_own * (own_best - position) + social * r_guide * (guide - position)
        ).clip(-max_speed, max_speed)
        position = (position + velocity).clip(0.0, top)
        position = np.where(rng.random(shape) < turbulence, rng.uniform(0.0, top, shape), position)
        placements = position.astype(np.int64)
        costs = _evaluate(cost, placements)
        improved = costs < own_best_cost
        own_best = np.where(improved[..., None], position, own_best)
        own_best_cost = np.where(improved, costs, own_best_cost)
        _keep_best(best, best_cost, placements, costs)
    return best, best_cost


def ga(
    cost: CostFn,
    n_batch: int,
    n_blocks: int,
    n_locations: int,
    rng: np.random.Generator,
    *,
    population: int = 30,
    generations: int = 40,
    crossover: float = 0.9,
    mutation: float | None = None,
    elite: int = 2,
    tournament: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Genetic search over integer placements: one gene (a location) per block.

    Each generation keeps the ``elite`` best placements and breeds the rest: parents by
    tournament selection (the best of ``tournament`` random members), uniform crossover with
    probability ``crossover``, then each gene redrawn uniformly with probability ``mutation``
    (default 1/M). Costs ``population * (generations + 1)`` placements per instance.

    Returns the best placements found, int64 (B, M), and their costs, (B,).
    """
    _check_search(n_batch, n_blocks, n_locations, population, "population", generations, "generations")
    mutation = 1.0 / n_blocks if mutation is None else mutation
    for name, value in (("crossover", crossover), ("mutation", mutation)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    if not 0 <= elite < population or not 1 <= tournament <= population:
        raise ValueError(
            f"need 0 <= elite < population and 1 <= tournament <= population, got elite={elite}, "
            f"tournament={tournament}, population={population}"
        )
    members = rng.integers(0, n_locations, (n_batch, population, n_blocks))
    costs = _evaluate(cost, members)
    best, best_cost = members[:, 0].copy(), np.full(n_batch, np.inf)
    _keep_best(best, best_cost, members, costs)
    children = population - elite
    for _ in range(generations):
        order = np.argsort(costs, axis=1, kind="stable")
        elites = np.take_along_axis(members, order[:, :elite, None], axis=1)
        entrants = rng.integers(0, population, (n_batch, 2 * children, tournament))
        entrant_costs = np.take_along_axis(costs, entrants.reshape(n_batch, -1), axis=1).reshape(entrants.shape)
        winners = np.take_along_axis(entrants, entrant_costs.argmin(axis=2)[..., None], axis=2)[..., 0]
        parents = np.take_along_axis(members, winners[..., None], axis=1)
        mother, father = parents[:, :children], parents[:, children:]
        cross = (rng.random((n_batch, children, n_blocks)) < 0.5) & (rng.random((n_batch, children, 1)) < crossover)
        offspring = np.where(cross, father, mother)
        mutate = rng.random(offspring.shape) < mutation
        offspring = np.where(mutate, rng.integers(0, n_locations, offspring.shape), offspring)
        members = np.concatenate([elites, offspring], axis=1)
        costs = _evaluate(cost, members)
        _keep_best(best, best_cost, members, costs)
    return best, best_cost
