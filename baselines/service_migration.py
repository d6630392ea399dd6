"""Baselines of ServiceMigration-v0 (the SM3FL paper, Sections 5 and 6): ``POLICIES`` maps a name to a factory.

Every policy decides (edges, rho) for the coming round from what ``info`` reports ("edges",
"slowest_rates", "capability", "device_positions") through the env's core functions, and returns
``env.encode_action(...)``. Algorithm 1's rho (line 12) is Eq. (31)'s rho* of one chosen pair: the
default MultiDiscrete action has a choice for exactly that (``core.PairRho``), so the policies using
it are applied exactly; a fixed rho snaps to the nearest grid level (``continuous_rho=True`` applies
any rho exactly).

- ``sm3fl``: Algorithm 1: rho*_{n,k} per pair (Eq. 31), the preference matrix (Eq. 32, corrected),
  LPT assignment of the slowest modality first (lines 5-11), the rho of line 12 (cap rho_max, ERRATA).
- ``mfl-fr``: migration by the same assignment over Eq. (24) at a fixed rho (Section 6.1; rho 0.035
  per ERRATA on Section 6.3; Section 6.4's Table 2 uses 0.044).
  ``lpt`` is the same policy under the name of its rule: LPT list scheduling of the modalities' estimated
  times, with no rho optimisation.
- ``mfl-nsm``: no migration (the initial edges n_k^0), adaptive rho by line 12.
- ``fedbcd``: no migration, fixed rho 0.044 (Section 6.4).
- ``mds``: Section 6.2: the quarter's edge group nearest the devices' mean position, ignoring
  migration cost; rho by line 12.
- ``fedavg``: horizontal FL at rho 0.044; it is costed only by an env made with
  ``framework="horizontal"`` (the edge part of its action is ignored there).
- ``exact-round``: every assignment of the K modalities to distinct edges (P(N, K), 336 by default)
  with its best rho, minimising the round's estimate of P2 (Eq. 22): Corollary 1's rounds R(rho) times
  the round's true duration max_k (T_sm + rho Psi^v). Exact per round over the env's action space
  (tests check it against brute force) while P(N, K) <= ``ASSIGNMENT_LIMIT``; beyond, it scores SM3FL's
  assignment and the first ASSIGNMENT_LIMIT in lexicographic order, and says the round is not proved
  (``proved_share``). It ignores what the round does to later rounds, so it is not an episode optimum.
  ``round_objective`` and ``best_round`` give the per-round gap of any policy.
"""

from __future__ import annotations

import itertools
import math
import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from edge_envs.net import topology
from edge_envs.service_migration import core

SECTION_6_4_RHO = 0.044  # FedBCD and MFL-FR in Table 2 ("the average of SM3FL")
SECTION_6_3_RHO = 0.035  # MFL-FR in Section 6.3 (printed 0.35; ERRATA)


def lpt_assignment(preference) -> np.ndarray:
    """Algorithm 1, lines 5-11: an edge per modality from an (N, K) matrix of estimated times.

    Each remaining modality's candidate is its fastest remaining edge (Eq. 33); the modality whose
    candidate is slowest is settled first, and its edge and itself leave the matrix. Ties go to the
    lowest index.
    """
    preference = np.asarray(preference, dtype=float)
    num_edges, num_modalities = preference.shape
    if num_edges < num_modalities:
        raise ValueError(f"need at least as many edges as modalities, got a {preference.shape} matrix")
    free_edges, left = list(range(num_edges)), list(range(num_modalities))
    edges = np.empty(num_modalities, dtype=np.int64)
    while left:
        sub = preference[np.ix_(free_edges, left)]
        best = np.argmin(sub, axis=0)
        slowest = int(np.argmax(sub[best, np.arange(len(left))]))
        edges[left[slowest]] = free_edges[best[slowest]]
        del free_edges[best[slowest]], left[slowest]
    return edges


