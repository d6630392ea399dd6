"""ServiceMigration-v0's rounds in compiled calls: the single env's and the vector env's fast path (issue 30).

``core.transition`` makes some forty small array calls and objects per round, which cost far more than its
arithmetic. Here a round is ``kernels.play_round`` (edges, rho, times, the learner's sums, the devices' walk),
then the draws in Python from the episode's own Generators (new legs from the env's ``rng``, capabilities from
the state's ``edge_rng``, as ``core.transition`` draws them), then ``kernels.start_round`` (legs, slowest rates,
pair costs, the observation), with the same floating-point operations in the same order: the trajectories are
the same bit for bit (the golden hashes hold; tests compare the paths round by round). The vector env plays all
its rows with ``kernels.play_rounds`` and ``kernels.start_rounds`` over the same row functions.
"""

from __future__ import annotations

import numpy as np

from edge_envs import libm
from edge_envs.compiled import compiled_for, hold
from edge_envs.service_migration import core, kernels
from edge_envs.service_migration.config import ServiceMigrationConfig

NO_LEGS = np.empty(0)
_COMPILED: dict = {}  # numba type of the held arguments -> (play_round, start_round) compiled for them


def applies(cfg: ServiceMigrationConfig) -> bool:
    """Whether these rounds play ``cfg``'s: the split framework on the bound backend, no fading, static or
    random-waypoint devices, at most ``kernels.MAX_MODALITIES`` modalities."""
    return (
        cfg.backend == "bound"
        and cfg.framework == "split"
        and not cfg.fading
        and cfg.mobility in ("static", "random_waypoint")
        and cfg.num_modalities <= kernels.MAX_MODALITIES
    )


class RoundArrays:
    """The kernels' constants under ``cfg`` and ``batch`` rows of round state (``kernels.play_rounds``' layout);
    ``scales``: the observation's (``env.observation_scales``)."""

    def __init__(self, cfg: ServiceMigrationConfig, batch: int, scales: np.ndarray):
        constants = core._constants(cfg)
        mobility = core.make_mobility(cfg)  # its parameters; each row's walk is in the arrays below
        N, K, M, B = cfg.num_edges, cfg.num_modalities, cfg.num_devices, batch
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
        self.constants = (
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
            mobility.area if mobility is not None else np.zeros(2),
            libm.address("hypot"),
        )
        self.edges = np.zeros((B, K), dtype=np.int64)
        self.tables = np.zeros((3, B, N, K))  # T_sm, H, L of each pair (core.PairCosts)
        self.times = np.zeros((B, 4, K))  # T_sm, rho H, rho L, T_cm of each row's last round
        self.scalars = np.zeros((B, len(kernels.SCALARS)))
        self.walk = (np.zeros((B, M, 2)), np.zeros((B, M, 2)), np.zeros((B, M)), np.zeros((B, M)))
        self.device_positions, self.capability = np.zeros((B, M, 2)), np.ones((B, N))
        self.slowest_rates = np.ones((B, N))
        self.state = (
            self.edges,
            np.zeros((B, K), dtype=np.int64),  # each row's chosen edges
            np.zeros(N, dtype=bool),  # scratch of the repair
            self.tables,
            self.times,
            self.scalars,
            *self.walk,  # positions, waypoints, speeds, pauses left
            np.zeros((B, M), dtype=bool),  # the devices needing a new leg
            self.device_positions,
            self.capability,
            self.slowest_rates,
            np.zeros((B, N)),  # each edge's farthest device
            np.zeros((B, N, K) if cfg.observe_pair_costs else (B, 0, 0)),  # Psi^v of the observation
            np.zeros(B),  # progress
            np.zeros(B, dtype=np.int64),  # rounds played
        )

    def load(self, row: int, state: core.State, bind: bool = False) -> None:
        """Row ``row`` takes ``state``'s episode (a bound learner's); with ``bind``, ``state``'s arrays (and its
        mobility model's) become views of the row, so they follow its rounds."""
        mobility, learner, costs = state.mobility, state.learner, state.costs()
        fields = ("edges", "device_positions", "capability", "slowest_rates")
        for name, values in zip(fields, (self.edges, self.device_positions, self.capability, self.slowest_rates)):
            values[row] = getattr(state, name)
            if bind:
                setattr(state, name, values[row])
        for k, table in enumerate((costs.migration, costs.upload, costs.compute)):
            self.tables[k, row] = table
        if bind:
            state._costs = core.PairCosts(self.tables[0, row], self.tables[1, row], self.tables[2, row])
        if mobility is None:  # the devices stay where the state has them
            self.walk[0][row] = state.device_positions
        else:
            for name, values in zip(("_positions", "waypoints", "speeds", "pause_left"), self.walk):
                values[row] = getattr(mobility, name)
                if bind:
                    setattr(mobility, name, values[row])
        self.scalars[row] = 0.0
        self.scalars[row, kernels.ROUND] = state.round
        self.scalars[row, kernels.WALL_CLOCK] = state.wall_clock
        self.scalars[row, kernels.COMMUNICATION_COST] = state.communication_cost
        self.scalars[row, kernels.COMPUTATION_COST] = state.computation_cost
        self.scalars[row, kernels.INVERSE_RHO_SUM] = learner.inverse_rho_sum
        self.scalars[row, kernels.PROGRESS_SUM] = learner.progress_sum


