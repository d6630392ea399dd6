"""The compiled parts of ServiceMigration's step: the devices' uplink rates without fading, the pair costs and
round times, the observation, and whole rounds.

A round's costs need each edge's slowest uplink rate (Eq. 25), each rate a log10, a power of ten and a log1p
of the C library: :func:`slowest_rates` computes the N rates of the farthest devices, not the M N rates of
every device (:func:`uplink_rates`, which the horizontal framework and fading need). :func:`uplink_rates` does
the same floating-point operations in the same order as ``core.uplink_rates`` through ``edge_envs.net.channel``
(no fused multiply-adds: numba adds none without ``fastmath``; the C functions are called through
``edge_envs.libm``'s pointers, passed at run time), so the rates have the same bits; a test compares the two.
:func:`observation_rows` writes the observation table in one loop instead of some twenty numpy calls, and
:func:`pair_costs` the three pair tables with the operations of ``core.migration_times``, ``core.upload_per_rho`` and
``core.compute_per_rho`` (a test compares them): at these sizes the overhead of each small array call was most of
the cost. :func:`round_times` picks each modality's pair from the tables. Each of these loops over a row
function; :func:`play_round` / :func:`start_round` (the single env) and :func:`play_rounds` /
:func:`start_rounds` (the vector env) play whole rounds with them (``rounds``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from edge_envs import libm
from edge_envs.net import channel
from edge_envs.net.mobility import set_legs, waypoint_walk

WINNER2_C2, LOG_DISTANCE = 0, 1  # path-loss model codes of :func:`rate_terms`
LOG10, LOG1P, POW = range(3)  # the C library's functions the kernel calls, by their place in :func:`c_functions`


def c_functions() -> np.ndarray:
    """The addresses of the C functions (log10, log1p, pow) in this process, for :func:`uplink_rates`."""
    return np.array([libm.address(name) for name in ("log10", "log1p", "pow")], dtype=np.int64)


def rate_terms(model: str, carrier_hz: float, tx_power_w: float, noise_density: float, bandwidth_hz: float):
    """(model code, terms (8,)) of the rate ``B log1p(P h(d) / (N0 B)) / ln 2`` for the kernel: the path loss's
    distance-free terms (``channel.winner2_c2_terms`` or ``channel.log_distance_terms``), B, P and N0 B."""
    if model == "winner2_c2":
        code, loss = WINNER2_C2, (*channel.winner2_c2_terms(carrier_hz=carrier_hz), 0.0)
    elif model == "log_distance":
        code, loss = LOG_DISTANCE, (*channel.log_distance_terms(carrier_hz=carrier_hz), 0.0, 0.0)
    else:
        raise ValueError(f"model must be one of {sorted(channel.PATH_LOSS_MODELS)}, got {model!r}")
    terms = np.array([*loss, bandwidth_hz, tx_power_w, noise_density * bandwidth_hz], dtype=float)
    return code, terms


@njit(cache=True, inline="always")
def _rate(d, code, terms, functions) -> float:
    """The rate (bit/s, path loss only) at distance ``d`` (at least the minimum distance): the operations of
    ``channel.shannon_rate`` over ``channel.channel_gain`` in their order."""
    if code == WINNER2_C2:  # slope log10(d) + offset + height + frequency
        loss = terms[0] * libm.c_call1(functions[LOG10], d) + terms[1] + terms[2] + terms[3]
    else:  # loss0 + slope log10(d / d0)
        loss = terms[0] + terms[1] * libm.c_call1(functions[LOG10], d / terms[2])
    gain = libm.c_call2(functions[POW], 10.0, -loss / 10.0)
    return terms[5] * libm.c_call1(functions[LOG1P], terms[6] * gain / terms[7]) / channel.LN2


@njit(cache=True, inline="always")
def _squared_distance(positions, b, m, edge_positions, n) -> float:
    """Squared distance of row b's device m to edge n."""
    dx = positions[b, m, 0] - edge_positions[n, 0]
    dy = positions[b, m, 1] - edge_positions[n, 1]
    return dx * dx + dy * dy


