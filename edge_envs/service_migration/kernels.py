"""The compiled parts of ServiceMigration's step: the devices' uplink rates without fading, the pair costs and
round times, and the observation.

A round's costs need each edge's slowest uplink rate (Eq. 25), each rate a log10, a power of ten and a log1p
of the C library: :func:`slowest_rates` computes the N rates of the farthest devices, not the M N rates of
every device (:func:`uplink_rates`, which the horizontal framework and fading need). :func:`uplink_rates` does
the same floating-point operations in the same order as ``core.uplink_rates`` through ``edge_envs.net.channel``
(no fused multiply-adds: numba adds none without ``fastmath``; the C functions are called through
``edge_envs.libm``'s pointers, passed at run time), so the rates have the same bits; a test compares the two.
:func:`observation_rows` writes the observation table in one loop instead of some twenty numpy calls, and
:func:`pair_costs` the three pair tables with the operations of ``core.migration_times``, ``core.upload_per_rho`` and
``core.compute_per_rho`` (a test compares them): at these sizes the overhead of each small array call was most of
the cost. :func:`round_times` picks each modality's pair from the tables."""

from __future__ import annotations

import numpy as np
from numba import njit

from edge_envs import libm
from edge_envs.net import channel

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
def _distance(positions, b, m, edge_positions, n) -> float:
    dx = positions[b, m, 0] - edge_positions[n, 0]
    dy = positions[b, m, 1] - edge_positions[n, 1]
    return np.sqrt(dx * dx + dy * dy)


@njit(cache=True)
def uplink_rates(positions, edge_positions, min_distance, code, terms, functions, out) -> None:
    """``out`` (B, M, N) = the rates (bit/s, path loss only) of devices ``positions`` (B, M, 2) to edges
    ``edge_positions`` (N, 2); devices nearer than ``min_distance`` count as that far away. ``functions``:
    :func:`c_functions`."""
    for b in range(positions.shape[0]):
        for m in range(positions.shape[1]):
            for n in range(edge_positions.shape[0]):
                out[b, m, n] = _rate(max(_distance(positions, b, m, edge_positions, n), min_distance), code, terms,
                                     functions)  # fmt: skip


@njit(cache=True)
def slowest_rates(positions, edge_positions, min_distance, code, terms, functions, out) -> None:
    """``out`` (B, N) = each edge's slowest rate of :func:`uplink_rates`' (B, M, N), the minimum over the
    devices, as the rate at the farthest device: the rate falls with the distance in floating point too
    (log10, the power of ten and log1p are monotone; a test compares the two), so N rates are computed
    instead of M N."""
    for b in range(positions.shape[0]):
        for n in range(edge_positions.shape[0]):
            farthest = min_distance
            for m in range(positions.shape[1]):
                farthest = max(farthest, _distance(positions, b, m, edge_positions, n))
            out[b, n] = _rate(farthest, code, terms, functions)


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


@njit(cache=True)
def observation_rows(capability, positions, edge_positions, edges, progress, rounds, psi_v, psi_s, scales, out):
    """Write ``env.observation_rows``' table into ``out`` (B, D) float32, row by row: capabilities (B, N) over
    ``scales[0]`` capped at ``scales[1]``, each edge's farthest device of ``positions`` (B, M, 2) over ``scales[2]``
    capped at 1, the one-hot ``edges`` (B, K), ``progress`` (B,), ``rounds`` (B,) over ``scales[3]`` capped at 1,
    then, modality-major, each pair's best / own Eq. (32) estimate from ``psi_v`` and ``psi_s`` (B, N, K) with
    (alpha, alpha ** 2, beta) = ``scales[4:7]`` (nothing when they are (B, 0, 0))."""
    N, K = edge_positions.shape[0], edges.shape[1]
    estimate = np.empty(psi_v.shape[1:])
    for b in range(out.shape[0]):
        row = np.zeros(out.shape[1])
        for n in range(N):
            row[n] = _minimum(capability[b, n] / scales[0], scales[1])
            farthest = -np.inf
            for m in range(positions.shape[1]):
                dx = positions[b, m, 0] - edge_positions[n, 0]
                dy = positions[b, m, 1] - edge_positions[n, 1]
                d = np.sqrt(dx * dx + dy * dy)
                if d > farthest or d != d:
                    farthest = d
            row[N + n] = _minimum(farthest / scales[2], 1.0)
        for k in range(K):
            row[2 * N + k * N + edges[b, k]] = 1.0
        row[2 * N + K * N] = progress[b]
        row[2 * N + K * N + 1] = _minimum(rounds[b] / scales[3], 1.0)
        best = np.inf
        for n in range(estimate.shape[0]):
            for k in range(estimate.shape[1]):
                estimate[n, k] = preference(psi_v[b, n, k], psi_s[b, n, k], scales[4], scales[5], scales[6])
                best = _minimum(best, estimate[n, k])
        for k in range(estimate.shape[1]):
            for n in range(estimate.shape[0]):
                row[2 * N + K * N + 2 + k * N + n] = best / estimate[n, k]
        for i in range(out.shape[1]):
            out[b, i] = np.float32(row[i])


@njit(cache=True)
def pair_costs(edges, slowest, capability, model_bytes, hop_log2, speed_bytes, upload_bits, work, out) -> None:
    """``out`` (3, B, N, K) = ``core.pair_costs``' migration, upload and compute tables of B rows (edges (B, K),
    each edge's slowest rate (B, N), capability (B, N)), by the operations of ``core.migration_times``,
    ``core.upload_per_rho`` and ``core.compute_per_rho``: one loop instead of a dozen array calls per round."""
    for b in range(edges.shape[0]):
        for k in range(edges.shape[1]):
            if not 0 <= edges[b, k] < hop_log2.shape[0]:
                raise IndexError("pair_costs: an edge index out of range")
        for n in range(slowest.shape[1]):
            for k in range(edges.shape[1]):
                out[0, b, n, k] = model_bytes[k] * hop_log2[n, edges[b, k]] / speed_bytes
                out[1, b, n, k] = upload_bits[k] / slowest[b, n]
                out[2, b, n, k] = work[k] / capability[b, n]


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
