"""Baseline placement policies for EdgePartition-v0 and edge_partition_multi_v0 (the TMC 2024 paper, Section 5.1).

Every policy decides a placement for each (instance, device, block) of the env's current core
state, an int array (B, A, M) with 0 = the device and n = edge server n, and returns it in the
shape its env takes: (M,) for the single env, (B, M) for the vector env, and a dict of (M,) per
agent for the multi-agent env. Those that need the model call the core's functions
(``slot_cost``, ``block_pair_costs``, ``placement_reward``); none has a copy of the formulas.

The policies read the env's core state (a ``core.State``) through ``env.unwrapped.state`` (a property of
the single env, an attribute of the vector env) or ``env.core_state`` (the multi-agent env, whose ``state()``
is PettingZoo's global state); the greedy policy
reads the servers' queues and speeds from ``info`` as the env documents them.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np

from baselines.edge_partition import exact, local, search
from edge_envs.edge_partition import core

DEVICE = core.DEVICE


class Baseline:
    """Shared plumbing: the env's core state, and the action format of the env's API."""

    def __init__(self, env, seed: int | None = None):
        self.env = env
        self.multi_agent = hasattr(env, "possible_agents")
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Restart the policy's random stream (policies without randomness ignore the seed)."""
        self.rng = np.random.default_rng(seed)

    def state(self) -> core.State:
        env = self.env.unwrapped
        state = getattr(env, "core_state", None) if self.multi_agent else getattr(env, "state", None)
        if not isinstance(state, core.State):
            raise RuntimeError("the env has no core state yet: call env.reset() before policy.act()")
        return state

    def act(self, observation, info):
        return self.action(self.place(self.state(), info), observation)

    def action(self, placement: np.ndarray, observation):
        """Placements (B, A, M) in the shape the env takes (the live agents of ``observation`` in a
        multi-agent env)."""
        if self.multi_agent:
            agents = list(self.env.possible_agents)
            return {agent: placement[0, agents.index(agent)].copy() for agent in observation}
        if getattr(self.env, "num_envs", None) is not None:  # a vector env: one placement per instance
            return placement[:, 0]
        return placement[0, 0]

    def placement(self, action) -> np.ndarray:
        """An action of the env (as :meth:`action` makes them) as placements (B, A, M); a multi-agent
        env's agents without an action (finished: they add no load) on the device."""
        state = self.state()
        if not self.multi_agent:
            return np.asarray(action).reshape(state.batch_size, 1, state.cfg.num_blocks)
        out = np.zeros((1, state.num_devices, state.cfg.num_blocks), dtype=np.int64)
        for i, agent in enumerate(self.env.possible_agents):
            if agent in action:
                out[0, i] = action[agent]
        return out

    def servers(self, state: core.State, info) -> tuple[np.ndarray, np.ndarray]:
        """The servers' queues (s) and speed factors, (B, N) each, as ``info`` documents them (the vector
        env's info carries none: its state holds the same values)."""
        B, N = state.batch_size, state.cfg.num_servers
        shared = next(iter(info.values())) if self.multi_agent else info
        queue = np.asarray(shared.get("queue", state.queue), dtype=np.float64).reshape(B, N)
        speed = np.asarray(shared.get("server_speed", state.speed_now), dtype=np.float64).reshape(B, N)
        return queue, speed

    def place(self, state: core.State, info) -> np.ndarray:
        """Placements (B, A, M) for the current slot of every instance and device."""
        raise NotImplementedError


def _sizes(state: core.State) -> tuple[int, int, int, int]:
    """(B, A, M, N) of a core state."""
    return state.batch_size, state.num_devices, state.cfg.num_blocks, state.cfg.num_servers


def _costs(state: core.State, placements: np.ndarray) -> np.ndarray:
    """Cost (minus the reward of Eq. 14, summed over devices) of candidates (B, P, A, M): (B, P)."""
    single = placements.shape[2] == 1
    outcome = core.slot_cost(state, placements[:, :, 0] if single else placements)
    return -(outcome.reward if single else outcome.reward.sum(axis=-1))