@njit(cache=True)
def uplink_rates(positions, edge_positions, min_distance, code, terms, functions, out) -> None:
    """``out`` (B, M, N) = the rates (bit/s, path loss only) of devices ``positions`` (B, M, 2) to edges
    ``edge_positions`` (N, 2); devices nearer than ``min_distance`` count as that far away. ``functions``:
    :func:`c_functions`."""
    for b in range(positions.shape[0]):
        for m in range(positions.shape[1]):
            for n in range(edge_positions.shape[0]):
                d = np.sqrt(_squared_distance(positions, b, m, edge_positions, n))
                out[b, m, n] = _rate(max(d, min_distance), code, terms, functions)


@njit(cache=True, inline="always")
def _farthest_row(b, positions, edge_positions, out) -> None:
    for n in range(edge_positions.shape[0]):
        farthest = -np.inf
        for m in range(positions.shape[1]):
            squared = _squared_distance(positions, b, m, edge_positions, n)
            if squared > farthest or squared != squared:
                farthest = squared
        out[b, n] = np.sqrt(farthest)


@njit(cache=True)
def farthest_distances(positions, edge_positions, out) -> None:
    """``out`` (B, N) = each edge's distance to its farthest device of ``positions`` (B, M, 2) (NaN where one is):
    the square root of the largest square, which is the largest root (the root is correctly rounded)."""
    for b in range(positions.shape[0]):
        _farthest_row(b, positions, edge_positions, out)


@njit(cache=True, inline="always")
def _slowest_row(b, farthest, min_distance, code, terms, functions, out) -> None:
    for n in range(farthest.shape[1]):
        out[b, n] = _rate(max(farthest[b, n], min_distance), code, terms, functions)


@njit(cache=True)
def slowest_rates(farthest, min_distance, code, terms, functions, out) -> None:
    """``out`` (B, N) = each edge's slowest rate of :func:`uplink_rates`' (B, M, N), the minimum over the
    devices, as the rate at the farthest device (``farthest`` (B, N): :func:`farthest_distances`): the rate
    falls with the distance in floating point too (log10, the power of ten and log1p are monotone; a test
    compares the two), so N rates are computed instead of M N."""
    for b in range(farthest.shape[0]):
        _slowest_row(b, farthest, min_distance, code, terms, functions, out)


@njit(cache=True)
def rho_star(psi_v: float, psi_s: float, alpha: float, alpha_squared: float) -> float:
    """Eq. (31)'s rho* of one pair (``core.optimal_rho``); ``alpha_squared`` is Python's ``alpha ** 2``."""
    return alpha + np.sqrt((alpha_squared * psi_v + alpha * psi_s) / psi_v)


@njit(cache=True)
def preference(psi_v: float, psi_s: float, alpha: float, alpha_squared: float, beta: float) -> float:
    """Eq. (32)'s estimate T(rho*) of one pair (``core.preference_matrix``)."""
    return beta * (psi_s + 2.0 * rho_star(psi_v, psi_s, alpha, alpha_squared) * psi_v)


@njit(cache=True)
def _minimum(a: float, b: float) -> float:
    """np.minimum of two floats (NaN wins)."""
    return a if a <= b or a != a else b


@njit(cache=True, inline="always")
def _observation_row(b, capability, farthest, edges, progress, rounds, psi_v, psi_s, scales, out) -> None:
    N, K = capability.shape[1], edges.shape[1]
    out[b, :] = 0.0
    for n in range(N):
        out[b, n] = np.float32(_minimum(capability[b, n] / scales[0], scales[1]))
        out[b, N + n] = np.float32(_minimum(farthest[b, n] / scales[2], 1.0))
    for k in range(K):
        out[b, 2 * N + k * N + edges[b, k]] = 1.0
    out[b, 2 * N + K * N] = np.float32(progress[b])
    out[b, 2 * N + K * N + 1] = np.float32(_minimum(rounds[b] / scales[3], 1.0))
    best = np.inf
    for n in range(psi_v.shape[1]):  # each pair's Eq. (32) estimate: the best, then best / own (none: (B, 0, 0))
        for k in range(psi_v.shape[2]):
            best = _minimum(best, preference(psi_v[b, n, k], psi_s[b, n, k], scales[4], scales[5], scales[6]))
    for k in range(psi_v.shape[2]):
        for n in range(psi_v.shape[1]):
            own = preference(psi_v[b, n, k], psi_s[b, n, k], scales[4], scales[5], scales[6])
            out[b, 2 * N + K * N + 2 + k * N + n] = np.float32(best / own)


