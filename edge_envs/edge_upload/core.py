"""Dynamics of EdgeUpload: the upload thread, the query thread, and the cost functions baselines call.

Locations of a query's layers are indexed ``k = 0`` (the client) and ``k = 1 + s`` (server s). A
client always holds the whole model; server s can run layer l for client c once c has uploaded l
to s (``where[c, l] == s``; -1: not uploaded). A partition is a contiguous run ``[start, stop)`` of
layers sent to one server; :func:`runs` fixes their order, and action ``a`` is run ``a // S`` to
server ``a % S``.

Time model (the DNN-migration paper, "Running Phase"): each client's upload thread sends one partition at a time;
a transmission takes ``sum(param_bytes) / bandwidth`` and its confirmation result (CR) arrives
``confirmation_s`` later; a transmission fails with probability ``loss_probability`` and is then
sent again, so a partition takes ``n`` times that, n geometric. Each client's query thread runs
queries back to back; a query takes the fastest execution the client's uploaded layers allow (the
shortest path over (layer, location), :func:`shortest_path`) and this latency changes only when a
CR arrives. The cost of an interval is the area under each client's latency curve (latency times
duration): the paper's Fig. 5 curve integrated over time.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np

from edge_envs.edge_upload.config import EdgeUploadConfig
from edge_envs.edge_upload.generator import Instance


class IllegalUploadError(ValueError):
    """An action that names no partition, or a partition holding a layer already uploaded (masked out)."""


@functools.lru_cache(maxsize=None)
def runs(num_layers: int) -> np.ndarray:
    """(L (L + 1) / 2, 2) int64: every contiguous run ``[start, stop)``, by start, then by stop."""
    table = np.array([(i, j) for i in range(num_layers) for j in range(i + 1, num_layers + 1)], dtype=np.int64)
    table.setflags(write=False)
    return table


def run_index(num_layers: int, start: int, stop: int) -> int:
    """Index of run ``[start, stop)`` in :func:`runs`."""
    if not 0 <= start < stop <= num_layers:
        raise ValueError(f"run [{start}, {stop}) must satisfy 0 <= start < stop <= {num_layers}")
    return start * num_layers - start * (start - 1) // 2 + (stop - start - 1)


def hop_table(inst: Instance) -> np.ndarray:
    """(K, K) transfer time per byte between locations (K = S + 1; 0 = the client; 0 on the diagonal)."""
    S = inst.num_servers
    hop = np.zeros((S + 1, S + 1))
    hop[0, 1:] = hop[1:, 0] = inst.client_server_s_per_byte
    hop[1:, 1:] = inst.server_server_s_per_byte
    return hop


def server_share(where: np.ndarray, num_servers: int) -> np.ndarray:
    """(..., S): number of clients holding layers on each server (at least 1); ``where`` is (..., C, L)."""
    holds = (where[..., :, :, None] == np.arange(num_servers)).any(axis=-2)
    return np.maximum(holds.sum(axis=-2), 1)


def compute_times(inst: Instance, where: np.ndarray, client: np.ndarray, share: np.ndarray) -> np.ndarray:
    """(B, L, K) latency of each layer at each location for a query of ``client`` (B,) whose uploaded
    layers are ``where`` (B, L); inf where the layer is not on that server. Server s's speed is
    divided by ``share`` (B, S), the clients sharing it."""
    B, L = where.shape
    S = inst.num_servers
    out = np.full((B, L, S + 1), np.inf)
    out[:, :, 0] = inst.layer_s[None, :] / inst.client_speed[client][:, None]
    rows, layers = np.nonzero(where >= 0)
    servers = where[rows, layers]
    out[rows, layers, 1 + servers] = inst.layer_s[layers] * share[rows, servers] / inst.server_speed[servers]
    return out


def shortest_path(inst: Instance, compute: np.ndarray, return_path: bool = False):
    """Fastest execution of a query given per-layer times ``compute`` (B, L, K): the input starts at the
    client, activations cross the links (:func:`hop_table`), the result returns to the client. Dynamic
    programming over (layer, location). Returns latency (B,) and, if ``return_path``, locations (B, L)."""
    B, L, K = compute.shape
    hop = hop_table(inst)
    cost = inst.input_bytes * hop[0][None, :] + compute[:, 0, :]
    choice = np.empty((B, L, K), dtype=np.int64) if return_path else None
    for layer in range(1, L):
        through = cost[:, :, None] + inst.output_bytes[layer - 1] * hop[None, :, :]  # (B, from, to)
        if return_path:
            choice[:, layer, :] = np.argmin(through, axis=1)
        cost = through.min(axis=1) + compute[:, layer, :]
    final = cost + inst.output_bytes[L - 1] * hop[:, 0][None, :]
    latency = final.min(axis=1)
    if not return_path:
        return latency
    path = np.empty((B, L), dtype=np.int64)
    path[:, L - 1] = np.argmin(final, axis=1)
    rows = np.arange(B)
    for layer in range(L - 1, 0, -1):
        path[:, layer - 1] = choice[rows, layer, path[:, layer]]
    return latency, path


def query_latency(inst: Instance, where: np.ndarray) -> np.ndarray:
    """(C,) latency of each client's next query when the uploaded layers are ``where`` (C, L)."""
    C = where.shape[0]
    share = np.broadcast_to(server_share(where, inst.num_servers), (C, inst.num_servers))
    return shortest_path(inst, compute_times(inst, where, np.arange(C), share))


