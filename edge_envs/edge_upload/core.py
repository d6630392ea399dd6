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

import functools
from dataclasses import dataclass, field

import numpy as np

from edge_envs.compiled import compiled_for, hold
from edge_envs.edge_upload import kernels
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


def server_share(where: np.ndarray, num_servers: int) -> np.ndarray:
    """(..., S): number of clients holding layers on each server (at least 1); ``where`` is (..., C, L)."""
    holds = (where[..., :, :, None] == np.arange(num_servers)).any(axis=-2)
    return np.maximum(holds.sum(axis=-2), 1)


def compute_times(inst: Instance, where: np.ndarray, client: np.ndarray, share: np.ndarray) -> np.ndarray:
    """(B, L, K) latency of each layer at each location for a query of ``client`` (B,) whose uploaded
    layers are ``where`` (B, L); inf where the layer is not on that server. Server s's speed is
    divided by ``share`` (B, S), the clients sharing it."""
    B, L = where.shape
    out = np.empty((B, L, inst.num_servers + 1))
    kernels.layer_times(
        np.ascontiguousarray(inst.layer_s, dtype=np.float64),
        np.ascontiguousarray(np.asarray(inst.client_speed, dtype=np.float64)[np.asarray(client)]),
        np.ascontiguousarray(inst.server_speed, dtype=np.float64),
        np.ascontiguousarray(where, dtype=np.int64),
        np.ascontiguousarray(share, dtype=np.float64),
        out,
    )
    return out


def shortest_path(inst: Instance, compute: np.ndarray, return_path: bool = False):
    """Fastest execution of a query given per-layer times ``compute`` (B, L, K): the input starts at the
    client, activations cross the links (:func:`hop_table`), the result returns to the client. Dynamic
    programming over (layer, location) (``kernels.fastest_paths``). Returns latency (B,) and, if
    ``return_path``, locations (B, L)."""
    compute = np.ascontiguousarray(compute, dtype=np.float64)
    B, L, _ = compute.shape
    latency = np.empty(B)
    path = np.empty((B, L) if return_path else (0, 0), dtype=np.int64)
    output_bytes = np.ascontiguousarray(inst.output_bytes, dtype=np.float64)
    kernels.fastest_paths(float(inst.input_bytes), output_bytes, hop_table(inst), compute, latency, path, return_path)
    return (latency, path) if return_path else latency


def query_latency(inst: Instance, where: np.ndarray) -> np.ndarray:
    """(C,) latency of each client's next query when the uploaded layers are ``where`` (C, L)."""
    latency = np.empty((1, where.shape[0]))
    kernels.query_latencies(instance_tables(inst).arrays(), np.ascontiguousarray(where, dtype=np.int64)[None], latency)
    return latency[0]


def local_latency(inst: Instance) -> np.ndarray:
    """(C,) latency of a query run wholly on each client (nothing uploaded)."""
    return inst.layer_s.sum() / inst.client_speed


def transmission_seconds(cfg: EdgeUploadConfig, inst: Instance, start: int, stop: int, server: int) -> float:
    """One transmission of layers ``[start, stop)`` to ``server`` until its confirmation arrives, s."""
    return float(run_transmission_seconds(cfg, inst, run_index(inst.num_layers, start, stop), server))


def run_transmission_seconds(cfg: EdgeUploadConfig, inst: Instance, run, server) -> np.ndarray:
    """:func:`transmission_seconds` of runs ``run`` (indices into :func:`runs`) to servers ``server``, elementwise
    (numpy broadcasting), s."""
    return run_bytes(inst.param_bytes)[run] * inst.client_server_s_per_byte[server] + cfg.confirmation_s


def expected_upload_seconds(cfg: EdgeUploadConfig, inst: Instance, start: int, stop: int, server: int) -> float:
    """Expected time to upload ``[start, stop)`` to ``server``, resends included (1 / (1 - p) transmissions)."""
    return transmission_seconds(cfg, inst, start, stop, server) / (1.0 - cfg.loss_probability)


def run_bytes(param_bytes: np.ndarray) -> np.ndarray:
    """(R,) parameter bytes of every run of :func:`runs`, each summed as ``param_bytes[start:stop].sum()``."""
    return _run_bytes(np.asarray(param_bytes, dtype=np.float64).tobytes())


@functools.lru_cache(maxsize=64)
def _run_bytes(raw: bytes) -> np.ndarray:
    param_bytes = np.frombuffer(raw)
    table = np.array([param_bytes[start:stop].sum() for start, stop in runs(len(param_bytes)).tolist()])
    table.setflags(write=False)
    return table


@functools.lru_cache(maxsize=64)
def _hop_table(client_server: bytes, server_server: bytes) -> np.ndarray:
    cs, ss = np.frombuffer(client_server), np.frombuffer(server_server)
    S = len(cs)
    hop = np.zeros((S + 1, S + 1))
    hop[0, 1:] = hop[1:, 0] = cs
    hop[1:, 1:] = ss.reshape(S, S)
    hop.setflags(write=False)
    return hop


