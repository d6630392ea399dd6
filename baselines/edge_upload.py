"""Baselines of EdgeUpload-v0 (the DNN-migration paper, "DNN Partition-Uploading Plan" and "Improvement"): ``POLICIES``
and ``REFERENCES``.

Every policy picks the next partition for the client whose upload thread is idle
(``env.unwrapped.state``, a ``core.State``) and returns its action index. Costs come from the core
(``compute_times``, ``shortest_path``, ``expected_upload_seconds``); none has a copy of the formulas.
"Cost" below is the summed query latency of all clients when a set of layers is uploaded.

- ``direct``: Neurosurgeon's direct uploading: the single split point (client runs the prefix, one
  server the suffix) and server of least latency; that suffix is uploaded whole, then the prefix whole.
- ``ionn``: IONN's penalised shortest paths. For each penalty factor 1, 0.5, 0.25, ..., 0.016, 0 in
  turn, running a not-yet-uploaded layer on a server costs its execution time plus the factor times
  its upload time amortised over the queries of the whole upload (upload time x local latency /
  whole-model upload time: our normalisation, the paper does not print IONN's); the path's new server
  layers become the next partitions (maximal runs, in layer order). What is left goes last, as runs
  to the server with the fastest link.
- ``efficiency``: greedy on upload efficiency (Shin et al.): among every legal (run, server), the one
  with the largest cost reduction per second of expected upload time. Candidates are all runs, not
  only those on penalised shortest paths. When no run reduces the cost, the longest legal run goes to
  the server with the fastest link.
- ``recursive-efficiency``: the efficiency pick, split recursively while uploading a part first and
  then the rest gives a smaller latency area over the pick's upload time than uploading it whole.
- ``pso``: the paper's improvement for the multi-user setting: particle swarm over where each client's
  layers live (client or one server; 30 particles, 60 iterations, inertia 0.72, accelerations 1.49,
  structured starting particles: see :func:`pso_placement`),
  minimising the fully-uploaded latency (:func:`placement_cost`), then recursive efficiency restricted
  to runs placed on one server;
  layers placed on the client go last as in ``efficiency``'s fallback.
- ``exact-order``: dynamic programming over the uploaded sets (one client, one server): the upload
  order with the least expected latency area (resends make every partition's time 1 / (1 - p) times
  one transmission in expectation, independent of the order). Exact: tests compare it with brute
  force over every upload sequence. 2^L states: AlexNet (11 layers) instantly, VGG16 (21) in seconds.
- ``random``: a uniformly random legal action (seeded through ``reset``).

``REFERENCES["exact-order"](env, seed)``: the optimal expected episode return of the instance
``env.reset(seed=seed)`` draws (minus the DP's value); it raises ValueError where the DP is not
computable (more than one client or server): the multi-user setting has no exact reference.
"""

from __future__ import annotations

import numba
import numpy as np

from edge_envs.edge_upload import core

PENALTY_FACTORS = (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.016, 0.0)
EXACT_MAX_LAYERS = 24


def _state(env) -> core.State:
    state = getattr(env.unwrapped, "state", None)
    if not isinstance(state, core.State):
        raise RuntimeError("the env has no core state yet: call env.reset() before policy.act()")
    return state


def _action(state: core.State, start: int, stop: int, server: int) -> int:
    return core.run_index(state.inst.num_layers, start, stop) * state.inst.num_servers + server


def client_latency(inst, where_rows: np.ndarray) -> np.ndarray:
    """(B, C) query latency of each client for uploaded sets ``where_rows`` (B, C, L)."""
    B, C, L = where_rows.shape
    share = np.repeat(core.server_share(where_rows, inst.num_servers), C, axis=0)
    compute = core.compute_times(inst, where_rows.reshape(B * C, L), np.tile(np.arange(C), B), share)
    return core.shortest_path(inst, compute).reshape(B, C)


def cost_of(inst, where_rows: np.ndarray) -> np.ndarray:
    """(B,) summed query latency over clients for uploaded sets ``where_rows`` (B, C, L)."""
    return client_latency(inst, where_rows).sum(axis=1)


def _fastest_server(inst) -> int:
    return int(np.argmin(inst.client_server_s_per_byte))


