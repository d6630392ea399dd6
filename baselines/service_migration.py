"""Baselines of ServiceMigration-v0 (seed 000, Sections 5 and 6): ``POLICIES`` maps a name to a factory.

Every policy decides (edges, rho) for the coming round from what ``info`` reports ("edges",
"rates", "capability", "device_positions") through the env's core functions, and returns
``env.encode_action(edges, rho)``. With a MultiDiscrete action rho snaps to the nearest grid level;
make the env with ``continuous_rho=True`` to apply rho exactly.

- ``sm3fl``: Algorithm 1: rho*_{n,k} per pair (Eq. 31), the preference matrix (Eq. 32, corrected),
  LPT assignment of the slowest modality first (lines 5-11), the rho of line 12 (cap rho_max, ERRATA).
- ``mfl-fr``: migration by the same assignment over Eq. (24) at a fixed rho (Section 6.1; rho 0.035
  per ERRATA on Section 6.3; Section 6.4's Table 2 uses 0.044).
- ``mfl-nsm``: no migration (the initial edges n_k^0), adaptive rho by line 12.
- ``fedbcd``: no migration, fixed rho 0.044 (Section 6.4).
- ``mds``: Section 6.2: the quarter's edge group nearest the devices' mean position, ignoring
  migration cost; rho by line 12.
- ``fedavg``: horizontal FL at rho 0.044; it is costed only by an env made with
  ``framework="horizontal"`` (the edge part of its action is ignored there).
"""

from __future__ import annotations

import itertools
import warnings

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
    n_edges, n_modalities = preference.shape
    if n_edges < n_modalities:
        raise ValueError(f"need at least as many edges as modalities, got a {preference.shape} matrix")
    free_edges, left = list(range(n_edges)), list(range(n_modalities))
    edges = np.empty(n_modalities, dtype=np.int64)
    while left:
        sub = preference[np.ix_(free_edges, left)]
        best = np.argmin(sub, axis=0)
        slowest = int(np.argmax(sub[best, np.arange(len(left))]))
        edges[left[slowest]] = free_edges[best[slowest]]
        del free_edges[best[slowest]], left[slowest]
    return edges


def line12_rho(costs: core.PairCosts, edges, alpha: float, rho_max: float) -> float:
    """Algorithm 1, line 12: the rho* (Eq. 31) of the chosen pair with the largest Psi^v, capped at
    rho_max (ERRATA: the printed cap 1/M equals alpha at M = 50)."""
    k = np.arange(len(edges))
    psi_v, psi_s = costs.psi_v[edges, k], costs.psi_s[edges, k]
    heaviest = int(np.argmax(psi_v))
    return float(min(core.optimal_rho(psi_v[heaviest], psi_s[heaviest], alpha), rho_max))


class _Policy:
    """Shared plumbing: the env's config and action encoding, costs from ``info``."""

    def __init__(self, env):
        self.env = env.unwrapped
        self.config = self.env.config

    def reset(self, seed=None):
        pass

    def costs(self, info) -> core.PairCosts:
        return core.pair_costs(self.config, info["edges"], info["rates"], info["capability"])

    def act(self, observation, info):
        edges, rho = self.decide(info)
        return self.env.encode_action(edges, rho)

    def decide(self, info) -> tuple[np.ndarray, float]:
        raise NotImplementedError


class SM3FL(_Policy):
    """Algorithm 1 of seed 000."""

    def decide(self, info):
        cfg, costs = self.config, self.costs(info)
        preference = core.preference_matrix(costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)
        edges = lpt_assignment(preference)
        return edges, line12_rho(costs, edges, cfg.alpha, cfg.rho_max)


class MFLFixedRatio(_Policy):
    """MFL-FR: the LPT assignment over Eq. (24) evaluated at a fixed rho, without Eq. (31)."""

    def __init__(self, env, rho: float = SECTION_6_3_RHO):
        super().__init__(env)
        self.rho = _checked_rho(rho, self.config)

    def decide(self, info):
        cfg, costs = self.config, self.costs(info)
        preference = core.estimated_wallclock(self.rho, costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)
        return lpt_assignment(preference), self.rho


class MFLNoMigration(_Policy):
    """MFL-NSM: the sub-models stay on their initial edges; rho by Algorithm 1, line 12."""

    def decide(self, info):
        edges = np.asarray(info["edges"])
        return edges, line12_rho(self.costs(info), edges, self.config.alpha, self.config.rho_max)


class FixedEdgesFixedRatio(_Policy):
    """FedBCD (and FedAvg's action): the initial edges n_k^0 kept, a fixed rho."""

    def __init__(self, env, rho: float = SECTION_6_4_RHO):
        super().__init__(env)
        self.rho = _checked_rho(rho, self.config)

    def decide(self, info):
        return np.asarray(info["edges"]), self.rho


class MDS(_Policy):
    """Section 6.2: the area is cut into quarters; a quarter's group is the K edges nearest its centre
    (the corner edge and the two beside it on the seed's grid). The group whose centroid is nearest
    the devices' mean position serves, modalities placed within it to minimise the summed upload time
    H; migration cost is ignored. rho by Algorithm 1, line 12."""

    def __init__(self, env):
        super().__init__(env)
        cfg = self.config
        side = cfg.area_m
        centres = [(x * side, y * side) for y in (0.25, 0.75) for x in (0.25, 0.75)]
        positions = cfg.edge_positions
        self.groups = [np.argsort(topology.distances(np.array([c]), positions)[0], kind="stable")[
                       :cfg.n_modalities] for c in centres]
        self.centroids = np.array([positions[g].mean(axis=0) for g in self.groups])

    def decide(self, info):
        cfg, costs = self.config, self.costs(info)
        mean_device = np.asarray(info["device_positions"]).mean(axis=0)
        group = self.groups[int(np.argmin(np.linalg.norm(self.centroids - mean_device, axis=1)))]
        k = np.arange(cfg.n_modalities)
        best = min(itertools.permutations(group), key=lambda p: costs.upload[list(p), k].sum())
        edges = np.array(best, dtype=np.int64)
        return edges, line12_rho(costs, edges, cfg.alpha, cfg.rho_max)


def _checked_rho(rho: float, cfg) -> float:
    if not cfg.alpha < rho <= cfg.rho_max:
        raise ValueError(f"rho must be in (alpha={cfg.alpha}, rho_max={cfg.rho_max}], got {rho!r}")
    return float(rho)


def _fedavg(env, rho: float = SECTION_6_4_RHO):
    if env.unwrapped.config.framework != "horizontal":
        warnings.warn("fedavg is costed as horizontal FL only by an env made with framework='horizontal'; "
                      "this env runs split learning, so the policy just keeps the edges at a fixed rho",
                      stacklevel=2)
    return FixedEdgesFixedRatio(env, rho)


POLICIES = {
    "sm3fl": SM3FL,
    "mfl-fr": MFLFixedRatio,
    "mfl-nsm": MFLNoMigration,
    "fedbcd": FixedEdgesFixedRatio,
    "mds": MDS,
    "fedavg": _fedavg,
}