class RandomPlacement(Baseline):
    """RPDI: every block on the device or an edge server, uniformly at random (seeded via reset)."""

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        return self.rng.integers(0, N + 1, size=(B, A, M))


class AveragePartitioning(Baseline):
    """APDI: the blocks spread evenly over the edge servers, in contiguous runs in server order.

    Block m goes to server ``1 + floor(m N / M)``: with M >= N each server gets floor(M/N) or
    ceil(M/N) consecutive blocks; with M < N the blocks use M distinct servers.
    """

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        servers = 1 + (np.arange(M) * N) // M
        return np.broadcast_to(servers, (B, A, M)).copy()


class Greedy(Baseline):
    """Greedy (the TMC 2024 paper's baseline [54]): each block goes to the edge server with the lowest load.

    A server's load is its queued work (``info["queue"]``, seconds) plus the work the blocks
    already placed this slot add to it: expected tasks (task_rate x slot_s) x the block's edge
    latency / the server's speed (``info["server_speed"]``). Blocks are placed in order, devices
    one after another (they share the servers); ties go to the lowest server index.
    """

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        queue, speed = self.servers(state, info)
        tasks = state.cfg.task_rate * state.cfg.slot_s
        load = queue.copy()
        placement = np.empty((B, A, M), dtype=np.int64)
        rows = np.arange(B)
        for a in range(A):
            for m in range(M):
                server = load.argmin(axis=1)
                placement[:, a, m] = server + 1
                load[rows, server] += tasks * state.blocks.edge_work[a, m] / speed[rows, server]
        return placement


class LongestProcessingTime(Baseline):
    """LPT list scheduling: the longest blocks first, each to the location that finishes it earliest.

    Blocks are taken in order of decreasing processing time on the device (``local_time``; the
    devices' blocks together in the multi-agent env, ties in block order). A location's ready time
    is its backlog (``info["queue"]`` for the servers, the core state's ``device_queue`` for the
    device, seconds) plus the work of the blocks already placed there this slot; block m finishes at
    ready + tasks x its compute time there (``local_time`` on the device, ``edge_work`` / speed on
    server n), and goes where that is smallest (ties to the lowest index, the device first). Like
    classic LPT it schedules compute only: transfers between locations are not priced.
    """

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        queue, speed = self.servers(state, info)
        server_ready = queue.copy()
        device_ready = state.device_queue.astype(np.float64, copy=True)  # (B, A)
        tasks = state.tasks_now  # (B, A)
        local, edge = state.blocks.local_time, state.blocks.edge_work  # (A, M)
        order = np.argsort(-local, axis=None, kind="stable")  # flat (a, m) indices, longest first
        placement = np.empty((B, A, M), dtype=np.int64)
        rows = np.arange(B)
        for a, m in zip(*np.unravel_index(order, (A, M))):
            on_device = device_ready[:, a] + tasks[:, a] * local[a, m]  # (B,)
            on_server = server_ready + tasks[:, a, None] * edge[a, m] / speed  # (B, N)
            finish = np.concatenate([on_device[:, None], on_server], axis=1)
            where = finish.argmin(axis=1)
            placement[:, a, m] = where
            device_ready[:, a] = np.where(where == DEVICE, on_device, device_ready[:, a])
            hit = where > DEVICE
            server_ready[rows[hit], where[hit] - 1] = on_server[rows[hit], where[hit] - 1]
        return placement


class AllLocal(Baseline):
    """Every block on the IoT device."""

    def place(self, state, info):
        return np.full(_sizes(state)[:3], DEVICE, dtype=np.int64)


class BestSingleServer(Baseline):
    """Each device's whole model on one edge server: the choice with the lowest slot cost.

    With several devices every combination of servers (N^A) is scored jointly by
    ``core.slot_cost``, so devices sharing a server see each other's load.
    """

    max_combinations = 100_000

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        if N**A > self.max_combinations:
            raise ValueError(f"best-single-server: N^A = {N}^{A} combinations exceed {self.max_combinations}")
        choices = np.array(list(itertools.product(range(1, N + 1), repeat=A)), dtype=np.int64)  # (P, A)
        candidates = np.broadcast_to(choices[None, :, :, None], (B, len(choices), A, M))
        best = _costs(state, candidates).argmin(axis=1)
        return candidates[np.arange(B), best].copy()