class CompiledRound:
    """The single env's rounds (see :func:`applies`): :meth:`load` an episode's state, then :meth:`step` advances
    its arrays (and its mobility model's) in place and returns what ``core.transition`` and the env's observation
    would. ``scales``: the observation's (``env.observation_scales``)."""

    def __init__(self, cfg: ServiceMigrationConfig, scales: np.ndarray):
        self.cfg, self.state = cfg, None
        self.arrays = arrays = RoundArrays(cfg, 1, scales)
        self._held = held = hold(arrays.constants, arrays.state)
        self._obs_size = 2 * cfg.num_edges + cfg.num_modalities * cfg.num_edges + 2
        self._obs_size += cfg.num_modalities * cfg.num_edges if cfg.observe_pair_costs else 0
        compiled = _COMPILED.get(held._type)
        if compiled is None:  # the kernels for the types of these arguments, once per process
            obs = np.empty(self._obs_size, dtype=np.float32)
            compiled = _COMPILED[held._type] = (
                compiled_for(kernels.play_round, (held, np.zeros(cfg.num_modalities, dtype=np.int64), 0, 0.5)),
                compiled_for(kernels.start_round, (held, NO_LEGS, np.ones(cfg.num_edges), obs)),
            )
        self._play, self._start = compiled

    def load(self, state: core.State) -> None:
        """Play ``state``'s episode from here on (its arrays become the round's)."""
        self.arrays.load(0, state, bind=True)
        self.state = state

    def step(self, requested: np.ndarray, rho, rng: np.random.Generator) -> tuple[core.RoundOutcome, np.ndarray]:
        """Play a round of ``requested`` edges (K,) int64 and ``rho`` (a float or ``core.PairRho``), devices moving
        with ``rng``: (the round's outcome, the coming round's observation). Refuses what ``core.transition``
        refuses, with its errors, and then changes nothing."""
        state, cfg = self.state, self.cfg
        pair, value = (rho.modality, 0.5) if isinstance(rho, core.PairRho) else (-1, float(rho))
        if pair >= 0 and not 0 <= pair < cfg.num_modalities:
            raise ValueError(
                f"PairRho needs the split framework and a modality in [0, {cfg.num_modalities}), "
                f"got {rho!r} with framework={cfg.framework!r}"
            )
        count = self._play(self._held, requested, pair, value)
        if count < 0:
            raise refusal(cfg, requested, rho)
        legs = rng.random(3 * count) if count else NO_LEGS
        capability = core.draw_capability(cfg, state.edge_rng)
        obs = np.empty(self._obs_size, dtype=np.float32)
        self._start(self._held, legs, capability, obs)
        rounds, wall_clock, communication, computation, inverse, progress, rho, duration, repaired = (
            self.arrays.scalars[0].tolist()
        )
        state.round, state.wall_clock = int(rounds), wall_clock
        state.communication_cost, state.computation_cost = communication, computation
        learner = state.learner
        learner.rounds, learner.inverse_rho_sum, learner.progress_sum = state.round, inverse, progress
        times = self.arrays.times[0].copy()
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


def refusal(cfg: ServiceMigrationConfig, requested, rho) -> ValueError:
    """The error ``core.transition`` raises for a round of ``requested`` edges and ``rho`` the kernels refused."""
    try:
        core.resolve_edges(cfg, requested)  # a conflict under on_conflict="error" raises
    except ValueError as error:
        return error
    return ValueError(f"rho must be in (alpha={cfg.alpha}, rho_max={cfg.rho_max}], got {rho!r}")