def line12_pair(costs: core.PairCosts, edges) -> int:
    """Algorithm 1, line 12: the modality whose chosen pair has the largest Psi^v; its rho* (Eq. 31) is applied."""
    return int(np.argmax(costs.psi_v[np.asarray(edges), np.arange(len(edges))]))


class _Policy:
    """Shared plumbing: the env's config and action encoding, costs from ``info``.

    ``decide`` returns (edges, rho) with rho a float or a ``core.PairRho``; ``act`` encodes a PairRho as the
    env's pair choice where it has one, and otherwise as the ratio it stands for.
    """

    def __init__(self, env):
        self.env = env.unwrapped
        self.cfg = self.env.cfg

    def reset(self, seed=None):
        pass

    def costs(self, info) -> core.PairCosts:
        return core.pair_costs(self.cfg, info["edges"], info["slowest_rates"], info["capability"])

    def act(self, observation, info):
        edges, rho = self.decide(info)
        if isinstance(rho, core.PairRho):
            if self.cfg.offers_pair_rho:
                return self.env.encode_action(edges, pair=rho.modality)
            rho = core.pair_rho(self.cfg, self.costs(info), edges, rho.modality)
        return self.env.encode_action(edges, rho)

    def decide(self, info) -> tuple[np.ndarray, float | core.PairRho]:
        raise NotImplementedError


class SM3FL(_Policy):
    """Algorithm 1 of the SM3FL paper."""

    def decide(self, info):
        cfg, costs = self.cfg, self.costs(info)
        preference = core.preference_matrix(costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)
        edges = lpt_assignment(preference)
        return edges, core.PairRho(line12_pair(costs, edges))


class MFLFixedRatio(_Policy):
    """MFL-FR: the LPT assignment over Eq. (24) evaluated at a fixed rho, without Eq. (31)."""

    def __init__(self, env, rho: float = SECTION_6_3_RHO):
        super().__init__(env)
        self.rho = _checked_rho(rho, self.cfg)

    def decide(self, info):
        cfg, costs = self.cfg, self.costs(info)
        preference = core.estimated_wallclock(self.rho, costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)
        return lpt_assignment(preference), self.rho


class MFLNoMigration(_Policy):
    """MFL-NSM: the sub-models stay on their initial edges; rho by Algorithm 1, line 12."""

    def decide(self, info):
        edges = np.asarray(info["edges"])
        return edges, core.PairRho(line12_pair(self.costs(info), edges))


class FixedEdgesFixedRatio(_Policy):
    """FedBCD (and FedAvg's action): the initial edges n_k^0 kept, a fixed rho."""

    def __init__(self, env, rho: float = SECTION_6_4_RHO):
        super().__init__(env)
        self.rho = _checked_rho(rho, self.cfg)

    def decide(self, info):
        return np.asarray(info["edges"]), self.rho


class MDS(_Policy):
    """Section 6.2: the area is cut into quarters; a quarter's group is the K edges nearest its centre
    (the corner edge and the two beside it on the paper's grid). The group whose centroid is nearest
    the devices' mean position serves, modalities placed within it to minimise the summed upload time
    H; migration cost is ignored. rho by Algorithm 1, line 12."""

    def __init__(self, env):
        super().__init__(env)
        cfg = self.cfg
        side = cfg.area_m
        centres = [(x * side, y * side) for y in (0.25, 0.75) for x in (0.25, 0.75)]
        positions = cfg.edge_positions
        self.groups = [
            np.argsort(topology.distances(np.array([c]), positions)[0], kind="stable")[: cfg.num_modalities]
            for c in centres
        ]
        self.centroids = np.array([positions[g].mean(axis=0) for g in self.groups])

    def decide(self, info):
        cfg, costs = self.cfg, self.costs(info)
        mean_device = np.asarray(info["device_positions"]).mean(axis=0)
        group = self.groups[int(np.argmin(np.linalg.norm(self.centroids - mean_device, axis=1)))]
        k = np.arange(cfg.num_modalities)
        best = min(itertools.permutations(group), key=lambda p: costs.upload[list(p), k].sum())
        edges = np.array(best, dtype=np.int64)
        return edges, core.PairRho(line12_pair(costs, edges))


