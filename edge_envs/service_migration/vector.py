"""ServiceMigration-v0's vector env: the rounds of many episodes costed in array calls (bound backend)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from edge_envs.edge_partition.env import row_seeds
from edge_envs.reset import check_reset_options, draw_instance
from edge_envs.service_migration import core, kernels, rounds
from edge_envs.service_migration.env import ServiceMigrationEnv, observation_rows, observation_scales
from edge_envs.service_migration.generator import Instance
from edge_envs.service_migration.learning import PROGRESS_TOLERANCE


class ServiceMigrationVectorEnv(VectorEnv):
    """``num_envs`` ServiceMigration episodes (split framework, bound backend) stepped together.

    Row i behaves exactly as :class:`ServiceMigrationEnv` reset with seed ``seed + i``: each row keeps its
    own Generators (devices' moves, capabilities), learner and mobility model, and draws from them in
    the single env's order; the arithmetic of every row (pair costs, round times, uplink rates, the
    observation) runs in array calls over a leading row axis, with the same operations as the single
    env, so trajectories are the same bit for bit. Where ``rounds.applies`` (no fading, static or random-waypoint
    devices) the rows' rounds are two compiled calls (``kernels.play_rounds``, ``kernels.start_rounds``) around
    the rows' draws; otherwise each row's transition is made in Python. Autoreset follows Gymnasium's next-step
    mode: the step after a row ends starts its next episode (reward 0, action ignored). ``info`` holds per-row arrays:
    ``round``, ``wall_clock``, ``edges`` (B, K), ``capability`` (B, N), ``slowest_rates`` (B, N), ``progress``,
    ``communication_cost``, ``computation_cost``, ``rho``, ``round_time`` and ``repaired`` (0 for rows that
    reset this step). Arguments as for :class:`ServiceMigrationEnv` (its ``render_mode`` aside), plus
    ``num_envs``; ``backend="real"`` and ``framework="horizontal"`` are refused. ``reset(seed=...)``: None,
    an int (row i gets ``seed + i``) or one seed per row; ``options``: none are taken.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, config=None, generator=None, render_mode: str | None = None, **overrides):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if render_mode is not None:
            raise ValueError(f"render_mode: the vector env does not render (None), got {render_mode!r}")
        self._single = single = ServiceMigrationEnv(config=config, generator=generator, **overrides)
        self.cfg = cfg = single.cfg
        if cfg.backend != "bound" or cfg.framework != "split":
            raise ValueError(
                "the vector env runs backend='bound' with framework='split' only, got "
                f"backend={cfg.backend!r}, framework={cfg.framework!r}; step ServiceMigrationEnv for the others"
            )
        self.num_envs, self.render_mode = int(num_envs), None
        self.single_action_space = single.action_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = single.observation_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._states: list[core.State] | None = None
        # the compiled rounds' arrays, where they apply: then _states stays None and _edge_rngs holds each row's
        # capability Generator
        self._arrays = rounds.RoundArrays(cfg, self.num_envs, observation_scales(cfg)) if rounds.applies(cfg) else None
        self._edge_rngs: list | None = None
        self._rngs: list | None = None

    def reset(self, *, seed: int | list | None = None, options: dict[str, Any] | None = None):
        B = self.num_envs
        seeds = row_seeds(seed, B)
        check_reset_options(options, "ServiceMigration")
        super().reset(seed=seeds[0])
        if seed is not None or self._rngs is None:  # without a seed, each row's Generator continues
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        self._done = np.zeros(B, dtype=bool)
        if self._arrays is not None:
            self._edge_rngs = [None] * B
            capability = np.empty((B, self.cfg.num_edges))
            for row in range(B):
                capability[row] = self._load(row)
            observations = self._start_rounds(np.arange(B), rounds.NO_LEGS, np.zeros(B + 1, np.int64), capability)
            return observations, self._compiled_info()
        self._states = [None] * B
        self._start(range(B))
        return self._observations(), self._info(np.zeros(B), np.zeros(B), np.zeros(B, dtype=bool))

    def _load(self, row: int) -> np.ndarray:
        """A fresh episode in ``row`` of the compiled rounds' arrays (as the single env's reset); its capabilities."""
        rng = self._rngs[row]
        state = core.initial(self.cfg, draw_instance(self._single.generator, rng, Instance), rng)
        self._arrays.load(row, state)
        self._edge_rngs[row] = state.edge_rng
        return state.capability

    def _start_rounds(self, rows, legs, leg_starts, capability) -> np.ndarray:
        """``kernels.start_rounds`` of ``rows``: the observations (B, D)."""
        obs = np.empty((self.num_envs, *self.single_observation_space.shape), dtype=np.float32)
        arrays = self._arrays
        kernels.start_rounds(arrays.constants, arrays.state, rows, legs, leg_starts, capability, obs)
        return obs

    def _start(self, rows) -> None:
        """Fresh episodes in ``rows``, each drawn from its row's Generator (as the single env's reset)."""
        for row in rows:
            rng = self._rngs[row]
            self._states[row] = core.initial(self.cfg, draw_instance(self._single.generator, rng, Instance), rng)

    def _stacked(self, name: str) -> np.ndarray:
        return np.stack([getattr(state, name) for state in self._states])

    def _decode(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(requested edges (B, K), rho (B,) with NaN for a pair choice, pair modality (B,), -1 for none)
        of the rows' actions, checked as the single env checks one (``decode_action``'s errors)."""
        K, B = self.cfg.num_modalities, self.num_envs
        try:
            a = np.asarray(actions)
        except ValueError:  # ragged nested sequences
            a = np.empty(0)
        if a.shape != (B, K + 1):
            raise ValueError(f"actions: expected shape ({B}, {K + 1}): {K} edges then rho per row, got {a.shape}")
        if a.dtype.kind in "iu" and not self.cfg.continuous_rho:
            return self._decode_discrete(a)
        edges, rho, pair = np.empty((B, K), dtype=np.int64), np.full(B, np.nan), np.full(B, -1)
        for row in np.flatnonzero(~self._done).tolist():
            try:
                edges[row], choice = self._single.decode_action(a[row])
            except ValueError as error:
                raise ValueError(f"actions: row {row}: {error}") from None
            if isinstance(choice, core.PairRho):
                pair[row] = choice.modality
            else:
                rho[row] = choice
        return edges, rho, pair

    def _decode_discrete(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_decode` of integer MultiDiscrete actions in array calls; a row out of range raises the single
        env's error (the first such row of those stepped)."""
        cfg, single = self.cfg, self._single
        K, pair_levels = cfg.num_modalities, single._pair_levels
        edges, level = a[:, :K].astype(np.int64), a[:, K].astype(np.int64)
        inside = np.all((edges >= 0) & (edges < cfg.num_edges), axis=1) & (level >= 0) & (level < cfg.num_rho_choices)
        bad = np.flatnonzero(~inside & ~self._done)
        if bad.size:
            try:
                single.decode_action(a[bad[0]])
            except ValueError as error:
                raise ValueError(f"actions: row {bad[0]}: {error}") from None
        grid_level = level - pair_levels
        on_grid = (grid_level >= 0) & inside & ~self._done
        rho = np.where(on_grid, single._rho_grid[np.where(on_grid, grid_level, 0)], np.nan)
        pair = np.where((grid_level < 0) & inside & ~self._done, level, -1)
        return edges, rho, pair

    def step(self, actions):
        if self._rngs is None:
            raise RuntimeError("call reset() before step()")
        cfg, B = self.cfg, self.num_envs
        requested, rho, pair = self._decode(actions)
        if self._arrays is not None:
            return self._compiled_step(requested, rho, pair)
        restart, active = self._done, ~self._done
        costs = self._costs
        edges, repaired = requested.copy(), np.zeros(B, dtype=bool)
        ordered = np.sort(requested, axis=1)
        shared = np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)  # rows whose edges break Eq. (20b)
        for row in np.flatnonzero(active & shared).tolist():
            try:
                edges[row], repaired[row] = core.resolve_edges(cfg, requested[row])
            except ValueError as error:
                raise ValueError(f"actions: row {row}: {error}") from None
        edges[restart] = self._rows["edges"][restart]
        rows_pair = np.flatnonzero(active & (pair >= 0))
        if rows_pair.size:  # Eq. (31)'s rho* of the pair's (repaired) edge, capped at rho_max
            m = pair[rows_pair]
            n = edges[rows_pair, m]
            best = core.optimal_rho(costs.psi_v[rows_pair, n, m], costs.psi_s[rows_pair, n, m], cfg.alpha)
            rho[rows_pair] = np.minimum(best, cfg.rho_max)
        rho[restart] = cfg.rho_max  # unused: those rows start over
        bad = np.flatnonzero(~((rho > cfg.alpha) & (rho <= cfg.rho_max)))
        if bad.size:
            raise ValueError(f"actions: row {bad[0]}: rho must be in (alpha={cfg.alpha}, rho_max={cfg.rho_max}]")
        times = core.round_times(costs, edges, rho)
        duration = np.max(times.total, axis=1)
        communication, computation = times.communication.sum(axis=1), times.compute.sum(axis=1)
        for row in np.flatnonzero(active).tolist():
            costs_row = (float(rho[row]), float(duration[row]), float(communication[row]), float(computation[row]))
            self._states[row] = self._next_state(self._states[row], edges[row], *costs_row, self._rngs[row])
        if not cfg.fading:
            self._set_slowest_rates(np.flatnonzero(active))
        terminated = np.array([state.learner.reached_target for state in self._states]) & active
        played = np.array([state.round for state in self._states])
        truncated = ~terminated & (played >= cfg.max_rounds) & active
        rewards = np.where(active, -duration * cfg.reward_scale, 0.0)
        if restart.any():
            self._start(np.flatnonzero(restart).tolist())
        self._done = terminated | truncated
        observations = self._observations()
        info = self._info(np.where(active, rho, 0.0), np.where(active, duration, 0.0), repaired & active)
        return observations, rewards, terminated, truncated, info

    def _compiled_step(self, requested: np.ndarray, rho: np.ndarray, pair: np.ndarray):
        """:meth:`step` through the compiled rounds: play the active rows, draw their legs and capabilities from
        their own Generators, start the ended rows' next episodes, then every row's coming round."""
        cfg, B, arrays = self.cfg, self.num_envs, self._arrays
        active = ~self._done
        counts = np.zeros(B, dtype=np.int64)
        bad = kernels.play_rounds(arrays.constants, arrays.state, active, requested, pair, np.nan_to_num(rho), counts)
        if bad >= 0:
            choice = core.PairRho(int(pair[bad])) if pair[bad] >= 0 else float(rho[bad])
            raise ValueError(f"actions: row {bad}: {rounds.refusal(cfg, requested[bad], choice)}")
        leg_starts = np.zeros(B + 1, dtype=np.int64)
        np.cumsum(3 * counts, out=leg_starts[1:])
        moved = np.flatnonzero(counts).tolist()
        legs = np.concatenate([self._rngs[row].random(3 * counts[row]) for row in moved]) if moved else rounds.NO_LEGS
        capability = np.empty((B, cfg.num_edges))
        for row in range(B):
            capability[row] = core.draw_capability(cfg, self._edge_rngs[row]) if active[row] else self._load(row)
        scalars = arrays.scalars
        terminated = active & (scalars[:, kernels.PROGRESS_SUM] >= 1.0 - PROGRESS_TOLERANCE)
        truncated = active & ~terminated & (scalars[:, kernels.ROUND] >= cfg.max_rounds)
        rewards = np.where(active, -scalars[:, kernels.DURATION] * cfg.reward_scale, 0.0)
        info = {  # the round played, before the restarted rows' new episodes show
            "rho": np.where(active, scalars[:, kernels.RHO], 0.0),
            "round_time": np.where(active, scalars[:, kernels.DURATION], 0.0),
            "repaired": active & (scalars[:, kernels.REPAIRED] != 0.0),
        }
        observations = self._start_rounds(np.arange(B), legs, leg_starts, capability)
        self._done = terminated | truncated
        return observations, rewards, terminated, truncated, {**self._compiled_info(), **info}

    def _compiled_info(self) -> dict:
        """The rows' info from the compiled rounds' arrays (``rho``, ``round_time``, ``repaired``: 0)."""
        arrays, B = self._arrays, self.num_envs
        scalars = arrays.scalars
        return {
            "round": scalars[:, kernels.ROUND].astype(np.int64),
            "wall_clock": scalars[:, kernels.WALL_CLOCK].copy(),
            "edges": arrays.edges.copy(),
            "capability": arrays.capability.copy(),
            "slowest_rates": arrays.slowest_rates.copy(),
            "progress": np.minimum(scalars[:, kernels.PROGRESS_SUM], 1.0),
            "communication_cost": scalars[:, kernels.COMMUNICATION_COST].copy(),
            "computation_cost": scalars[:, kernels.COMPUTATION_COST].copy(),
            "rho": np.zeros(B),
            "round_time": np.zeros(B),
            "repaired": np.zeros(B, dtype=bool),
        }

    def _next_state(self, state: core.State, edges, rho, duration, communication, computation, rng) -> core.State:
        """The row's state after a round of ``duration`` s (core.transition's bookkeeping and draws; the
        rates without fading are filled in for all rows at once by :meth:`_set_slowest_rates`)."""
        cfg = self.cfg
        state.learner.train_round(rho, None)
        positions = state.device_positions
        if state.mobility is not None:
            positions = state.mobility.step(duration, rng)
        capability = core.draw_capability(cfg, state.edge_rng)
        slowest = core.round_rates(cfg, positions, state.edge_rng)[0] if cfg.fading else None
        return core.State(
            cfg=cfg,
            round=state.round + 1,
            edges=edges,
            device_positions=positions,
            capability=capability,
            slowest_rates=slowest,
            rates=None,
            wall_clock=state.wall_clock + duration,
            communication_cost=state.communication_cost + communication,
            computation_cost=state.computation_cost + computation,
            mobility=state.mobility,
            learner=state.learner,
            edge_rng=state.edge_rng,
        )

    def _set_slowest_rates(self, rows: np.ndarray) -> None:
        """The slowest rates (no fading) of ``rows``' new states, in one call."""
        if rows.size:
            positions = np.stack([self._states[row].device_positions for row in rows.tolist()])
            slowest = core.slowest_rates(self.cfg, positions)
            for i, row in enumerate(rows.tolist()):
                self._states[row].slowest_rates = slowest[i]

    def _observations(self) -> np.ndarray:
        edges, slowest = self._stacked("edges"), self._stacked("slowest_rates")
        capability = self._stacked("capability")
        self._rows = {"edges": edges, "slowest_rates": slowest, "capability": capability}  # for _info, next step
        self._costs = core.pair_costs(self.cfg, edges, slowest, capability)
        progress = np.array([state.learner.progress for state in self._states], dtype=float)
        rounds = np.array([state.round for state in self._states], dtype=np.int64)
        costs = self._costs if self.cfg.observe_pair_costs else None
        return observation_rows(self.cfg, capability, self._stacked("device_positions"), edges, progress, rounds, costs)

    def _info(self, rho, round_time, repaired) -> dict:
        return {
            "round": np.array([state.round for state in self._states]),
            "wall_clock": np.array([state.wall_clock for state in self._states]),
            "edges": self._rows["edges"].copy(),
            "capability": self._rows["capability"].copy(),
            "slowest_rates": self._rows["slowest_rates"].copy(),
            "progress": np.array([state.learner.progress for state in self._states]),
            "communication_cost": np.array([state.communication_cost for state in self._states]),
            "computation_cost": np.array([state.computation_cost for state in self._states]),
            "rho": rho,
            "round_time": round_time,
            "repaired": repaired,
        }
