"""Dynamics of ServiceMigration-v0: the SM3FL paper's time model (Eqs. 3-6), Algorithm 1's quantities
(Eqs. 19, 25-32, corrected per docs/ERRATA.md) and the round transition.

Notation: N edges, K modalities, M devices, S training samples, E epochs; rho is the round's
sample-collection ratio (every device collects rho S samples, S^r = rho M S in all).
Pair matrices are (N, K): entry (n, k) is modality k's sub-model served by edge n.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import vectorize

from edge_envs import libm
from edge_envs.net import channel, mobility, topology
from edge_envs.service_migration import kernels
from edge_envs.service_migration.config import ServiceMigrationConfig
from edge_envs.service_migration.learning import make_learner, rounds_to_target

MIN_DISTANCE_M = 1.0  # path-loss formulas diverge at d = 0; closer devices count as 1 m away


# ---------------------------------------------------------------- time model, Eqs. (3)-(6)


def model_bytes(cfg: ServiceMigrationConfig) -> np.ndarray:
    """v_k: bytes of each modality's sub-model, (K,)."""
    return np.array([m.params * cfg.bytes_per_param for m in cfg.modalities], dtype=float)


def transfer_time(size_bytes, distance_m, cfg: ServiceMigrationConfig):
    """Eq. (3): moving ``size_bytes`` between two sites ``distance_m`` apart,
    v log2(1 + d / d_0) / pi_n, with pi_n in bytes/s (``migration_speed_bps`` / 8)."""
    speed_bytes = cfg.migration_speed_bps / 8.0
    return np.asarray(size_bytes) * libm.log2(1.0 + np.asarray(distance_m) / cfg.reference_distance_m) / speed_bytes


def migration_times(cfg: ServiceMigrationConfig, current_edges) -> np.ndarray:
    """T_sm(n, k) of Eq. (3) for every pair: modality k moving from its current edge to edge n; (N, K).

    Staying (n = current edge) costs 0 since the distance is 0. Eq. (3)'s log2 factor of every pair of
    edges depends on the config only: it is computed once per config (:func:`_constants`).
    """
    constants = _constants(cfg)
    hop_log2 = np.swapaxes(constants.hop_log2.T[np.asarray(current_edges)], -1, -2)  # (..., N, K): [n, k] from n_k to n
    return constants.model_bytes * hop_log2 / constants.speed_bytes


@dataclass(frozen=True)
class _Constants:
    """What the round's costs take from the config alone, computed once per config."""

    model_bytes: np.ndarray  # (K,) v_k
    hop_log2: np.ndarray  # (N, N) log2(1 + d(n, m) / d_0), Eq. (3)
    hop_order: list  # row n: the edges by distance from edge n (stable argsort), for resolve_edges
    speed_bytes: float  # pi_n in bytes/s
    upload_bits: np.ndarray  # (1, K) S q_k, Eq. (25)'s numerator
    work: np.ndarray  # (K,) E M S vartheta_k, Eq. (26)'s numerator
    rate_code: int  # the path-loss model, as kernels.uplink_rates reads it
    rate_terms: np.ndarray  # (8,) the rate's distance-free terms (kernels.rate_terms)
    c_functions: np.ndarray  # kernels.c_functions() of this process


_CONSTANTS: dict[int, tuple] = {}  # id(cfg) -> (cfg, _Constants); holding cfg keeps its id unique


def _constants(cfg: ServiceMigrationConfig) -> _Constants:
    found = _CONSTANTS.get(id(cfg))
    if found is None:
        if len(_CONSTANTS) >= 64:
            _CONSTANTS.clear()
        edges = cfg.edge_positions
        hop = topology.distances(edges, edges)
        code, terms = kernels.rate_terms(
            cfg.path_loss_model,
            cfg.carrier_hz,
            channel.dbm_to_watt(cfg.tx_power_dbm),
            noise_density_w_per_hz(cfg),
            cfg.bandwidth_hz,
        )
        found = _CONSTANTS[id(cfg)] = (
            cfg,
            _Constants(
                model_bytes=model_bytes(cfg),
                hop_log2=libm.log2(1.0 + hop / cfg.reference_distance_m),
                hop_order=np.argsort(hop, axis=1, kind="stable").tolist(),
                speed_bytes=cfg.migration_speed_bps / 8.0,
                upload_bits=cfg.num_samples * sample_bits(cfg)[None, :],
                work=cfg.epochs * cfg.num_devices * cfg.num_samples * densities(cfg),
                rate_code=code,
                rate_terms=terms,
                c_functions=kernels.c_functions(),
            ),
        )
    return found[1]


