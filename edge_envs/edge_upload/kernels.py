"""The compiled parts of EdgeUpload's dynamics: query latency, the upload step, the mask and the observation.

Every function works on a leading batch axis (rows): the single env steps one row, the vector env
(:mod:`edge_envs.edge_upload.vector`) all of them in one call. They do the floating-point operations
of the formulas in :mod:`edge_envs.edge_upload.core`'s docstring in one fixed order (no fused
multiply-adds: numba adds none without ``fastmath``), so a trajectory has the same bits whichever env
steps it. Per-row instance arrays (:class:`Tables`) carry each row's clocks and links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

# columns of the per-row scalars the step writes (out[:, k])
DURATION, REPLACED, COMPLETED = range(3)


@dataclass(frozen=True)
class Tables:
    """An instance as the kernels read it, every array with a leading row axis (B rows).

    ``run_bytes`` (B, R): parameter bytes of each contiguous run of layers (``core.runs``), summed by
    numpy as ``param_bytes[start:stop].sum()`` (its pairwise order); ``hop`` (B, K, K): transfer time per
    byte between locations (0 = the client, 1 + s = server s).
    """

    layer_s: np.ndarray  # (B, L)
    output_bytes: np.ndarray  # (B, L)
    input_bytes: np.ndarray  # (B,)
    client_speed: np.ndarray  # (B, C)
    server_speed: np.ndarray  # (B, S)
    client_server_s_per_byte: np.ndarray  # (B, S)
    hop: np.ndarray  # (B, K, K)
    run_bytes: np.ndarray  # (B, R)

    def arrays(self) -> tuple:
        return (
            self.layer_s,
            self.output_bytes,
            self.input_bytes,
            self.client_speed,
            self.server_speed,
            self.client_server_s_per_byte,
            self.hop,
            self.run_bytes,
        )


@njit(cache=True, error_model="numpy", inline="always")
def _fastest(input_bytes, output_bytes, hop, compute, cost, through, choice, record) -> float:
    """Latency of the fastest execution of one query given per-layer times ``compute`` (L, K): dynamic
    programming over (layer, location). With ``record`` it writes each layer's best predecessor to
    ``choice`` (L, K), the first on a tie; returns the latency, and the best last location in ``cost[0]``'s
    place is left to the caller (see :func:`fastest_paths`)."""
    L, K = compute.shape
    for k in range(K):
        cost[k] = input_bytes * hop[0, k] + compute[0, k]
    for layer in range(1, L):
        size = output_bytes[layer - 1]
        for t in range(K):
            best, arg = np.inf, 0
            for f in range(K):
                value = cost[f] + size * hop[f, t]
                if value < best:
                    best, arg = value, f
            through[t] = best + compute[layer, t]
            if record:
                choice[layer, t] = arg
        for t in range(K):
            cost[t] = through[t]
    latency = np.inf
    size = output_bytes[L - 1]
    for k in range(K):
        value = cost[k] + size * hop[k, 0]
        if value < latency:
            latency = value
        through[k] = value
    return latency


@njit(cache=True, error_model="numpy")
def fastest_paths(input_bytes, output_bytes, hop, compute, latency, path, record):
    """:func:`_fastest` over rows of ``compute`` (B, L, K): ``latency`` (B,) and, with ``record``, the
    locations ``path`` (B, L) of one fastest execution."""
    B, L, K = compute.shape
    cost, through = np.empty(K), np.empty(K)
    choice = np.zeros((L, K), dtype=np.int64)
    for b in range(B):
        latency[b] = _fastest(input_bytes, output_bytes, hop, compute[b], cost, through, choice, record)
        if record:
            last, best = 0, np.inf
            for k in range(K):
                if through[k] < best:
                    best, last = through[k], k
            path[b, L - 1] = last
            for layer in range(L - 1, 0, -1):
                path[b, layer - 1] = choice[layer, path[b, layer]]


@njit(cache=True, error_model="numpy", inline="always")
def _layer_times(layer_s, client_speed, server_speed, where, share, compute):
    """``compute`` (L, K): each layer's latency at each location for a query of a client of speed
    ``client_speed`` whose uploaded layers are ``where`` (L,); inf where the layer is not. Server s runs a
    layer ``share[s]`` times slower (the clients sharing it)."""
    L, K = compute.shape
    for layer in range(L):
        compute[layer, 0] = layer_s[layer] / client_speed
        for k in range(1, K):
            compute[layer, k] = np.inf
        s = where[layer]
        if s >= 0:
            compute[layer, 1 + s] = layer_s[layer] * share[s] / server_speed[s]


@njit(cache=True, error_model="numpy")
def layer_times(layer_s, client_speed, server_speed, where, share, compute):
    """:func:`_layer_times` over rows: ``client_speed`` (B,), ``where`` (B, L), ``share`` (B, S),
    ``compute`` (B, L, K)."""
    for b in range(where.shape[0]):
        _layer_times(layer_s, client_speed[b], server_speed, where[b], share[b], compute[b])


@njit(cache=True, error_model="numpy", inline="always")
def _query_latencies(layer_s, output_bytes, input_bytes, client_speed, server_speed, hop, where, latency, compute):
    """Every client's query latency (C,) for one row whose uploaded layers are ``where`` (C, L); server s
    is shared by the clients holding layers on it (at least 1)."""
    C, L = where.shape
    S = server_speed.shape[0]
    share = np.zeros(S)
    for s in range(S):
        holders = 0
        for c in range(C):
            for layer in range(L):
                if where[c, layer] == s:
                    holders += 1
                    break
        share[s] = max(holders, 1)
    K = S + 1
    cost, through, choice = np.empty(K), np.empty(K), np.empty((0, 0), dtype=np.int64)
    for c in range(C):
        _layer_times(layer_s, client_speed[c], server_speed, where[c], share, compute)
        latency[c] = _fastest(input_bytes, output_bytes, hop, compute, cost, through, choice, False)


@njit(cache=True, error_model="numpy")
def query_latencies(tables, where, latency):
    """Every client's query latency ``latency`` (B, C) of rows whose uploaded layers are ``where`` (B, C, L)."""
    layer_s, output_bytes, input_bytes, client_speed, server_speed, _, hop, _ = tables
    compute = np.empty((where.shape[2], server_speed.shape[1] + 1))
    for b in range(where.shape[0]):
        _query_latencies(
            layer_s[b], output_bytes[b], input_bytes[b], client_speed[b], server_speed[b], hop[b], where[b],
            latency[b], compute
        )  # fmt: skip