@njit(cache=True)
def observation_rows(capability, farthest, edges, progress, rounds, psi_v, psi_s, scales, out):
    """Write ``env.observation_rows``' table into ``out`` (B, D) float32, row by row: capabilities (B, N) over
    ``scales[0]`` capped at ``scales[1]``, each edge's distance to its farthest device ``farthest`` (B, N) over
    ``scales[2]`` capped at 1, the one-hot ``edges`` (B, K), ``progress`` (B,), ``rounds`` (B,) over
    ``scales[3]`` capped at 1, then, modality-major, each pair's best / own Eq. (32) estimate from ``psi_v`` and
    ``psi_s`` (B, N, K) with (alpha, alpha ** 2, beta) = ``scales[4:7]`` (nothing when they are (B, 0, 0))."""
    for b in range(out.shape[0]):
        _observation_row(b, capability, farthest, edges, progress, rounds, psi_v, psi_s, scales, out)


@njit(cache=True, inline="always")
def _pair_costs_row(b, edges, slowest, capability, model_bytes, hop_log2, speed_bytes, upload_bits, work, out) -> None:
    for k in range(edges.shape[1]):
        if not 0 <= edges[b, k] < hop_log2.shape[0]:
            raise IndexError("pair_costs: an edge index out of range")
    for n in range(slowest.shape[1]):
        for k in range(edges.shape[1]):
            out[0, b, n, k] = model_bytes[k] * hop_log2[n, edges[b, k]] / speed_bytes
            out[1, b, n, k] = upload_bits[k] / slowest[b, n]
            out[2, b, n, k] = work[k] / capability[b, n]


@njit(cache=True)
def pair_costs(edges, slowest, capability, model_bytes, hop_log2, speed_bytes, upload_bits, work, out) -> None:
    """``out`` (3, B, N, K) = ``core.pair_costs``' migration, upload and compute tables of B rows (edges (B, K),
    each edge's slowest rate (B, N), capability (B, N)), by the operations of ``core.migration_times``,
    ``core.upload_per_rho`` and ``core.compute_per_rho``: one loop instead of a dozen array calls per round."""
    for b in range(edges.shape[0]):
        _pair_costs_row(b, edges, slowest, capability, model_bytes, hop_log2, speed_bytes, upload_bits, work, out)


@njit(cache=True)
def round_times(migration, upload, compute, edges, rho, out) -> None:
    """``out`` (3, B, K) = ``core.round_times`` of B rows: T_sm, rho H and rho L of each modality's pair, from the
    (B, N, K) tables, the edges (B, K) and the ratios (B,)."""
    for b in range(edges.shape[0]):
        for k in range(edges.shape[1]):
            n = edges[b, k]
            if not 0 <= n < migration.shape[1]:
                raise IndexError("round_times: an edge index out of range")
            out[0, b, k] = migration[b, n, k]
            out[1, b, k] = rho[b] * upload[b, n, k]
            out[2, b, k] = rho[b] * compute[b, n, k]


# ---------------------------------------------------------------- the envs' rounds, compiled

# entries of rounds.RoundArrays' constants ``c`` and of each row's scalars (RHO, DURATION, REPAIRED: its last round)
(
    _ALPHA,
    _ALPHA_SQUARED,
    _BETA,
    _RHO_MAX,
    _SPEED_BYTES,
    _MIN_DISTANCE,
    _PAUSE_S,
    _REPAIR,
    _MOBILE,
    _WALK_LOW,
    _WALK_SPAN,
) = range(11)
SCALARS = (
    "round",
    "wall_clock",
    "communication_cost",
    "computation_cost",
    "inverse_rho_sum",
    "progress_sum",
    "rho",
    "duration",
    "repaired",
)
ROUND, WALL_CLOCK, COMMUNICATION_COST, COMPUTATION_COST, INVERSE_RHO_SUM, PROGRESS_SUM, RHO, DURATION, REPAIRED = range(
    len(SCALARS)
)
MAX_MODALITIES = 7  # numpy sums up to 7 numbers one after another (pairwise beyond): the kernel's sums match to there
CONFLICT, RHO_OUT_OF_RANGE = -1, -2  # play_round's refusals