def local_latency(inst: Instance) -> np.ndarray:
    """(C,) latency of a query run wholly on each client (nothing uploaded)."""
    return inst.layer_s.sum() / inst.client_speed


def transmission_seconds(cfg: EdgeUploadConfig, inst: Instance, start: int, stop: int, server: int) -> float:
    """One transmission of layers ``[start, stop)`` to ``server`` until its confirmation arrives, s."""
    return float(inst.param_bytes[start:stop].sum() * inst.client_server_s_per_byte[server] + cfg.confirmation_s)


def expected_upload_seconds(cfg: EdgeUploadConfig, inst: Instance, start: int, stop: int, server: int) -> float:
    """Expected time to upload ``[start, stop)`` to ``server``, resends included (1 / (1 - p) transmissions)."""
    return transmission_seconds(cfg, inst, start, stop, server) / (1.0 - cfg.loss_probability)


@dataclass
class State:
    """Where every client's layers are, the uploads in flight and whose upload thread decides next."""

    cfg: EdgeUploadConfig
    inst: Instance
    time: float
    where: np.ndarray  # (C, L) server holding the layer for the client, -1: not uploaded
    pending: np.ndarray  # (C, 3) start, stop, server of the partition in flight; -1: idle
    finish: np.ndarray  # (C,) time its confirmation arrives; inf: idle
    deciding: int  # client whose upload thread picks the next partition; -1 when all is uploaded
    transmissions: np.ndarray  # (C,) transmissions sent, resends included
    resends: np.ndarray  # (C,) failed transmissions sent again
    latency: np.ndarray  # (C,) query latency in force now

    def copy(self) -> State:
        return dataclasses.replace(
            self,
            **{
                f: getattr(self, f).copy()
                for f in ("where", "pending", "finish", "transmissions", "resends", "latency")
            },
        )

    @property
    def done(self) -> bool:
        return self.deciding < 0


@dataclass
class Outcome:
    """What one step did: the partition started and what happened until the next decision."""

    client: int
    start: int
    stop: int
    server: int
    transmissions: int  # of the partition started, resends included
    duration: float  # time advanced, s
    area: np.ndarray  # (C,) area under each client's latency curve over the step, s * s
    completed: list = field(default_factory=list)  # (client, start, stop, server) confirmed during the step