def _maximal_runs(layers: np.ndarray, servers: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of consecutive ``layers`` (sorted) with the same server, as (start, stop, server)."""
    out = []
    for layer, server in zip(layers.tolist(), servers.tolist()):
        if out and out[-1][1] == layer and out[-1][2] == server:
            out[-1] = (out[-1][0], layer + 1, server)
        else:
            out.append((layer, layer + 1, server))
    return out


class Policy:
    """Shared plumbing: the env, a seeded generator, and per-episode plans keyed by the instance."""

    def __init__(self, env, seed: int | None = None):
        self.env = env
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self._instance = None

    def act(self, observation, info) -> int:
        state = _state(self.env)
        if state.done:
            raise RuntimeError("the episode has ended; reset the env")
        if state.inst is not self._instance:
            self._instance = state.inst
            self.start_episode(state)
        return self.choose(state)

    def start_episode(self, state: core.State) -> None:
        """Called at the first decision of every episode."""

    def choose(self, state: core.State) -> int:
        raise NotImplementedError


class RandomUpload(Policy):
    """A uniformly random legal action."""

    def choose(self, state):
        return int(self.rng.choice(np.flatnonzero(core.action_mask(state))))


class PlanPolicy(Policy):
    """Follows a per-client list of partitions, made at the client's first decision of the episode."""

    def start_episode(self, state):
        self.plans = {}

    def choose(self, state):
        c = state.deciding
        if c not in self.plans:
            self.plans[c] = self.plan(state, c)
        return _action(state, *self.plans[c].pop(0))

    def plan(self, state: core.State, client: int) -> list[tuple[int, int, int]]:
        raise NotImplementedError


class DirectUpload(PlanPolicy):
    """Neurosurgeon's best split (the client runs layers [0, k), one server runs [k, L)), its server part
    uploaded whole, then the rest whole. Ties go to the larger k (less to upload)."""

    def plan(self, state, client):
        inst = state.inst
        L, S = inst.num_layers, inst.num_servers
        splits = [(k, s) for k in range(L - 1, -1, -1) for s in range(S)]
        rows = np.repeat(state.where[None], len(splits), axis=0)
        for i, (k, s) in enumerate(splits):
            rows[i, client, k:] = s
        share = core.server_share(rows, S)
        compute = core.compute_times(inst, rows[:, client], np.full(len(splits), client), share)
        for i, (k, _) in enumerate(splits):
            compute[i, k:, 0] = np.inf  # forced: the suffix runs on the server
        latency = core.shortest_path(inst, compute)
        best = int(np.argmin(latency))
        if latency[best] >= state.latency[client]:  # no split beats local execution: upload it all at once
            return [(0, L, _fastest_server(inst))]
        k, s = splits[best]
        return [(k, L, s)] + ([(0, k, s)] if k > 0 else [])


class IONN(PlanPolicy):
    """IONN: partitions from shortest paths with decreasing upload penalties (see the module docstring)."""

    def plan(self, state, client):
        cfg, inst = state.cfg, state.inst
        L, S = inst.num_layers, inst.num_servers
        share = core.server_share(state.where, S)[None].repeat(S, axis=0)
        everywhere = core.compute_times(inst, np.repeat(np.arange(S)[:, None], L, axis=1), np.full(S, client), share)
        server_s = everywhere[np.arange(S), :, 1 + np.arange(S)].T  # (L, S): layer l on server s
        client_s = everywhere[0, :, 0]
        whole = min(core.expected_upload_seconds(cfg, inst, 0, L, s) for s in range(S))
        amortise = state.latency[client] / whole
        upload = np.array(
            [[core.expected_upload_seconds(cfg, inst, layer, layer + 1, s) for s in range(S)] for layer in range(L)]
        )
        where = state.where[client].copy()
        plan = []
        for factor in PENALTY_FACTORS:
            compute = np.empty((1, L, S + 1))
            compute[0, :, 0] = client_s
            free = (where < 0)[:, None]
            mine = where[:, None] == np.arange(S)[None, :]
            compute[0, :, 1:] = np.where(mine, server_s, np.where(free, server_s + factor * amortise * upload, np.inf))
            path = core.shortest_path(inst, compute, return_path=True)[1][0]
            new = np.flatnonzero((path > 0) & (where < 0))
            plan += _maximal_runs(new, path[new] - 1)
            where[new] = path[new] - 1
        rest = np.flatnonzero(where < 0)
        return plan + _maximal_runs(rest, np.full(rest.size, _fastest_server(inst)))


def _candidates(state: core.State, home: np.ndarray | None):
    """Legal (start, stop, server) of the deciding client, restricted to runs placed on one server by ``home``."""
    c, S = state.deciding, state.inst.num_servers
    table = core.runs(state.inst.num_layers)[core.run_mask(state)]
    out = [(a, b, s) for a, b in table.tolist() for s in range(S)]
    if home is not None:
        out = [(a, b, s) for a, b, s in out if np.all(home[c, a:b] == s)]
    return out


def _cost_after(state: core.State, parts) -> np.ndarray:
    rows = np.repeat(state.where[None], len(parts), axis=0)
    for i, (a, b, s) in enumerate(parts):
        rows[i, state.deciding, a:b] = s
    return cost_of(state.inst, rows)


def _seconds(state: core.State, parts) -> np.ndarray:
    return np.array([core.expected_upload_seconds(state.cfg, state.inst, a, b, s) for a, b, s in parts])


def efficiency_pick(state: core.State, home: np.ndarray | None = None) -> tuple[int, int, int]:
    """The legal (start, stop, server) with the largest cost reduction per expected upload second."""
    parts = _candidates(state, home) or _candidates(state, None)
    gain = (state.latency.sum() - _cost_after(state, parts)) / _seconds(state, parts)
    best = int(np.argmax(gain))
    if gain[best] > 1e-12:
        return parts[best]
    fast = _fastest_server(state.inst)
    return max(_candidates(state, None), key=lambda p: (p[1] - p[0], p[2] == fast, -p[0]))


def refine(state: core.State, part: tuple[int, int, int]) -> tuple[int, int, int]:
    """Recursive efficiency: while uploading a piece of ``part`` first and then the rest has a smaller
    latency area over the part's expected upload time than uploading it whole, keep the first piece."""
    start, stop, server = part
    now = state.latency.sum()
    while stop - start > 1:
        pieces = [((start, m, server), (m, stop, server)) for m in range(start + 1, stop)]
        pieces += [(second, first) for first, second in pieces]
        firsts = [first for first, _ in pieces]
        after = _cost_after(state, firsts)
        area = now * _seconds(state, firsts) + after * _seconds(state, [second for _, second in pieces])
        best = int(np.argmin(area))
        if area[best] >= now * _seconds(state, [(start, stop, server)])[0]:
            break
        start, stop, _ = firsts[best]
    return start, stop, server


class Efficiency(Policy):
    """Greedy on upload efficiency over every legal run and server."""

    def choose(self, state):
        return _action(state, *efficiency_pick(state))


class RecursiveEfficiency(Policy):
    """The efficiency pick, split recursively (see :func:`refine`)."""

    home = None

    def choose(self, state):
        return _action(state, *refine(state, efficiency_pick(state, self.home)))


TIE_BREAK = 1e-3  # weight of the placed layers' upload time in pso's objective


def placement_cost(state: core.State, homes: np.ndarray) -> np.ndarray:
    """(B,) summed fully-uploaded query latency of placements ``homes`` (B, C, L) (the partition-offloading
    plan's cost), plus TIE_BREAK times each client's local latency times the share of its whole-model
    upload time the placed layers take: among placements of (nearly) equal latency, the fewest bytes."""
    inst = state.inst
    per_byte = inst.client_server_s_per_byte
    placed = np.where(homes >= 0, inst.param_bytes * per_byte[homes.clip(0)], 0.0).sum(axis=-1)  # (B, C)
    whole = inst.param_bytes.sum() * per_byte.min()
    return cost_of(inst, homes) + TIE_BREAK * (state.latency * placed / whole).sum(axis=-1)


def pso_placement(
    state: core.State,
    rng: np.random.Generator,
    particles: int = 30,
    iterations: int = 60,
    inertia: float = 0.72,
    acceleration: float = 1.49,
) -> np.ndarray:
    """(C, L) home of every client's layers (-1: the client, s: server s) minimising
    :func:`placement_cost`, by particle swarm over positions in [0, S + 1) per layer (floor - 1 = the home).
    The swarm starts with one particle per server holding every client's whole model there, one with
    client c's model on server c mod S, and uniform particles for the rest."""
    inst = state.inst
    C, L, S = inst.num_clients, inst.num_layers, inst.num_servers
    decode = lambda x: np.floor(x).astype(np.int64).clip(0, S).reshape(-1, C, L) - 1  # noqa: E731
    x = rng.uniform(0.0, S + 1.0, size=(particles, C * L))
    structured = [np.full((C, L), s + 1.5) for s in range(S)] + [np.repeat(np.arange(C)[:, None] % S + 1.5, L, 1)]
    x[: min(particles, len(structured))] = np.array(structured)[:particles].reshape(-1, C * L)
    v = np.zeros_like(x)
    cost = placement_cost(state, decode(x))
    best_x, best_cost = x.copy(), cost.copy()
    top = int(np.argmin(best_cost))
    for _ in range(iterations):
        r1, r2 = rng.random(x.shape), rng.random(x.shape)
        v = inertia * v + acceleration * r1 * (best_x - x) + acceleration * r2 * (best_x[top] - x)
        x = np.clip(x + v, 0.0, S + 1.0 - 1e-9)
        cost = placement_cost(state, decode(x))
        better = cost < best_cost
        best_x[better], best_cost[better] = x[better], cost[better]
        top = int(np.argmin(best_cost))
    return decode(best_x[top])[0]


class PSOUpload(RecursiveEfficiency):
    """The paper's improvement: PSO placement of each client's layers, then recursive efficiency on it."""

    def start_episode(self, state):
        self.home = pso_placement(state, self.rng)


@numba.njit(cache=True)
def _order_dp(latency, run_bits, run_seconds):
    """V[m]: least expected area from uploaded set m (bit l = layer l) until all is uploaded; its best run."""
    n = latency.shape[0]
    value = np.empty(n)
    choice = np.full(n, -1, dtype=np.int64)
    value[n - 1] = 0.0
    for m in range(n - 2, -1, -1):
        best = np.inf
        for r in range(run_bits.shape[0]):
            if m & run_bits[r] == 0:
                v = latency[m] * run_seconds[r] + value[m | run_bits[r]]
                if v < best:
                    best = v
                    choice[m] = r
        value[m] = best
    return value, choice


_EXACT_CACHE: dict = {}  # the last few instances' DP tables (a policy and REFERENCES often ask for the same one)


def exact_order(cfg, inst, chunk: int = 1 << 15) -> tuple[np.ndarray, np.ndarray]:
    """(value, choice) over the 2^L uploaded sets of one client and one server (see ``_order_dp``)."""
    key = (cfg, inst.name, inst.input_bytes) + tuple(
        getattr(inst, f).tobytes()
        for f in ("layer_s", "param_bytes", "output_bytes", "client_speed", "server_speed", "client_server_s_per_byte")
    )
    if key not in _EXACT_CACHE:
        if len(_EXACT_CACHE) >= 4:
            _EXACT_CACHE.pop(next(iter(_EXACT_CACHE)))
        _EXACT_CACHE[key] = _exact_order(cfg, inst, chunk)
    return _EXACT_CACHE[key]


def _exact_order(cfg, inst, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    L = inst.num_layers
    if inst.num_clients != 1 or inst.num_servers != 1:
        raise ValueError(
            f"exact-order: computable for 1 client and 1 server, got {inst.num_clients} client(s) and "
            f"{inst.num_servers} server(s); the multi-user setting has no exact reference"
        )
    if L > EXACT_MAX_LAYERS:
        raise ValueError(f"exact-order: 2^L uploaded sets; L = {L} exceeds {EXACT_MAX_LAYERS}")
    latency = np.empty(1 << L)
    for first in range(0, 1 << L, chunk):
        masks = np.arange(first, min(first + chunk, 1 << L))
        where = ((masks[:, None] >> np.arange(L)) & 1) - 1  # 0: on the server, -1: not uploaded
        compute = core.compute_times(inst, where, np.zeros(len(masks), dtype=np.int64), np.ones((len(masks), 1)))
        latency[masks] = core.shortest_path(inst, compute)
    table = core.runs(L)
    run_bits = ((1 << table[:, 1]) - (1 << table[:, 0])).astype(np.int64)
    seconds = np.array([core.expected_upload_seconds(cfg, inst, a, b, 0) for a, b in table.tolist()])
    return _order_dp(latency, run_bits, seconds)


class ExactOrder(Policy):
    """The optimal upload order in expectation (one client, one server): follows the DP's choice."""

    def start_episode(self, state):
        _, self.choice = exact_order(state.cfg, state.inst)

    def choose(self, state):
        mask = int(((state.where[0] >= 0) << np.arange(state.inst.num_layers)).sum())
        return int(self.choice[mask])


def exact_order_return(env, seed: int) -> float:
    """Optimal expected episode return of the instance ``env.reset(seed=seed)`` draws."""
    env.reset(seed=seed)
    state = _state(env)
    value, _ = exact_order(state.cfg, state.inst)
    return -float(value[0])


POLICIES = {
    "direct": DirectUpload,
    "ionn": IONN,
    "efficiency": Efficiency,
    "recursive-efficiency": RecursiveEfficiency,
    "pso": PSOUpload,
    "exact-order": ExactOrder,
    "random": RandomUpload,
}

REFERENCES = {"exact-order": exact_order_return}
STRONGEST = ("exact-order", "recursive-efficiency", "ionn")
"""The best baselines (benchmarks/results/baselines_edge_upload.md) and the paper's own."""