@njit(cache=True, error_model="numpy", inline="always")
def _legal(runs, where_c, run) -> bool:
    """Run ``run`` holds no layer the client has uploaded."""
    for layer in range(runs[run, 0], runs[run, 1]):
        if where_c[layer] >= 0:
            return False
    return True


@njit(cache=True, error_model="numpy", inline="always")
def _mask_row(runs, num_servers, where, deciding, out):
    """``out`` (R * S,) int8: 1 for every legal action of the deciding client (0 when done)."""
    for r in range(runs.shape[0]):
        ok = deciding >= 0 and _legal(runs, where[deciding], r)
        for s in range(num_servers):
            out[r * num_servers + s] = ok


@njit(cache=True, error_model="numpy")
def masks(runs, num_servers, where, deciding, out):
    """``out`` (B, R * S) int8: :func:`_mask_row` of every row."""
    for b in range(where.shape[0]):
        _mask_row(runs, num_servers, where[b], deciding[b], out[b])


@njit(cache=True, error_model="numpy")
def start_row(row, local_s, client_speed, time, deciding, where, pending, finish, sent_total, resends, latency, local,
              mask):  # fmt: skip
    """Row ``row`` at an episode's start (``core.Rows.start``): time 0, client 0 deciding, nothing uploaded,
    pending or sent, every action legal, each client's queries local: ``local_s / client_speed`` (C,)."""
    time[row], deciding[row] = 0.0, 0
    where[row], pending[row], finish[row] = -1, -1, np.inf
    sent_total[row], resends[row] = 0, 0
    for c in range(client_speed.shape[0]):
        latency[row, c] = local[row, c] = local_s / client_speed[c]
    mask[row] = 1


@njit(cache=True, error_model="numpy")
def nearest_legal(mask, action) -> int:
    """The action allowed by ``mask`` nearest to ``action`` in index, the lower one on a tie (-1: none)."""
    best, gap = -1, 0
    for candidate in range(mask.shape[0]):
        if mask[candidate] and (best < 0 or abs(candidate - action) < gap):
            best, gap = candidate, abs(candidate - action)
    return best