def hop_table(inst: Instance) -> np.ndarray:
    """(K, K) transfer time per byte between locations (K = S + 1; 0 = the client; 0 on the diagonal)."""
    as_bytes = lambda values: np.ascontiguousarray(values, dtype=np.float64).tobytes()  # noqa: E731
    return _hop_table(as_bytes(inst.client_server_s_per_byte), as_bytes(inst.server_server_s_per_byte))


def instance_tables(inst: Instance) -> kernels.Tables:
    """``inst`` as the kernels read it: one row."""
    row = lambda values: np.asarray(values, dtype=np.float64)[None]  # noqa: E731
    return kernels.Tables(
        layer_s=row(inst.layer_s),
        output_bytes=row(inst.output_bytes),
        input_bytes=row(inst.input_bytes),
        client_speed=row(inst.client_speed),
        server_speed=row(inst.server_speed),
        client_server_s_per_byte=row(inst.client_server_s_per_byte),
        hop=hop_table(inst)[None],
        run_bytes=run_bytes(inst.param_bytes)[None],
    )


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


def action_mask_rows(num_layers: int, num_servers: int, where: np.ndarray, deciding: np.ndarray) -> np.ndarray:
    """(B, R * S) int8 legal actions of B rows (``where`` (B, C, L), ``deciding`` (B,)); zeros where done."""
    out = np.empty((len(deciding), len(runs(num_layers)) * num_servers), dtype=np.int8)
    kernels.masks(runs(num_layers), num_servers, where, deciding, out)
    return out


def run_mask(state: State) -> np.ndarray:
    """(R,) bool: runs the deciding client may upload (none of their layers uploaded or in flight)."""
    return action_mask_rows(state.inst.num_layers, 1, state.where[None], np.array([state.deciding]))[0] > 0