def uplink_rates(cfg: ServiceMigrationConfig, device_positions, rng: np.random.Generator | None = None):
    """Device -> edge rates (M, N) in bit/s, the denominator of Eq. (4):
    B log2(1 + P h(d) / (N0 B)) with N0 as ``noise_density_w_per_hz`` reads it.
    Faded when ``cfg.fading`` and ``rng``; else computed by ``kernels.uplink_rates`` (the same operations)."""
    if not (cfg.fading and rng is not None):
        constants = _constants(cfg)
        positions = np.asarray(device_positions, dtype=float)
        rates = np.empty((*positions.shape[:-1], cfg.num_edges))
        kernels.uplink_rates(
            positions.reshape(-1, positions.shape[-2], 2),
            cfg.edge_positions,
            MIN_DISTANCE_M,
            constants.rate_code,
            constants.rate_terms,
            constants.c_functions,
            rates.reshape(-1, positions.shape[-2], cfg.num_edges),
        )
        return rates
    d = np.maximum(topology.distances(device_positions, cfg.edge_positions), MIN_DISTANCE_M)
    gain = channel.channel_gain(
        d, rng if cfg.fading else None, model=cfg.path_loss_model, fading=cfg.fading, carrier_hz=cfg.carrier_hz
    )
    return channel.shannon_rate(
        cfg.bandwidth_hz, channel.dbm_to_watt(cfg.tx_power_dbm), gain, noise_density_w_per_hz(cfg)
    )


def slowest_rates(cfg: ServiceMigrationConfig, device_positions) -> np.ndarray:
    """Each edge's slowest device's rate without fading, (..., N): ``uplink_rates(cfg, device_positions)``'s
    minimum over the devices, computed for the farthest device of each edge alone (``kernels.slowest_rates``)."""
    constants = _constants(cfg)
    positions = np.asarray(device_positions, dtype=float)
    farthest = np.empty((*positions.shape[:-2], cfg.num_edges))
    kernels.farthest_distances(positions.reshape(-1, positions.shape[-2], 2), cfg.edge_positions,
                               farthest.reshape(-1, cfg.num_edges))  # fmt: skip
    slowest = np.empty_like(farthest)
    kernels.slowest_rates(
        farthest.reshape(-1, cfg.num_edges),
        MIN_DISTANCE_M,
        constants.rate_code,
        constants.rate_terms,
        constants.c_functions,
        slowest.reshape(-1, cfg.num_edges),
    )
    return slowest


def round_rates(cfg: ServiceMigrationConfig, device_positions, rng: np.random.Generator):
    """(each edge's slowest rate (N,), every device's rates (M, N) or None) of a round: all of them where the
    round needs them (the horizontal framework) or draws them (fading, from ``rng``), else the slowest alone."""
    if cfg.fading or cfg.framework == "horizontal":
        rates = uplink_rates(cfg, device_positions, rng)
        return rates.min(axis=-2), rates
    return slowest_rates(cfg, device_positions), None


def noise_density_w_per_hz(cfg: ServiceMigrationConfig) -> float:
    """N0 as the density of ``channel.shannon_rate``: the figure itself (``noise_reading="density"``), or the
    printed Eq. (4)'s noise power spread over the band (``"printed"``: P h / N0 = P h / ((N0 / B) B))."""
    n0 = channel.dbm_to_watt(cfg.noise_psd_dbm_per_hz)
    return n0 if cfg.noise_reading == "density" else n0 / cfg.bandwidth_hz


def sample_bits(cfg: ServiceMigrationConfig) -> np.ndarray:
    """q_k, bits per sample, (K,)."""
    return np.array([m.sample_bits for m in cfg.modalities], dtype=float)