def _checked_rho(rho: float, cfg) -> float:
    if not cfg.alpha < rho <= cfg.rho_max:
        raise ValueError(f"rho must be in (alpha={cfg.alpha}, rho_max={cfg.rho_max}], got {rho!r}")
    return float(rho)


def _fedavg(env, rho: float = SECTION_6_4_RHO):
    if env.unwrapped.cfg.framework != "horizontal":
        warnings.warn(
            "fedavg is costed as horizontal FL only by an env made with framework='horizontal'; "
            "this env runs split learning, so the policy just keeps the edges at a fixed rho",
            stacklevel=2,
        )
    return FixedEdgesFixedRatio(env, rho)


ASSIGNMENT_LIMIT = 20_000
"""Most assignments ``best_round`` scores per round (P(N, K) = 336 at the default N = 8, K = 3; P(12, 4) =
11,880): a few tens of ms and MB per round; larger spaces are cut (``Round.proved`` False)."""


@lru_cache(maxsize=16)
def assignments(num_edges: int, num_modalities: int, limit: int | None = None) -> np.ndarray:
    """Assignments of K modalities to distinct edges, (min(P(N, K), limit), K), lexicographic: every one
    (``limit`` None) or the first ``limit``."""
    table = itertools.islice(itertools.permutations(range(num_edges), num_modalities), limit)
    return np.array(list(table), dtype=np.int64).reshape(-1, num_modalities)


def round_objective(cfg, costs: core.PairCosts, edges, rho) -> np.ndarray:
    """The round's estimate of P2 (Eq. 22): R(rho) max_k (T_sm + rho Psi^v) for edges (..., K) and rho (...).

    Corollary 1's rounds to target times the round's duration: the wall clock if every round were like
    this one. Infinite for rho <= alpha."""
    edges = np.asarray(edges)
    k = np.arange(edges.shape[-1])
    rho = np.asarray(rho, dtype=float)
    duration = np.max(costs.psi_s[edges, k] + rho[..., None] * costs.psi_v[edges, k], axis=-1)
    return core.rounds_to_target(rho, cfg.alpha, cfg.beta) * duration