@njit(cache=True, error_model="numpy")
def first_illegal(runs, num_servers, where, deciding, actions, active) -> int:
    """The first active row whose in-range action the mask forbids, or -1."""
    for b in range(where.shape[0]):
        if active[b] and not _legal(runs, where[b, deciding[b]], actions[b] // num_servers):
            return b
    return -1


@njit(cache=True, error_model="numpy")
def step(
    tables, runs, confirmation_s, nearest, actions, sent, active, time, where, pending, finish, deciding, sent_total,
    resends, latency, area, out, completed, mask
):  # fmt: skip
    """Advance every active row by one decision (core.transition's time model), in place.

    Row b's deciding client starts uploading action ``actions[b]`` (replaced, with ``nearest``, by the
    legal action nearest in index, the lower on a tie) sent ``sent[b]`` times; time then advances from
    confirmation to confirmation, accruing each client's latency area, until some client is idle with
    layers left (it decides next) or all is uploaded (``deciding`` = -1). Writes ``area`` (B, C),
    ``out`` (B, 3): duration, 1.0 if replaced, completions; ``completed`` (B, C, 4): client, start, stop,
    server of each upload confirmed, in order; ``mask`` (B, R * S): the legal actions next.
    ``actions`` may be rewritten (the replaced ones).
    """
    layer_s, output_bytes, input_bytes, client_speed, server_speed, client_server, hop, run_bytes = tables
    B, C, L = where.shape
    S = server_speed.shape[1]
    compute = np.empty((L, S + 1))
    legal = np.empty(runs.shape[0] * S, dtype=np.bool_)
    for b in range(B):
        if not active[b]:
            continue
        c = deciding[b]
        action = actions[b]
        replaced = False
        if nearest and not _legal(runs, where[b, c], action // S):
            for candidate in range(runs.shape[0] * S):
                legal[candidate] = _legal(runs, where[b, c], candidate // S)
            action, replaced = nearest_legal(legal, action), True
            actions[b] = action
        run, server = action // S, action % S
        pending[b, c, 0], pending[b, c, 1], pending[b, c, 2] = runs[run, 0], runs[run, 1], server
        seconds = run_bytes[b, run] * client_server[b, server] + confirmation_s
        finish[b, c] = time[b] + sent[b] * seconds
        sent_total[b, c] += sent[b]
        resends[b, c] += sent[b] - 1
        began = time[b]
        count = 0
        for k in range(C):
            area[b, k] = 0.0
        while True:
            idle, busy = -1, False
            for k in range(C):
                if pending[b, k, 0] >= 0:
                    busy = True
                elif idle < 0:
                    for layer in range(L):
                        if where[b, k, layer] < 0:
                            idle = k
                            break
            if idle >= 0 or not busy:
                deciding[b] = idle
                break
            k = 0
            for j in range(1, C):
                if finish[b, j] < finish[b, k]:
                    k = j
            for j in range(C):
                area[b, j] += latency[b, j] * (finish[b, k] - time[b])
            time[b] = finish[b, k]
            start, stop, s = pending[b, k, 0], pending[b, k, 1], pending[b, k, 2]
            for layer in range(start, stop):
                where[b, k, layer] = s
            pending[b, k, 0], pending[b, k, 1], pending[b, k, 2] = -1, -1, -1
            finish[b, k] = np.inf
            completed[b, count, 0], completed[b, count, 1] = k, start
            completed[b, count, 2], completed[b, count, 3] = stop, s
            count += 1
            _query_latencies(
                layer_s[b], output_bytes[b], input_bytes[b], client_speed[b], server_speed[b], hop[b], where[b],
                latency[b], compute
            )  # fmt: skip
        out[b, DURATION] = time[b] - began
        out[b, REPLACED] = replaced
        out[b, COMPLETED] = count
        _mask_row(runs, S, where[b], deciding[b], mask[b])


@njit(cache=True, error_model="numpy")
def observe(static, speeds, local, where, pending, latency, deciding, obs):
    """Each row's observation (EdgeUploadEnv's table) into ``obs`` (B, D) float32, clipped to [0, 1].

    ``static`` (B, 3 L): the layer features; ``speeds`` (B, C + S); ``local`` (B, C): local-only latency.
    """
    B, C, L = where.shape
    K = speeds.shape[1] - C + 1  # locations: the client and the S servers
    for b in range(B):
        row = obs[b]
        i = 0
        for j in range(static.shape[1]):
            row[i] = _unit(static[b, j])
            i += 1
        for c in range(C):
            for layer in range(L):
                for k in range(K):
                    row[i] = 1.0 if where[b, c, layer] + 1 == k else 0.0
                    i += 1
        for c in range(C):
            for layer in range(L):
                row[i] = 1.0 if pending[b, c, 0] <= layer < pending[b, c, 1] else 0.0
                i += 1
        for c in range(C):
            row[i] = _unit(latency[b, c] / local[b, c])
            i += 1
        for c in range(C):
            row[i] = 1.0 if deciding[b] == c else 0.0
            i += 1
        for j in range(speeds.shape[1]):
            row[i] = _unit(speeds[b, j])
            i += 1


@njit(cache=True, error_model="numpy", inline="always")
def _unit(value) -> np.float32:
    """``value`` rounded to float32 and clipped to [0, 1] (as numpy's astype then clip)."""
    return min(max(np.float32(value), np.float32(0.0)), np.float32(1.0))


@njit(cache=True, error_model="numpy")
def step_held(held):
    """:func:`step` with its arguments held in one structref (edge_envs.compiled.hold): ``constants`` the
    first four, ``state`` the rest in order; a call unboxes one object instead of some twenty arrays."""
    step(*held.constants, *held.state)


@njit(cache=True)
def observe_held(held, obs):
    """:func:`observe` into ``obs`` with its other arguments held in one structref (``constants``, in order)."""
    observe(*held.constants, obs)