def densities(cfg: ServiceMigrationConfig) -> np.ndarray:
    """vartheta_k, cycles per sample and epoch, (K,)."""
    return np.array([m.density_cycles for m in cfg.modalities], dtype=float)


def upload_per_rho(cfg: ServiceMigrationConfig, slowest) -> np.ndarray:
    """H(n, k) of Eq. (25): max_m S q_k / rate(m, n) = S q_k / ``slowest[n]``, the slowest device's upload at
    rho = 1; (N, K). ``slowest``: each edge's minimum rate over the devices, (N,).

    Eq. (4) gives device m's upload rho S q_k / rate(m, n); Eq. (5) takes the max over devices,
    so max_m T_up,m = rho H(n, k).
    """
    return _constants(cfg).upload_bits / np.asarray(slowest, dtype=float)[..., :, None]


def compute_per_rho(cfg: ServiceMigrationConfig, capability) -> np.ndarray:
    """L(n, k) of Eq. (26), corrected (ERRATA): E M S vartheta_k / xi_n; (N, K).

    Eq. (6): each epoch processes S^r = rho M S samples at vartheta_k cycles each on an edge of
    xi_n cycles/s, so T_cp = E rho M S vartheta_k / xi_n = rho L(n, k) (the printed form drops S).
    """
    return _constants(cfg).work / np.asarray(capability, dtype=float)[..., :, None]


@dataclass(frozen=True)
class PairCosts:
    """Per-pair time components of the coming round, each (N, K) (Eqs. 25-27)."""

    migration: np.ndarray  # T_sm(n, k), Eq. (3); Psi^s
    upload: np.ndarray  # H(n, k), Eq. (25), per unit rho
    compute: np.ndarray  # L(n, k), Eq. (26), per unit rho

    @property
    def psi_v(self) -> np.ndarray:
        """Psi^v = H + L: the part of a pair's round time proportional to rho (Eq. 27)."""
        return self.upload + self.compute

    @property
    def psi_s(self) -> np.ndarray:
        """Psi^s = T_sm: the part independent of rho (Eq. 27)."""
        return self.migration


def _rows(a: np.ndarray, batch: tuple, shape: tuple) -> np.ndarray:
    """``a`` broadcast to ``batch + shape`` with its batch axes flattened into one, for the kernels."""
    if a.shape != batch + shape:
        a = np.broadcast_to(a, batch + shape)
    return a.reshape(-1, *shape)


def pair_costs(cfg: ServiceMigrationConfig, edges, slowest, capability) -> PairCosts:
    """The (N, K) components of every edge-modality pair (Algorithm 1, line 2), given each modality's
    current edge (K,), each edge's slowest uplink rate (N,) and the edges' capabilities (N,) of the coming
    round (leading batch axes broadcast). :func:`migration_times`, :func:`upload_per_rho` and :func:`compute_per_rho`
    define the tables; ``kernels.pair_costs`` computes all three with their operations in one compiled loop.

    The env's ``info`` reports all three ("edges", "slowest_rates", "capability"), so a policy can call this.
    """
    constants = _constants(cfg)
    edges, slowest = np.asarray(edges, dtype=np.int64), np.asarray(slowest, dtype=float)
    capability = np.asarray(capability, dtype=float)
    N, K = cfg.num_edges, cfg.num_modalities
    batch = edges.shape[:-1]
    if slowest.shape[:-1] != batch or capability.shape[:-1] != batch:
        batch = np.broadcast_shapes(batch, slowest.shape[:-1], capability.shape[:-1])
    tables = np.empty((3, *batch, N, K))
    kernels.pair_costs(
        _rows(edges, batch, (K,)),
        _rows(slowest, batch, (N,)),
        _rows(capability, batch, (N,)),
        constants.model_bytes,
        constants.hop_log2,
        constants.speed_bytes,
        constants.upload_bits[0],
        constants.work,
        tables.reshape(3, -1, N, K),
    )
    return PairCosts(tables[0], tables[1], tables[2])