def action_mask(state: State) -> np.ndarray:
    """(R * S,) int8: 1 for every legal action (run a // S to server a % S)."""
    inst = state.inst
    return action_mask_rows(inst.num_layers, inst.num_servers, state.where[None], np.array([state.deciding]))[0]


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
    client's latency area) until some client's upload thread is idle with layers left, or all is uploaded.
    The step itself is ``kernels.step`` on one row (:class:`Rows`); ``state`` is left as it was."""
    if state.done:
        raise RuntimeError("the model is fully uploaded; start a new episode")
    start, stop, server = decode(state, action)
    sent = draw_sent(state.cfg, rng)
    rows = Rows(state.cfg, 1, state.inst.num_layers)
    rows.load(0, state)
    rows.step(np.array([action]), np.array([sent]), np.ones(1, dtype=np.bool_), nearest=False)
    return rows.state(0), rows.outcome(0, state.deciding, sent, action)


class Rows:
    """B episodes as arrays with a leading row axis, advanced in place by ``kernels.step``: the state both
    envs keep (the single env one row, the vector env many); :meth:`state` gives a row as a :class:`State`."""

    def __init__(self, cfg: EdgeUploadConfig, num_rows: int, num_layers: int):
        B, C, L, S = num_rows, cfg.num_clients, num_layers, cfg.num_servers
        self.cfg, self.runs = cfg, runs(L)
        self._run_list = self.runs.tolist()  # (start, stop) of each run, as Python ints
        self.instances: list[Instance | None] = [None] * B
        self.time = np.zeros(B)
        self.where = np.full((B, C, L), -1, dtype=np.int64)
        self.pending = np.full((B, C, 3), -1, dtype=np.int64)
        self.finish = np.full((B, C), np.inf)
        self.deciding = np.zeros(B, dtype=np.int64)
        self.transmissions = np.zeros((B, C), dtype=np.int64)
        self.resends = np.zeros((B, C), dtype=np.int64)
        self.latency = np.zeros((B, C))
        self.local = np.ones((B, C))  # local-only query latency of each row's clients
        self._memo = None  # the last instance's layer tables (:meth:`_layers`)
        self._row_layers: list = [None] * B  # the layer tables each row holds
        self.tables = kernels.Tables(
            layer_s=np.zeros((B, L)),
            output_bytes=np.zeros((B, L)),
            input_bytes=np.zeros(B),
            client_speed=np.ones((B, C)),
            server_speed=np.ones((B, S)),
            client_server_s_per_byte=np.zeros((B, S)),
            hop=np.zeros((B, S + 1, S + 1)),
            run_bytes=np.zeros((B, len(self.runs))),
        )
        self._tables = self.tables.arrays()
        self.area = np.zeros((B, C))  # the last step's area under each client's latency curve
        self.out = np.zeros((B, 3))  # the last step's duration, replaced flag, completions (kernels columns)
        self.completed = np.zeros((B, C, 4), dtype=np.int64)  # the last step's confirmed uploads
        self.mask = np.zeros((B, len(self.runs) * S), dtype=np.int8)  # legal actions now

    def start(self, row: int, inst: Instance) -> None:
        """Row ``row`` begins an episode on ``inst`` (as :func:`initial`)."""
        self.instances[row] = inst
        t = self.tables
        layers = self._layers(inst)
        if self._row_layers[row] is not layers:  # the row's layer and link tables, unless it holds these
            t.layer_s[row], t.output_bytes[row], t.input_bytes[row] = inst.layer_s, inst.output_bytes, inst.input_bytes
            t.client_server_s_per_byte[row], t.hop[row], t.run_bytes[row] = layers[1:4]
            self._row_layers[row] = layers
        t.client_speed[row], t.server_speed[row] = inst.client_speed, inst.server_speed
        kernels.start_row(
            row, layers[4], inst.client_speed, self.time, self.deciding, self.where, self.pending, self.finish,
            self.transmissions, self.resends, self.latency, self.local, self.mask
        )  # fmt: skip

    def _layers(self, inst: Instance) -> tuple:
        """(key, client-server s/byte, hop table, run bytes, total layer latency) of ``inst``, reused while
        the instances share their layer and link arrays (a generator's instances do: only clocks are drawn)."""
        key = (
            inst.layer_s,
            inst.param_bytes,
            inst.output_bytes,
            inst.client_server_s_per_byte,
            inst.server_server_s_per_byte,
        )
        memo = self._memo
        if memo is None or any(a is not b for a, b in zip(memo[0], key)) or memo[5] != inst.input_bytes:
            hop = hop_table(inst)
            memo = self._memo = (
                key,
                inst.client_server_s_per_byte,
                hop,
                run_bytes(inst.param_bytes),
                inst.layer_s.sum(),
                inst.input_bytes,
            )
        return memo

    def load(self, row: int, state: State) -> None:
        """Row ``row`` takes ``state`` (its instance and where its episode stands)."""
        self.start(row, state.inst)
        self.time[row], self.deciding[row] = state.time, state.deciding
        for name in ("where", "pending", "finish", "transmissions", "resends", "latency"):
            getattr(self, name)[row] = getattr(state, name)
        kernels.masks(self.runs, self.cfg.num_servers, self.where[row : row + 1], self.deciding[row : row + 1],
                      self.mask[row : row + 1])  # fmt: skip

    def step(self, actions: np.ndarray, sent: np.ndarray, active: np.ndarray, nearest: bool) -> None:
        """``kernels.step`` on the ``active`` rows (actions in range; with ``nearest``, forbidden ones are
        replaced in ``actions``), their masks included."""
        kernels.step(
            self._tables, self.runs, self.cfg.confirmation_s, nearest, actions, sent, active, self.time, self.where,
            self.pending, self.finish, self.deciding, self.transmissions, self.resends, self.latency, self.area,
            self.out, self.completed, self.mask
        )  # fmt: skip

    def serial_step(self, actions: np.ndarray, sent: np.ndarray, active: np.ndarray, nearest: bool):
        """:meth:`step` with these very arguments (which the caller fills before each call) as a function
        of none, which skips numba's typing and unboxing of every argument at each call: the single env's
        step."""
        args = (
            self._tables, self.runs, self.cfg.confirmation_s, nearest, actions, sent, active, self.time, self.where,
            self.pending, self.finish, self.deciding, self.transmissions, self.resends, self.latency, self.area,
            self.out, self.completed, self.mask,
        )  # fmt: skip
        held = hold(args[:4], args[4:])
        run = compiled_for(kernels.step_held, (held,))
        return lambda: run(held)

    def state(self, row: int) -> State:
        """Row ``row`` as a :class:`State` (copies of its arrays)."""
        return State(
            cfg=self.cfg,
            inst=self.instances[row],
            time=float(self.time[row]),
            where=self.where[row].copy(),
            pending=self.pending[row].copy(),
            finish=self.finish[row].copy(),
            deciding=int(self.deciding[row]),
            transmissions=self.transmissions[row].copy(),
            resends=self.resends[row].copy(),
            latency=self.latency[row].copy(),
        )

    def outcome(self, row: int, client: int, sent: int, action: int) -> Outcome:
        """Row ``row``'s last step as an :class:`Outcome`: ``client`` uploaded ``action`` ``sent`` times."""
        S = self.cfg.num_servers
        start, stop = self._run_list[action // S]
        out = self.out[row].tolist()
        count = int(out[kernels.COMPLETED])
        completed = list(map(tuple, self.completed[row, :count].tolist())) if count else []
        # positional: client, start, stop, server, transmissions, duration, area, completed (faster than keywords)
        return Outcome(client, start, stop, action % S, sent, out[kernels.DURATION], self.area[row].copy(), completed)


def draw_sent(cfg: EdgeUploadConfig, rng: np.random.Generator) -> int:
    """Transmissions one partition takes, resends included: geometric with success 1 - loss_probability."""
    return int(rng.geometric(1.0 - cfg.loss_probability)) if cfg.loss_probability > 0 else 1
