"""ServiceMigration-v0's round in two compiled calls: the single env's fast path (issue 30).

``core.transition`` makes some forty small array calls and objects per round, which cost far more than its
arithmetic. :class:`CompiledRound` plays the same round with ``kernels.play_round`` (edges, rho, times, the
learner's sums, the devices' walk), the draws in Python from the env's own Generators (new legs from ``rng``,
capabilities from the state's ``edge_rng``, as ``core.transition`` draws them), and ``kernels.start_round``
(legs, slowest rates, pair costs, the observation), with the same floating-point operations in the same order:
the trajectories are the same bit for bit (the golden hashes hold; a test compares the two paths round by round).
"""

from __future__ import annotations

import numpy as np

from edge_envs import libm
from edge_envs.compiled import compiled_for, hold
from edge_envs.net.mobility import RandomWaypoint
from edge_envs.service_migration import core, kernels

_NO_LEGS = np.empty(0)
_COMPILED: dict = {}  # numba type of the held arguments -> (play_round, start_round) compiled for them


def applies(cfg, state: core.State) -> bool:
    """Whether :class:`CompiledRound` plays ``state``'s rounds: the split framework on the bound backend, no
    fading, static or random-waypoint devices, at most ``kernels.MAX_MODALITIES`` modalities."""
    return (
        cfg.backend == "bound"
        and cfg.framework == "split"
        and not cfg.fading
        and cfg.num_modalities <= kernels.MAX_MODALITIES
        and (state.mobility is None or type(state.mobility) is RandomWaypoint)
    )


class CompiledRound:
    """Plays the rounds of ``state`` (see :func:`applies`), advancing its arrays (and its mobility model's) in
    place: :meth:`step` returns what ``core.transition`` and the env's observation would; ``scales``: the
    observation's (``env.observation_scales``)."""

    def __init__(self, state: core.State, scales: np.ndarray):
        cfg, mobility = state.cfg, state.mobility
        self.state = state
        constants = core._constants(cfg)
        N, K, M = cfg.num_edges, cfg.num_modalities, cfg.num_devices
        low, high = mobility.speed_range_mps if mobility is not None else (0.0, 0.0)
        c = np.array(
            [
                cfg.alpha,
                cfg.alpha**2,
                cfg.beta,
                cfg.rho_max,
                constants.speed_bytes,
                core.MIN_DISTANCE_M,
                mobility.pause_s if mobility is not None else 0.0,
                cfg.on_conflict == "repair",
                mobility is not None,
                low,
                high - low,
            ]
        )
        area = mobility.area if mobility is not None else np.zeros(2)
        held_constants = (
            c,
            constants.hop_log2,
            np.array(constants.hop_order, dtype=np.int64),
            constants.model_bytes,
            constants.upload_bits[0],
            constants.work,
            constants.rate_code,
            constants.rate_terms,
            constants.c_functions,
            cfg.edge_positions,
            scales,
            area,
            libm.address("hypot"),
        )
        costs = state.costs()
        self.tables = np.stack([costs.migration, costs.upload, costs.compute])
        state._costs = core.PairCosts(self.tables[0], self.tables[1], self.tables[2])  # views: follow the rounds
        self.times = np.empty((4, K))  # T_sm, rho H, rho L, T_cm of the last round
        learner = state.learner
        self.scalars = np.array(
            [state.round, state.wall_clock, state.communication_cost, state.computation_cost,
             learner.inverse_rho_sum, learner.progress_sum, 0.0, 0.0, 0.0]
        )  # fmt: skip
        if mobility is not None:
            walk = (mobility._positions, mobility.waypoints, mobility.speeds, mobility.pause_left)
        else:  # the devices stay where the state has them
            walk = (state.device_positions, np.zeros((M, 2)), np.zeros(M), np.zeros(M))
        held_state = (
            state.edges,
            np.empty(K, dtype=np.int64),
            np.empty(N, dtype=bool),
            self.tables,
            self.times,
            self.scalars,
            *walk,
            np.empty(M, dtype=bool),
            state.device_positions,
            state.capability,
            state.slowest_rates,
            np.empty((1, N)),  # each edge's farthest device
            np.empty((1, N, K) if cfg.observe_pair_costs else (1, 0, 0)),
            np.empty(1),
            np.empty(1, dtype=np.int64),
        )
        self._held = held = hold(held_constants, held_state)
        self._obs_size = 2 * N + K * N + 2 + (K * N if cfg.observe_pair_costs else 0)
        compiled = _COMPILED.get(held._type)
        if compiled is None:  # the kernels for the types of these arguments, once per process
            obs = np.empty(self._obs_size, dtype=np.float32)
            compiled = _COMPILED[held._type] = (
                compiled_for(kernels.play_round, (held, np.zeros(K, dtype=np.int64), 0, 0.5)),
                compiled_for(kernels.start_round, (held, _NO_LEGS, state.capability, obs)),
            )
        self._play, self._start = compiled

    def step(self, requested: np.ndarray, rho, rng: np.random.Generator) -> tuple[core.RoundOutcome, np.ndarray]:
        """Play a round of ``requested`` edges (K,) int64 and ``rho`` (a float or ``core.PairRho``), devices moving
        with ``rng``: (the round's outcome, the coming round's observation). Refuses what ``core.transition``
        refuses, with its errors, and then changes nothing."""
        state, cfg = self.state, self.state.cfg
        pair, value = (rho.modality, 0.5) if isinstance(rho, core.PairRho) else (-1, float(rho))
        if pair >= 0 and not 0 <= pair < cfg.num_modalities:
            raise ValueError(
                f"PairRho needs the split framework and a modality in [0, {cfg.num_modalities}), "
                f"got {rho!r} with framework={cfg.framework!r}"
            )
        count = self._play(self._held, requested, pair, value)
        if count == kernels.CONFLICT:
            core.resolve_edges(cfg, requested)  # raises the conflict's ValueError
        if count == kernels.RHO_OUT_OF_RANGE:
            raise ValueError(f"rho must be in (alpha={cfg.alpha}, rho_max={cfg.rho_max}], got {rho!r}")
        legs = rng.random(3 * count) if count else _NO_LEGS
        capability = core.draw_capability(cfg, state.edge_rng)
        obs = np.empty(self._obs_size, dtype=np.float32)
        self._start(self._held, legs, capability, obs)
        rounds, wall_clock, communication, computation, inverse, progress, rho, duration, repaired = (
            self.scalars.tolist()
        )
        state.round, state.wall_clock = int(rounds), wall_clock
        state.communication_cost, state.computation_cost = communication, computation
        learner = state.learner
        learner.rounds, learner.inverse_rho_sum, learner.progress_sum = state.round, inverse, progress
        times = self.times.copy()
        outcome = core.RoundOutcome(
            edges=state.edges.copy(),
            repaired=repaired != 0.0,
            rho=rho,
            samples=rho * cfg.num_devices * cfg.num_samples,
            times=core.RoundTimes(times[0], times[1], times[2]),
            round_time=duration,
            loss=float(learner.loss),
            accuracy=None,
            reached_target=bool(learner.reached_target),
        )
        return outcome, obs