@dataclass(slots=True)  # not frozen: a frozen dataclass takes three times as long to make, a cost every round pays
class RoundTimes:
    """One round's times per modality (K,) (or per edge, horizontal framework) and the round's duration."""

    migration: np.ndarray  # T_sm, Eq. (3)
    upload: np.ndarray  # max_m T_up,m, Eqs. (4)-(5)
    compute: np.ndarray  # T_cp, Eq. (6)

    @property
    def communication(self) -> np.ndarray:
        """T_cm = T_sm + max_m T_up,m, Eq. (5)."""
        return self.migration + self.upload

    @property
    def total(self) -> np.ndarray:
        """T_cm + T_cp of each modality (Eq. 20a's summand)."""
        return self.communication + self.compute

    @property
    def round_time(self) -> float:
        """The round lasts as long as its slowest modality (Section 5.3)."""
        return float(self.total.max())


def round_times(costs: PairCosts, edges, rho) -> RoundTimes:
    """Eqs. (3)-(6) for modality k on edge ``edges[k]`` at ratio ``rho`` (Eq. 27: rho (H + L) + T_sm): T_sm(n_k, k),
    rho H(n_k, k) and rho L(n_k, k). Batched: costs (B, N, K), edges (B, K) and rho (B,) give (B, K) times."""
    edges = np.asarray(edges, dtype=np.int64)
    rho = np.asarray(rho, dtype=float)
    out = np.empty((3, *edges.shape))
    N, K = costs.migration.shape[-2:]
    kernels.round_times(
        costs.migration.reshape(-1, N, K),
        costs.upload.reshape(-1, N, K),
        costs.compute.reshape(-1, N, K),
        edges.reshape(-1, K),
        rho.reshape(-1),
        out.reshape(3, -1, K),
    )
    return RoundTimes(out[0], out[1], out[2])


def horizontal_round_times(cfg: ServiceMigrationConfig, state: "State", rho: float) -> RoundTimes:
    """FedAvg's round (horizontal FL, Fig. 1b) costed with the same model; entries per edge (N,).

    Every device uploads all K modalities of its rho S samples to its nearest edge (Eq. 4 with
    sum_k q_k); each edge with devices downloads the whole model from the server and uploads it back
    (Eq. 3 twice, sum_k v_k bytes over the edge-server distance) and trains all sub-models on its
    devices' samples (Eq. 6 with M_n devices and sum_k vartheta_k). Edges without devices sit out (0).
    """
    device_edges = nearest_edges(cfg, state.device_positions)
    n_per_edge = np.bincount(device_edges, minlength=cfg.num_edges)
    active = n_per_edge > 0
    d_server = topology.distances(cfg.edge_positions, cfg.server_position[None, :])[:, 0]
    exchange = np.where(active, 2.0 * transfer_time(model_bytes(cfg).sum(), d_server, cfg), 0.0)
    own_rate = state.rates[np.arange(cfg.num_devices), device_edges]
    slowest = np.full(cfg.num_edges, np.inf)
    np.minimum.at(slowest, device_edges, own_rate)
    upload = np.where(active, rho * cfg.num_samples * sample_bits(cfg).sum() / slowest, 0.0)
    compute = rho * cfg.epochs * n_per_edge * cfg.num_samples * densities(cfg).sum() / state.capability
    return RoundTimes(exchange, upload, compute)


def round_duration(cfg: ServiceMigrationConfig, times: RoundTimes) -> float:
    """How long a round of these times lasts: its slowest modality or edge (``times.round_time``), or, for
    FedAvg under ``horizontal_schedule="shared"``, every edge's communication in turn and then the slowest
    edge's training: sum_n T_cm(n) + max_n T_cp(n)."""
    if cfg.framework == "horizontal" and cfg.horizontal_schedule == "shared":
        return float(times.communication.sum() + times.compute.max())
    return times.round_time


# ---------------------------------------------------------------- Corollary 1 and Algorithm 1, Eqs. (19)-(32)


def estimated_wallclock(rho, psi_v, psi_s, alpha: float, beta: float):
    """Corrected Eq. (28a) (ERRATA; from Eqs. 24 and 27): T(rho) = beta rho (Psi^s + rho Psi^v) / (rho - alpha).

    The rounds of Eq. (19) times the round's duration rho Psi^v + Psi^s; infinite for rho <= alpha.
    (The printed form multiplies rho^2 by Psi^v + Psi^s, which contradicts its derivative, Eq. 29.)
    """
    return rounds_to_target(rho, alpha, beta) * (np.asarray(psi_s) + np.asarray(rho) * np.asarray(psi_v))