class _SwarmSearch(Baseline):
    """Search over the joint placement (A x M genes) scored by ``core.slot_cost``."""

    solver = None

    def __init__(self, env, seed: int | None = None, **options):
        allowed = [p.name for p in inspect.signature(self.solver).parameters.values() if p.kind is p.KEYWORD_ONLY]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} for {type(self).__name__}; allowed: {allowed}")
        self.options = options
        super().__init__(env, seed)

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        cost = lambda genes: _costs(state, genes.reshape(B, genes.shape[1], A, M))  # noqa: E731
        best, _ = type(self).solver(cost, B, A * M, N + 1, self.rng, **self.options)
        return best.reshape(B, A, M)


class ParticleSwarm(_SwarmSearch):
    """PSO (the DNN-migration paper's swarm baseline) over placements, seeded via reset; options go to search.pso."""

    solver = staticmethod(search.pso)


class Genetic(_SwarmSearch):
    """GA (the DNN-migration paper's swarm baseline) over placements, seeded via reset; options go to search.ga."""

    solver = staticmethod(search.ga)


class ChainDP(Baseline):
    """Per-slot chain DP that ignores the slot's own load: the cheapest chain under ``core.block_pair_costs``.

    ``core.block_pair_costs`` prices block m at j after its predecessor at i with the current
    queues but no utilisation from the slot's own tasks; dynamic programming finds the cheapest
    chain per device in O(M (N+1)^2). Exact (tested against brute force) only in the contention-free
    configuration; with queues it piles the blocks on one server, whose real wait it does not see,
    and ignores the queues it leaves for later slots. ``exact-slot`` is the exact per-slot minimiser.
    """

    def place(self, state, info):
        B, A, M, N = _sizes(state)
        pair_costs = core.block_pair_costs(state).reshape(B * A, M, N + 1, N + 1)
        placement, _ = search.chain_dp(pair_costs)
        return placement.reshape(B, A, M)


class ExactSlot(Baseline):
    """Minimiser of the current slot's cost as the env charges it (the queues carried in and the slot's
    own load included): ``exact.solve``, by enumeration of the (N+1)^M placements or branch and bound
    (tested against brute force). Branch and bound stops after ``node_limit`` expansions with the best
    placement found; ``decisions`` and ``proved`` count the slots decided and those whose placement is
    proved optimal (``proved_share``). Myopic: it ignores the queues and the energy it leaves for later
    slots. Single-device envs only (a ``ValueError`` otherwise).

    ``method``: "auto" (enumeration up to ``exact.ENUMERATION_LIMIT`` placements), "enumerate" or
    "branch-and-bound".
    """

    def __init__(self, env, seed: int | None = None, method: str = "auto", node_limit: int = exact.NODE_LIMIT):
        if method not in ("auto", "enumerate", "branch-and-bound"):
            raise ValueError(f"method must be 'auto', 'enumerate' or 'branch-and-bound', got {method!r}")
        if hasattr(env, "possible_agents") and len(env.possible_agents) > 1:
            raise ValueError(
                f"exact-slot: single-device envs only; this env has {len(env.possible_agents)} devices "
                "(the devices' joint placement is not searched)"
            )
        self.method, self.node_limit = method, exact.checked_node_limit(node_limit)
        self.decisions, self.proved = 0, 0
        super().__init__(env, seed)

    @property
    def proved_share(self) -> float:
        """Share of the decisions so far whose placement is proved optimal (NaN before the first)."""
        return self.proved / self.decisions if self.decisions else float("nan")

    def place(self, state, info):
        found = exact.solve(state, self.method, self.node_limit)
        self.decisions += len(found.proved)
        self.proved += int(found.proved.sum())
        return found.placement[:, None, :]