def _candidate_rhos(cfg, costs: core.PairCosts, table: np.ndarray) -> np.ndarray:
    """Per assignment (P, K), every rho where the best rho may lie, (P, C): each pair's rho* (Eq. 31,
    capped), where two pairs' durations cross inside (alpha, rho_max], and rho_max.

    The duration is the upper envelope of K lines in rho; between crossings one line rules and the
    objective is that pair's convex Eq. (28a) (Eq. 30), minimised at its rho* or at an end of the piece.
    """
    k = np.arange(table.shape[1])
    a, b = costs.psi_s[table, k], costs.psi_v[table, k]
    stationary = np.minimum(core.optimal_rho(b, a, cfg.alpha), cfg.rho_max)
    i, j = np.triu_indices(table.shape[1], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (a[:, i] - a[:, j]) / (b[:, j] - b[:, i])
    cross = np.where(np.isfinite(cross) & (cross > cfg.alpha) & (cross <= cfg.rho_max), cross, cfg.rho_max)
    return np.concatenate([stationary, cross, np.full((len(table), 1), cfg.rho_max)], axis=1)


def _checked_limit(limit) -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1 (assignments scored per round), got {limit!r}")
    return int(limit)


class Round(NamedTuple):
    """What ``best_round`` found."""

    edges: np.ndarray  # (K,) the best assignment found
    rho: float
    objective: float  # its round_objective
    pair: int | None  # the modality whose Eq. (31) rho* is applied, or None
    proved: bool  # every assignment was scored: the minimum over the action space


def best_round(cfg, costs: core.PairCosts, pair_levels: bool = False, grid=None, limit: int = ASSIGNMENT_LIMIT):
    """The minimum of ``round_objective`` over (assignment, rho), exact where P(N, K) <= ``limit``; beyond,
    over SM3FL's assignment and the first ``limit`` assignments (``proved`` False).

    Over rho in (alpha, rho_max] (``grid`` None), or over the env's discrete choices: each chosen pair's
    rho* (if ``pair_levels``) and the values of ``grid``.
    """
    num_edges, num_modalities = costs.psi_v.shape
    limit = _checked_limit(limit)
    proved = math.perm(num_edges, num_modalities) <= limit
    table = assignments(num_edges, num_modalities, None if proved else limit)
    if not proved:
        preference = core.preference_matrix(costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)
        table = np.concatenate([lpt_assignment(preference)[None], table])
    k = np.arange(table.shape[1])
    if grid is None:
        rhos = _candidate_rhos(cfg, costs, table)
        pairs = np.full(rhos.shape, -1)
    else:
        rhos = np.broadcast_to(np.asarray(grid, dtype=float), (len(table), len(grid)))
        pairs = np.full(rhos.shape, -1)
        if pair_levels:
            capped = np.minimum(core.optimal_rho(costs.psi_v[table, k], costs.psi_s[table, k], cfg.alpha), cfg.rho_max)
            rhos = np.concatenate([capped, rhos], axis=1)
            pairs = np.concatenate([np.broadcast_to(k, capped.shape), pairs], axis=1)
    values = round_objective(cfg, costs, table[:, None, :], rhos)
    p, c = np.unravel_index(int(np.argmin(values)), values.shape)
    pair = int(pairs[p, c])
    return Round(table[p].copy(), float(rhos[p, c]), float(values[p, c]), None if pair < 0 else pair, proved)


class ExactRound(_Policy):
    """Exact per round: the (assignment, rho) of least ``round_objective`` over the env's action space, while
    P(N, K) <= ``limit`` (``best_round``); ``decisions`` and ``proved`` count the rounds decided and those
    proved (``proved_share``)."""

    def __init__(self, env, limit: int = ASSIGNMENT_LIMIT):
        super().__init__(env)
        self.limit = _checked_limit(limit)
        self.decisions, self.proved = 0, 0

    @property
    def proved_share(self) -> float:
        """Share of the rounds so far whose decision is proved the round's minimum (NaN before the first)."""
        return self.proved / self.decisions if self.decisions else float("nan")

    def decide(self, info):
        cfg = self.cfg
        discrete = not cfg.continuous_rho
        found = best_round(cfg, self.costs(info), cfg.offers_pair_rho, cfg.rho_grid if discrete else None, self.limit)
        edges, rho, pair = found.edges, found.rho, found.pair
        self.decisions += 1
        self.proved += found.proved
        if discrete and pair is not None:
            return edges, core.PairRho(pair)
        return edges, rho


def _exact_round_return(env, seed: int) -> float:
    """Return of an ``exact-round`` episode (per-round exact, not an episode optimum)."""
    policy = ExactRound(env)
    observation, info = env.reset(seed=seed)
    total = 0.0
    while True:
        observation, reward, terminated, truncated, info = env.step(policy.act(observation, info))
        total += reward
        if terminated or truncated:
            return total


POLICIES = {
    "sm3fl": SM3FL,
    "mfl-fr": MFLFixedRatio,
    "lpt": MFLFixedRatio,  # the plain LPT assignment (slowest modality first, Eq. 24 at a fixed rho)
    "mfl-nsm": MFLNoMigration,
    "fedbcd": FixedEdgesFixedRatio,
    "mds": MDS,
    "fedavg": _fedavg,
    "exact-round": ExactRound,
}

REFERENCES = {"exact-round (per-round exact, not episode-optimal)": _exact_round_return}
"""Episode-level references for the leaderboard: name -> fn(env, seed) -> the episode's return."""
ALIASES = {"fedavg": "fedbcd"}
"""fedavg acts as fedbcd (initial edges, rho 0.044); only an env made with framework="horizontal" costs it apart."""
STRONGEST = ("exact-round", "sm3fl", "mfl-fr")
"""The best baselines of Table 2 (benchmarks/results/table2_service_migration.md), best first."""