def optimal_rho(psi_v, psi_s, alpha: float):
    """Eq. (31): rho* = alpha + sqrt((alpha^2 Psi^v + alpha Psi^s) / Psi^v), the root of Eq. (29) above alpha,
    where the corrected Eq. (28a) is convex (Eq. 30). Broadcasts over arrays (a compiled ufunc)."""
    return _optimal_rho(psi_v, psi_s, alpha, alpha**2)


def preference_matrix(psi_v, psi_s, alpha: float, beta: float):
    """Corrected Eq. (32) (ERRATA): T(rho*) = beta (Psi^s + 2 rho* Psi^v) = beta Psi^v rho*^2 / alpha.

    Derivation: at rho*, Eq. (29) = 0 gives Psi^v rho*^2 = alpha (2 Psi^v rho* + Psi^s), i.e.
    rho* (Psi^s + rho* Psi^v) = (rho* - alpha)(Psi^s + 2 rho* Psi^v); substitute into Eq. (28a).
    Broadcasts over arrays (a compiled ufunc).
    """
    return _preference(psi_v, psi_s, alpha, alpha**2, beta)


# Eqs. (31)-(32) as ufuncs over kernels.rho_star and kernels.preference (the observation kernel calls them too).
# alpha^2 comes from Python (a ** 2 is the C library's pow, which need not round as alpha * alpha does).
@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def _optimal_rho(psi_v, psi_s, alpha, alpha_squared):
    return kernels.rho_star(psi_v, psi_s, alpha, alpha_squared)


@vectorize(["float64(float64, float64, float64, float64, float64)"], cache=True)
def _preference(psi_v, psi_s, alpha, alpha_squared, beta):
    return kernels.preference(psi_v, psi_s, alpha, alpha_squared, beta)


# ---------------------------------------------------------------- state and transition


def draw_capability(cfg: ServiceMigrationConfig, rng: np.random.Generator) -> np.ndarray:
    """xi_n for every edge: N(mean, std) truncated to >= capability_min_hz by redrawing (ERRATA)."""
    xi = rng.normal(cfg.capability_mean_hz, cfg.capability_std_hz, size=cfg.num_edges)
    if min(xi.tolist()) >= cfg.capability_min_hz:  # the usual case, without the array calls below
        return xi
    low = xi < cfg.capability_min_hz
    while low.any():
        xi[low] = rng.normal(cfg.capability_mean_hz, cfg.capability_std_hz, size=int(low.sum()))
        low = xi < cfg.capability_min_hz
    return xi


def make_mobility(cfg: ServiceMigrationConfig):
    """The devices' mobility model, or None for static devices."""
    if cfg.mobility == "random_waypoint":
        return mobility.RandomWaypoint(cfg.area_m, speed_range_mps=(cfg.speed_min_mps, cfg.speed_max_mps))
    if cfg.mobility == "gauss_markov":
        return mobility.GaussMarkov(cfg.area_m, mean_speed_mps=(cfg.speed_min_mps + cfg.speed_max_mps) / 2.0)
    return None


def nearest_edges(cfg: ServiceMigrationConfig, device_positions) -> np.ndarray:
    """Each device's nearest edge (where it uploads in the horizontal framework), (M,)."""
    return topology.nearest_server(device_positions, cfg.edge_positions)