class _Searching(Baseline):
    """A policy that ends each decision with local search (``local.improve``, at most ``max_moves`` moves),
    counting them: ``searches``, ``moves`` (in all) and ``most_moves`` (in one search)."""

    def __init__(self, env, seed: int | None = None, max_moves: int = local.MAX_MOVES):
        self.max_moves = local.checked_max_moves(max_moves)
        super().__init__(env, seed)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.searches, self.moves, self.most_moves = 0, 0, 0

    def improve(self, state: core.State, start: np.ndarray) -> local.Improved:
        found = local.improve(state, start, self.max_moves)
        self.searches += found.moves.size
        self.moves += int(found.moves.sum())
        self.most_moves = max(self.most_moves, int(found.moves.max()))
        return found


class LocalSearch(_Searching):
    """Local search over the joint placement (``local.improve``: single-block moves priced by the env's cost)
    from the placement of each rule in ``starts``, keeping per instance the local optimum of highest reward
    (ties to the first start); ``max_moves`` caps each search. The default starts are cheap and differ in
    kind (everything on the device, greedy's spread over the servers, chain-dp's cheapest chains); of the
    single and combined starts tried on edge_partition_multi_v0's scenarios with episode seeds 100-109, not
    the leaderboard's, they gave the best mean return on `crowded` and one within 8% of the best on `default`."""

    def __init__(
        self,
        env,
        seed: int | None = None,
        starts: tuple = ("all-local", "greedy", "chain-dp"),
        max_moves: int = local.MAX_MOVES,
    ):
        unknown = [name for name in starts if name not in _RULES]
        if not starts or unknown:
            raise ValueError(f"starts: expected one or more of {sorted(_RULES)}, got {list(starts)!r}")
        self.starts = tuple(starts)
        self._rules = [_RULES[name](env, seed) for name in self.starts]
        super().__init__(env, seed, max_moves)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        for rule in self._rules:
            rule.reset(seed)

    def place(self, state, info):
        best = None
        for rule in self._rules:
            found = self.improve(state, rule.place(state, info))
            if best is None:
                best = found
                continue
            better = found.reward > best.reward
            best.placement[better], best.reward[better] = found.placement[better], found.reward[better]
        return best.placement


class Refined(_Searching):
    """``policy``'s placement improved by local search each slot (``local.improve``, at most ``max_moves``
    moves): the leaderboard's ``local-search:SPEC`` entries, e.g. a trained agent's argmax as the start."""

    def __init__(self, env, policy, max_moves: int = local.MAX_MOVES, seed: int | None = None):
        self.policy = policy
        super().__init__(env, seed, max_moves)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset(seed)

    def act(self, observation, info):
        start = self.placement(self.policy.act(observation, info))
        return self.action(self.improve(self.state(), start).placement, observation)


_RULES = {  # the rules LocalSearch can start from
    "random": RandomPlacement,
    "apdi": AveragePartitioning,
    "greedy": Greedy,
    "lpt": LongestProcessingTime,
    "all-local": AllLocal,
    "best-single-server": BestSingleServer,
    "chain-dp": ChainDP,
}

POLICIES = {
    "random": RandomPlacement,
    "rpdi": RandomPlacement,
    "apdi": AveragePartitioning,
    "greedy": Greedy,
    "lpt": LongestProcessingTime,
    "all-local": AllLocal,
    "best-single-server": BestSingleServer,
    "pso": ParticleSwarm,
    "ga": Genetic,
    "chain-dp": ChainDP,
    "exact-slot": ExactSlot,
    "local-search": LocalSearch,
}
"""name -> factory(env, **kwargs) -> policy (``seed=`` for every policy; search options for pso and ga, ``method``
and ``node_limit`` for exact-slot, ``starts`` and ``max_moves`` for local-search)."""

MULTI_POLICIES = {name: factory for name, factory in POLICIES.items() if name != "exact-slot"}
"""The baselines of edge_partition_multi_v0: exact-slot searches one device's placement, not the devices' joint one."""