def initial(cfg: EdgeUploadConfig, inst: Instance, rng: np.random.Generator | None = None) -> State:
    """Servers hold nothing; every client idle; client 0 decides first."""
    C, L = inst.num_clients, inst.num_layers
    return State(
        cfg=cfg,
        inst=inst,
        time=0.0,
        where=np.full((C, L), -1, dtype=np.int64),
        pending=np.full((C, 3), -1, dtype=np.int64),
        finish=np.full(C, np.inf),
        deciding=0,
        transmissions=np.zeros(C, dtype=np.int64),
        resends=np.zeros(C, dtype=np.int64),
        latency=local_latency(inst),
    )


def run_mask(state: State) -> np.ndarray:
    """(R,) bool: runs the deciding client may upload (none of their layers uploaded or in flight)."""
    L = state.inst.num_layers
    if state.done:
        return np.zeros(len(runs(L)), dtype=bool)
    free = state.where[state.deciding] < 0
    blocked = np.concatenate(([0], np.cumsum(~free)))  # blocked[j] - blocked[i]: taken layers in [i, j)
    table = runs(L)
    return blocked[table[:, 1]] == blocked[table[:, 0]]


def action_mask(state: State) -> np.ndarray:
    """(R * S,) int8: 1 for every legal action (run a // S to server a % S)."""
    return np.repeat(run_mask(state), state.inst.num_servers).astype(np.int8)


def decode(state: State, action: int) -> tuple[int, int, int]:
    """(start, stop, server) of ``action``; IllegalUploadError if out of range or masked."""
    L, S = state.inst.num_layers, state.inst.num_servers
    table = runs(L)
    if not 0 <= action < len(table) * S:
        raise IllegalUploadError(
            f"action must be an integer in [0, {len(table) * S}) (run a // {S} to server a % {S}), got {action}"
        )
    (start, stop), server = table[action // S].tolist(), action % S
    taken = np.flatnonzero(state.where[state.deciding, start:stop] >= 0)
    if taken.size:
        raise IllegalUploadError(
            f"action {action}: partition [{start}, {stop}) holds layer {start + taken[0]}, "
            f"already uploaded by client {state.deciding}; info['action_mask'] lists legal ones"
        )
    return start, stop, server


def transition(state: State, action: int, rng: np.random.Generator) -> tuple[State, Outcome]:
    """Start the deciding client's upload of partition ``action``, then advance time (accruing every
    client's latency area) until some client's upload thread is idle with layers left, or all is uploaded."""
    if state.done:
        raise RuntimeError("the model is fully uploaded; start a new episode")
    cfg, inst = state.cfg, state.inst
    start, stop, server = decode(state, action)
    new = state.copy()
    c = new.deciding
    sent = int(rng.geometric(1.0 - cfg.loss_probability)) if cfg.loss_probability > 0 else 1
    new.pending[c] = (start, stop, server)
    new.finish[c] = new.time + sent * transmission_seconds(cfg, inst, start, stop, server)
    new.transmissions[c] += sent
    new.resends[c] += sent - 1
    outcome = Outcome(
        client=c,
        start=start,
        stop=stop,
        server=server,
        transmissions=sent,
        duration=0.0,
        area=np.zeros(inst.num_clients),
    )
    began = new.time
    while True:
        idle = np.flatnonzero((new.pending[:, 0] < 0) & (new.where < 0).any(axis=1))
        if idle.size:
            new.deciding = int(idle[0])
            break
        if np.all(new.pending[:, 0] < 0):
            new.deciding = -1
            break
        k = int(np.argmin(new.finish))
        outcome.area += new.latency * (new.finish[k] - new.time)
        new.time = float(new.finish[k])
        a, b, s = new.pending[k].tolist()
        new.where[k, a:b] = s
        new.pending[k] = -1
        new.finish[k] = np.inf
        outcome.completed.append((k, a, b, s))
        new.latency = query_latency(inst, new.where)
    outcome.duration = new.time - began
    return new, outcome