@dataclass
class State:
    """Everything that evolves within an episode. The arrays describe the round about to start."""

    cfg: ServiceMigrationConfig
    round: int
    edges: np.ndarray  # (K,) edge serving each modality now, n_k^{r-1}
    device_positions: np.ndarray  # (M, 2) reported at the start of the round (Algorithm 2, line 4)
    capability: np.ndarray  # (N,) xi_n^r reported at the start of the round (Algorithm 2, line 3)
    slowest_rates: np.ndarray  # (N,) each edge's slowest device's uplink rate this round, bit/s (Eq. 25)
    rates: np.ndarray | None  # (M, N) every device's rates this round: None where unneeded (round_rates)
    wall_clock: float  # seconds elapsed: the sum of round times
    communication_cost: float  # sum over rounds and modalities (edges, horizontal) of T_cm
    computation_cost: float  # sum over rounds and modalities (edges, horizontal) of T_cp
    mobility: object  # edge_envs.net.mobility model; None for static devices
    learner: object  # learning.BoundLearner or learning.RealLearner (its model is trained in place)
    edge_rng: np.random.Generator  # capabilities and fading: a stream of its own, so that every policy
    # meets the same capability draws round by round under one seed (common random numbers)

    _costs: PairCosts | None = field(default=None, init=False, repr=False, compare=False)  # costs(), once computed

    def costs(self) -> PairCosts:
        """The (N, K) pair costs of the round about to start (Algorithm 1, line 2); computed once per
        round (the arrays describe the round about to start and are not changed in place)."""
        if self._costs is None:
            self._costs = pair_costs(self.cfg, self.edges, self.slowest_rates, self.capability)
        return self._costs


def _child(rng: np.random.Generator) -> np.random.Generator:
    return np.random.default_rng(rng.integers(2**63))


def initial(cfg: ServiceMigrationConfig, instance, rng: np.random.Generator) -> State:
    """The state before round 1: the instance's initial placement, devices placed, capabilities drawn.

    ``rng`` seeds two child streams (edge capabilities and fading; the real learner's samples) and
    keeps driving the mobility model.
    """
    if instance is None or not hasattr(instance, "initial_edges"):
        raise ValueError(f"the generator must return a generator.Instance, got {instance!r}")
    if instance.device_positions is not None:
        if cfg.mobility != "static":
            raise ValueError("an instance with fixed device positions needs ServiceMigrationConfig.mobility='static'")
        model, positions = None, np.array(instance.device_positions, dtype=float)
    else:
        model = make_mobility(cfg)
        if model is None:
            positions = rng.uniform(0.0, cfg.area_m, size=(cfg.num_devices, 2))
        else:
            positions = model.reset(cfg.num_devices, rng)
    if positions.shape != (cfg.num_devices, 2):
        raise ValueError(f"device positions must be ({cfg.num_devices}, 2), got {positions.shape}")
    edges = np.array(instance.initial_edges, dtype=np.int64)
    if (
        edges.shape != (cfg.num_modalities,)
        or len(set(edges.tolist())) != len(edges)
        or np.any((edges < 0) | (edges >= cfg.num_edges))
    ):
        raise ValueError(
            f"initial_edges must be {cfg.num_modalities} distinct edges in [0, {cfg.num_edges}), "
            f"got {instance.initial_edges!r}"
        )
    edge_rng, learner = _child(rng), make_learner(cfg, _child(rng))
    capability = draw_capability(cfg, edge_rng)
    slowest, rates = round_rates(cfg, positions, edge_rng)
    return State(
        cfg=cfg,
        round=0,
        edges=edges,
        device_positions=positions,
        capability=capability,
        slowest_rates=slowest,
        rates=rates,
        wall_clock=0.0,
        communication_cost=0.0,
        computation_cost=0.0,
        mobility=model,
        learner=learner,
        edge_rng=edge_rng,
    )


def resolve_edges(cfg: ServiceMigrationConfig, requested) -> tuple[np.ndarray, bool]:
    """Enforce Eq. (20b), one modality per edge; returns (edges, repaired).

    ``on_conflict="error"`` raises ValueError naming the shared edge. ``"repair"``: modalities are
    taken in order (text, acoustic, vision by default); a modality whose edge an earlier one already
    holds gets the free edge nearest to the one it asked for (lowest index on ties).
    """
    requested = np.asarray(requested, dtype=np.int64)
    if len(set(requested.tolist())) == len(requested):
        return requested, False
    if cfg.on_conflict == "error":
        values, counts = np.unique(requested, return_counts=True)
        shared = {int(e): [cfg.modalities[k].name for k in np.flatnonzero(requested == e)] for e in values[counts > 1]}
        raise ValueError(
            f"two modalities on one edge break Eq. (20b): {shared}; pick distinct edges "
            f"or make the env with on_conflict='repair'"
        )
    order = _constants(cfg).hop_order
    edges = requested.tolist()
    taken: set[int] = set()
    for k, edge in enumerate(edges):
        if edge in taken:
            edges[k] = next(n for n in order[edge] if n not in taken)
        taken.add(edges[k])
    return np.array(edges, dtype=np.int64), True