@njit(cache=True, inline="always")
def _sequential_sum(x) -> float:
    """numpy's sum of up to MAX_MODALITIES float64s: 0 + x[0] + x[1] + ... in order."""
    total = 0.0
    for i in range(x.size):
        total += x[i]
    return total


@njit(cache=True, inline="always")
def _resolve_row(b, c, hop_order, requested, pair, rho, tables, chosen, taken, scalars) -> int:
    """Row b's edges for ``requested`` (K,) into ``chosen[b]`` (``core.resolve_edges``), its rho (``rho``, or for
    ``pair`` >= 0 Eq. (31)'s rho* of that modality's pair, ``core.pair_rho``) and whether it repaired into
    ``scalars[b]``: 0, or CONFLICT / RHO_OUT_OF_RANGE (then the row's state is as it was)."""
    K = chosen.shape[1]
    repaired = False
    for k in range(K):
        chosen[b, k] = requested[k]
        for j in range(k):
            repaired = repaired or requested[j] == requested[k]
    if repaired:
        if c[_REPAIR] == 0.0:
            return CONFLICT
        taken[:] = False
        for k in range(K):
            if taken[chosen[b, k]]:
                for n in hop_order[chosen[b, k]]:
                    if not taken[n]:
                        chosen[b, k] = n
                        break
            taken[chosen[b, k]] = True
    if pair >= 0:
        n = chosen[b, pair]
        psi_v, psi_s = tables[1, b, n, pair] + tables[2, b, n, pair], tables[0, b, n, pair]
        star = rho_star(psi_v, psi_s, c[_ALPHA], c[_ALPHA_SQUARED])
        rho = c[_RHO_MAX] if c[_RHO_MAX] < star else star  # Python's min(star, rho_max)
    if not c[_ALPHA] < rho <= c[_RHO_MAX]:
        return RHO_OUT_OF_RANGE
    scalars[b, RHO], scalars[b, REPAIRED] = rho, 1.0 if repaired else 0.0
    return 0


@njit(cache=True, inline="always")
def _play_row(b, c, area, hypot, chosen, edges, tables, times, scalars, positions, waypoints, speeds, pause_left,
              new_leg) -> int:  # fmt: skip
    """Row b's round on the edges and rho :func:`_resolve_row` chose: its times (rows T_sm, rho H, rho L, T_cm of
    ``times[b]``, ``core.round_times``), the sums and the bound learner's in ``scalars[b]``, the devices' walk
    (``mobility.RandomWaypoint.step``'s); returns how many devices need a new leg."""
    rho = scalars[b, RHO]
    duration = -np.inf
    for k in range(chosen.shape[1]):
        n = chosen[b, k]
        times[b, 0, k], times[b, 1, k] = tables[0, b, n, k], rho * tables[1, b, n, k]
        times[b, 2, k] = rho * tables[2, b, n, k]
        times[b, 3, k] = times[b, 0, k] + times[b, 1, k]
        duration = max(duration, times[b, 3, k] + times[b, 2, k])
        edges[b, k] = n
    scalars[b, ROUND] += 1.0
    scalars[b, WALL_CLOCK] += duration
    scalars[b, COMMUNICATION_COST] += _sequential_sum(times[b, 3])
    scalars[b, COMPUTATION_COST] += _sequential_sum(times[b, 2])
    scalars[b, INVERSE_RHO_SUM] += 1.0 / rho
    scalars[b, PROGRESS_SUM] += 1.0 / (c[_BETA] * rho / (rho - c[_ALPHA]))
    scalars[b, DURATION] = duration
    if c[_MOBILE] == 0.0:
        return 0
    return waypoint_walk(positions[b], waypoints[b], speeds[b], pause_left[b], duration, c[_PAUSE_S], area, hypot,
                         new_leg[b])  # fmt: skip