@dataclass(frozen=True)
class PairRho:
    """A rho decision: Eq. (31)'s rho* of modality ``modality``'s pair (its edge after any repair) in the
    coming round, capped at rho_max. Algorithm 1, line 12 applies this for the pair of largest Psi^v."""

    modality: int


def pair_rho(cfg: ServiceMigrationConfig, costs: PairCosts, edges, modality: int) -> float:
    """rho* (Eq. 31) of modality ``modality`` on ``edges[modality]``, capped at rho_max (ERRATA)."""
    n = int(np.asarray(edges)[modality])
    psi_v = float(costs.upload[n, modality] + costs.compute[n, modality])  # Psi^v of one pair: no (N, K) sum
    return float(min(optimal_rho(psi_v, float(costs.psi_s[n, modality]), cfg.alpha), cfg.rho_max))


@dataclass(slots=True)  # not frozen, as RoundTimes
class RoundOutcome:
    """What one round cost and what it achieved."""

    edges: np.ndarray  # (K,) edges that served the modalities (after any repair)
    repaired: bool  # the requested edges broke Eq. (20b) and were repaired
    rho: float
    samples: float  # S^r = rho M S
    times: RoundTimes  # per modality (split) or per edge (horizontal)
    round_time: float
    loss: float
    accuracy: float | None  # None with the bound backend
    reached_target: bool


def transition(state: State, action, rng: np.random.Generator) -> tuple[State, RoundOutcome]:
    """Play one round (Algorithm 2, lines 3-9): migrate, collect, train; then devices move (drawing from
    ``rng``) for the round's duration and edges report new capabilities (from ``state.edge_rng``).

    ``action`` is ``(requested_edges (K,), rho)`` with rho a float in (alpha, rho_max] or a ``PairRho``.
    """
    cfg = state.cfg
    requested_edges, rho = action
    if cfg.framework == "split":
        edges, repaired = resolve_edges(cfg, requested_edges)
        costs = state.costs()
    else:  # horizontal FL: no sub-model placement; every edge with devices trains the whole model
        edges, repaired = state.edges.copy(), False
    if isinstance(rho, PairRho):
        if cfg.framework != "split" or not 0 <= rho.modality < cfg.num_modalities:
            raise ValueError(
                f"PairRho needs the split framework and a modality in [0, {cfg.num_modalities}), "
                f"got {rho!r} with framework={cfg.framework!r}"
            )
        rho = pair_rho(cfg, costs, edges, rho.modality)
    if not cfg.alpha < rho <= cfg.rho_max:
        raise ValueError(f"rho must be in (alpha={cfg.alpha}, rho_max={cfg.rho_max}], got {rho!r}")
    if cfg.framework == "split":
        times = round_times(costs, edges, rho)
        device_edges = None
    else:
        times = horizontal_round_times(cfg, state, rho)
        device_edges = nearest_edges(cfg, state.device_positions)
    state.learner.train_round(rho, device_edges)
    duration = round_duration(cfg, times)
    positions = state.device_positions
    if state.mobility is not None:
        positions = state.mobility.step(duration, rng)
    capability = draw_capability(cfg, state.edge_rng)
    slowest, rates = round_rates(cfg, positions, state.edge_rng)
    new_state = State(
        cfg=cfg,
        round=state.round + 1,
        edges=edges,
        device_positions=positions,
        capability=capability,
        slowest_rates=slowest,
        rates=rates,
        wall_clock=state.wall_clock + duration,
        communication_cost=state.communication_cost + float(times.communication.sum()),
        computation_cost=state.computation_cost + float(times.compute.sum()),
        mobility=state.mobility,
        learner=state.learner,
        edge_rng=state.edge_rng,
    )
    outcome = RoundOutcome(
        edges=edges,
        repaired=repaired,
        rho=float(rho),
        samples=float(rho) * cfg.num_devices * cfg.num_samples,
        times=times,
        round_time=duration,
        loss=float(state.learner.loss),
        accuracy=state.learner.accuracy,
        reached_target=bool(state.learner.reached_target),
    )
    return new_state, outcome