@njit(cache=True, inline="always")
def _start_row(b, constants, state, legs, capability, obs) -> None:
    """Row b after its round, once the draws are made: the devices' new legs from the uniforms ``legs``
    (``RandomWaypoint._draw_legs``), the edges' ``capability`` (N,); then the coming round's slowest rates, pair
    costs and observation ``obs[b]``, as ``core.transition`` and the env's observation make them. Also starts an
    episode loaded into row b (no legs)."""
    c, hop_log2, _, model_bytes, upload_bits, work, code, terms, functions, edge_positions, scales, area, _ = constants
    edges, _, _, tables, _, scalars, positions, waypoints, speeds, _, new_leg = state[:11]
    device_positions, now, slowest, farthest, psi_v, progress, rounds = state[11:]
    N, K = now.shape[1], edges.shape[1]
    if legs.size:
        set_legs(new_leg[b], legs, area, c[_WALK_LOW], c[_WALK_SPAN], waypoints[b], speeds[b])
    device_positions[b, :, :] = positions[b]
    now[b, :] = capability
    _farthest_row(b, positions, edge_positions, farthest)
    _slowest_row(b, farthest, c[_MIN_DISTANCE], code, terms, functions, slowest)
    _pair_costs_row(b, edges, slowest, now, model_bytes, hop_log2, c[_SPEED_BYTES], upload_bits, work, tables)
    if psi_v.shape[1]:
        for n in range(N):
            for k in range(K):
                psi_v[b, n, k] = tables[1, b, n, k] + tables[2, b, n, k]
    progress[b] = min(scalars[b, PROGRESS_SUM], 1.0)
    rounds[b] = np.int64(scalars[b, ROUND])
    psi_s = tables[0] if psi_v.shape[1] else psi_v
    _observation_row(b, now, farthest, edges, progress, rounds, psi_v, psi_s, scales, obs)


@njit(cache=True)
def play_round(held, requested, pair, rho) -> int:
    """The single env's round (``core.transition``) up to the draws: :func:`_resolve_row` and :func:`_play_row`
    of row 0 of ``held`` (:class:`rounds.RoundArrays`' constants and state, one row). Returns how many devices
    need a new leg, or CONFLICT / RHO_OUT_OF_RANGE with nothing changed."""
    c, _, hop_order, _, _, _, _, _, _, _, _, area, hypot = held.constants
    edges, chosen, taken, tables, times, scalars, positions, waypoints, speeds, pause_left, new_leg = held.state[:11]
    code = _resolve_row(0, c, hop_order, requested, pair, rho, tables, chosen, taken, scalars)
    if code < 0:
        return code
    return _play_row(0, c, area, hypot, chosen, edges, tables, times, scalars, positions, waypoints, speeds,
                     pause_left, new_leg)  # fmt: skip


@njit(cache=True)
def start_round(held, legs, capability, obs) -> None:
    """The rest of the single env's round once its draws are made: :func:`_start_row` of row 0; ``obs`` (D,)."""
    _start_row(0, held.constants, held.state, legs, capability, obs.reshape(1, obs.size))


@njit(cache=True)
def play_rounds(constants, state, active, requested, pair, rho, counts) -> int:
    """The vector env's rounds up to the draws: every ``active`` row's :func:`_resolve_row` (``requested`` (B, K),
    ``pair`` (B,), ``rho`` (B,)), then, if none refuses, their :func:`_play_row`, the numbers of new legs into
    ``counts``. Returns -1, or the first refused row (then no row has changed)."""
    c, _, hop_order, _, _, _, _, _, _, _, _, area, hypot = constants
    edges, chosen, taken, tables, times, scalars, positions, waypoints, speeds, pause_left, new_leg = state[:11]
    for b in range(active.size):
        if active[b] and _resolve_row(b, c, hop_order, requested[b], pair[b], rho[b], tables, chosen, taken,
                                      scalars) < 0:  # fmt: skip
            return b
    for b in range(active.size):
        if active[b]:
            counts[b] = _play_row(b, c, area, hypot, chosen, edges, tables, times, scalars, positions, waypoints,
                                  speeds, pause_left, new_leg)  # fmt: skip
    return -1


@njit(cache=True)
def start_rounds(constants, state, rows, legs, leg_starts, capability, obs) -> None:
    """:func:`_start_row` of each of ``rows``: its legs ``legs[leg_starts[b]:leg_starts[b + 1]]``, its capability
    ``capability[b]``; observations into ``obs`` (B, D)."""
    for b in rows:
        _start_row(b, constants, state, legs[leg_starts[b] : leg_starts[b + 1]], capability[b], obs)
