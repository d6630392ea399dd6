"""ServiceMigration-v0: the Gymnasium shell around ``core`` (spaces, action decoding, observations, seeding)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from edge_envs import libm
from edge_envs.render import HumanWindow, check_render_mode, new_figure
from edge_envs.reset import check_reset_options, check_seed, draw_instance
from edge_envs.service_migration import core, kernels, rounds
from edge_envs.service_migration.config import ServiceMigrationConfig
from edge_envs.service_migration.generator import Instance, RandomGenerator

CAPABILITY_OBS_CAP = 100.0  # observed capability ratios are clipped here (the normal law has no upper bound)
RESET_OPTIONS = ("instance",)
SQRT2 = math.sqrt(2.0)  # correctly rounded, as numpy's
_NO_PAIRS = np.zeros((1, 0, 0))  # the pair block's tables without observe_pair_costs: no columns


def observation_rows(cfg: ServiceMigrationConfig, capability, positions, edges, progress, rounds, costs) -> np.ndarray:
    """(B, D) float32 observations (the table of :class:`ServiceMigrationEnv`) of B rows, from float64 arrays but
    ``edges`` and ``rounds`` (int64): capabilities (B, N), device positions (B, M, 2), edges (B, K), learning progress
    (B,), rounds played (B,) and, with ``observe_pair_costs``, the rows' :class:`core.PairCosts` ((B, N, K) arrays;
    else None), whose Eq. (32) estimates give the pair block. ``kernels.observation_rows`` writes the table in one
    compiled loop."""
    B, N, K = len(edges), cfg.num_edges, cfg.num_modalities
    psi_v = psi_s = _NO_PAIRS
    if costs is not None:
        psi_v, psi_s = costs.psi_v.reshape(B, N, K), costs.psi_s.reshape(B, N, K)
    out = np.empty((B, 2 * N + K * N + 2 + psi_v.shape[1] * psi_v.shape[2]), dtype=np.float32)
    farthest = np.empty((B, N))
    kernels.farthest_distances(positions, cfg.edge_positions, farthest)
    kernels.observation_rows(capability, farthest, edges, progress, rounds, psi_v, psi_s, observation_scales(cfg), out)
    return out


def observation_scales(cfg: ServiceMigrationConfig) -> np.ndarray:
    """The scales ``kernels.observation_rows`` reads."""
    return np.array(
        (
            cfg.capability_mean_hz,
            CAPABILITY_OBS_CAP,
            cfg.area_m * SQRT2,
            cfg.max_rounds,
            cfg.alpha,
            cfg.alpha**2,
            cfg.beta,
        )
    )


class ServiceMigrationEnv(gym.Env):
    """
    ## Description

    Multi-modal federated learning over mobile edge computing with service migration (SM3FL, Zhou et
    al., MobiHoc 2023). The model is split into K sub-models, one per data modality (text, acoustic,
    vision), each served by one of N edges; a fusion model runs on the edge server. Every round the
    edge server decides which edge serves each modality (a sub-model may migrate between edges) and
    the sample-collection ratio rho: each of the M mobile devices uploads rho S samples of every
    modality to that modality's edge, which trains its sub-model for E epochs. Devices move and the
    edges' spare computing capability changes every round. The goal is to reach the target loss in
    the least wall-clock time.

    A round lasts as long as its slowest modality; modality k on edge n takes (Eqs. 3-6)
    ``T_sm + rho (H(n, k) + L(n, k))``: migration ``v_k log2(1 + d / d_0) / pi`` if the edge changed, the
    slowest device's upload ``rho S q_k / (B log2(1 + P h(d) / N0))`` (Eq. 4 as printed; the ERRATA
    reading ``N0 B`` is ``noise_reading="density"``), and computation ``rho E M S vartheta_k / xi_n``.
    Learning progress comes from one of two backends: ``backend="bound"`` (default; its steps/s
    against CartPole-v1's are in benchmarks/results/throughput.md) counts Corollary 1's rounds to target,
    R(rho) = beta rho / (rho - alpha) (200 rounds at rho = 2 alpha with the paper's beta = 100, many more
    than the real backend takes);
    ``backend="real"`` (opt-in, 0.2-2 steps/s: it trains a model every round, so it suits measuring a
    policy, not RL training) trains a split model on UCI mfeat (two views per modality, FedBCD-style
    local epochs of minibatch steps with stale embeddings, loss and accuracy on held-out digits), where
    more samples per round mean fewer rounds.
    ``framework="horizontal"`` costs and trains FedAvg instead (each device uploads everything to its
    nearest edge; every edge trains the whole model and exchanges it with the server); the edge part
    of the action is then ignored. Its edges work in parallel, or with ``horizontal_schedule="shared"``
    take turns on the band and the server link and train in parallel (Table 2's reading).

    ## Action Space

    Default ``MultiDiscrete([N] * K + [K + num_rho_levels])`` (N = 8, K = 3, num_rho_levels = 20): the
    edge of each modality, then the rho choice. Choice k < K applies Eq. (31)'s rho* of modality k's
    pair in the coming round (``core.PairRho``, capped at rho_max): Algorithm 1, line 12 is the choice of
    the pair with the largest Psi^v, so SM3FL is expressible exactly. Choice K + j applies
    ``cfg.rho_grid[j]`` (num_rho_levels values spaced geometrically from rho_min = 0.025 to
    rho_max = 1). With ``pair_rho_levels=False`` or ``framework="horizontal"`` only the grid is offered.
    With ``continuous_rho=True`` the action is ``Box(0, 1, (K + 1,), float32)``: modality k goes to edge
    ``min(floor(a_k N), N - 1)`` and ``rho = rho_min (rho_max / rho_min) ** a_K``.
    Use ``encode_action(edges, rho)`` (or ``encode_action(edges, pair=k)``) to build either.
    Two modalities on one edge break Eq. (20b): ``on_conflict="error"`` raises ValueError;
    ``on_conflict="repair"`` (default) keeps the earlier modality's edge and gives the later one the
    free edge nearest to the one it asked for; ``info["repaired"]`` says when that happened.

    ## Observation Space

    ``Box(float32)`` of length ``2 N + K N + 2`` (``+ K N`` with ``observe_pair_costs``, the default),
    describing the round about to start:

    | slice | content |
    | --- | --- |
    | [0, N) | edge capability xi_n / capability_mean_hz, clipped at 100 |
    | [N, 2N) | distance from edge n to its farthest device / (area side * sqrt 2) |
    | [2N, 2N + K N) | current edge of each modality, one-hot (modality-major) |
    | 2N + K N | learning progress in [0, 1] (real: share of the way to the target loss; bound: of Corollary 1's) |
    | 2N + K N + 1 | rounds played / max_rounds |
    | [2N + KN + 2, 2N + 2KN + 2) | each pair's Eq. (32) estimate (Algorithm 1's preference): best / own, by modality |

    The distance column reflects path loss only: with ``fading=True`` an edge's slowest upload (H, Eq. 25)
    comes from its most faded device, which the pair block (computed from the coming round's faded rates)
    shows and the distances do not. SM3FL's assignment is a function of the pair block alone.

    ## Rewards

    ``-round_time * reward_scale`` (seconds, reward_scale = 1): the episode's return is minus the
    wall-clock time. ``info`` has the components.

    ## Starting State

    Each modality's sub-model on a distinct random edge; devices uniform in the area (random
    waypoint mobility, 1-10 m/s); capabilities drawn from N(10^6, (3 x 10^5)^2) cycles/s, redrawn below
    10^5; a freshly initialised model (real backend).

    ``reset(seed=None, options=None)``: ``options`` may hold ``"instance"``, a ``generator.Instance`` to
    play instead of drawing one (to replay an episode); any other key raises a ValueError.

    ## Episode End

    Terminated when the target is reached (real: held-out cross-entropy <= target_loss; bound:
    Corollary 1's rounds completed). Truncated after ``max_rounds`` rounds (500). Stepping an ended
    episode raises a RuntimeError: call ``reset()``.

    ## Info

    Always: ``round``, ``wall_clock`` (s), ``edges`` (K,) current placement, ``device_positions``
    (M, 2), ``capability`` (N,), ``slowest_rates`` (N,) each edge's slowest device's uplink bit/s in the
    coming round (Eq. 25's; ``core.uplink_rates(cfg, positions)`` gives every device's, without fading), ``loss``,
    ``accuracy`` (None with the bound backend, whose ``loss`` is Theorem 1's bound in units of the
    target, infinite before round 1), ``progress``, ``communication_cost`` and ``computation_cost``
    (sums of T_cm and T_cp over rounds and modalities). After a step also: ``requested_edges``, ``repaired``, ``rho``,
    ``samples`` (S^r), ``round_time``, and per modality (per edge, horizontal) ``migration_time``,
    ``upload_time``, ``communication_time``, ``computation_time``.

    ## Arguments

    ``gym.make("ServiceMigration-v0", config=ServiceMigrationConfig(...), generator=None, **overrides)``:
    any ServiceMigrationConfig field can be passed as a keyword (e.g. ``backend="bound"``,
    ``num_rho_levels=20``, ``continuous_rho=True``, ``on_conflict="error"``, ``framework="horizontal"``;
    ``**PAPER_LITERAL`` for the paper's figures read literally). ``generator``: a callable
    ``rng -> Instance`` (``RandomGenerator(cfg)`` by default; ``ToyGenerator()`` with
    ``ToyGenerator.config()``). ``render_mode``: ``"ansi"`` returns a one-line summary of the last round,
    ``"rgb_array"`` a picture (edges, server, devices, which modality sits where, the last round's
    migrations) as a uint8 (H, W, 3) array, ``"human"`` shows it in a window (headless: one warning, nothing shown).

    >>> import gymnasium as gym, edge_envs
    >>> env = gym.make("ServiceMigration-v0", backend="bound")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_space
    ((66,), MultiDiscrete([ 8  8  8 23]))
    >>> obs, reward, terminated, truncated, info = env.step(env.unwrapped.encode_action(info["edges"], pair=2))
    >>> bool(reward < 0), info["round"]
    (True, 1)

    ## Version History

    * v0: initial version; the default backend became "bound" (it was "real", now an opt-in at 0.2-2 steps/s);
      ``info["rates"]`` (M, N) became ``info["slowest_rates"]`` (N,): a round needs each edge's slowest device alone
      (``core.uplink_rates(cfg, info["device_positions"])`` gives every device's rate without fading).
    """

    metadata = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 1, "name": "ServiceMigration-v0"}

    def __init__(
        self, config: ServiceMigrationConfig | None = None, generator=None, render_mode: str | None = None, **overrides
    ):
        cfg = ServiceMigrationConfig.from_kwargs(config, **overrides)
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.cfg = cfg
        self.generator = generator if generator is not None else RandomGenerator(cfg)
        if not callable(self.generator):
            raise ValueError(f"generator must be a callable rng -> Instance, got {generator!r}")
        self.render_mode = render_mode
        n, k = cfg.num_edges, cfg.num_modalities
        if cfg.continuous_rho:
            self.action_space = spaces.Box(0.0, 1.0, shape=(k + 1,), dtype=np.float32)
        else:
            self.action_space = spaces.MultiDiscrete([n] * k + [cfg.num_rho_choices])
        high = np.ones(2 * n + k * n + 2 + (k * n if cfg.observe_pair_costs else 0), dtype=np.float32)
        high[:n] = CAPABILITY_OBS_CAP
        self.observation_space = spaces.Box(0.0, high, dtype=np.float32)
        self._rho_grid = cfg.rho_grid
        self._rho_levels = self._rho_grid.tolist()
        self._num_rho_choices = cfg.num_rho_choices
        self._pair_levels = k if cfg.offers_pair_rho else 0
        self._pair_rhos = [core.PairRho(modality) for modality in range(self._pair_levels)]
        self._state: core.State | None = None
        self._round: rounds.CompiledRound | None = None  # the state's compiled round, where it applies
        self._last: core.RoundOutcome | None = None
        self._previous_edges: np.ndarray | None = None
        self._ended = False
        self._figure = None
        self._window = None
        if render_mode == "human":
            self._window = HumanWindow("ServiceMigration-v0", self.metadata["render_fps"])
        self.instance: Instance | None = None

    # ----------------------------------------------------------------- actions

    def decode_action(self, action) -> tuple[np.ndarray, float | core.PairRho]:
        """(edges (K,), rho or ``core.PairRho``) from an action; raises ValueError for a malformed one."""
        cfg = self.cfg
        n, k = cfg.num_edges, cfg.num_modalities
        try:
            a = np.asarray(action)
        except ValueError:  # ragged nested sequences
            a = np.empty(0)
        if a.shape != (k + 1,):
            raise ValueError(f"action must have shape ({k + 1},): {k} edges then rho, got shape {a.shape}")
        if cfg.continuous_rho:
            if not (np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating)):
                raise ValueError(f"action entries must be numbers in [0, 1], got dtype {a.dtype}")
            a = a.astype(float)
            if not (np.all(np.isfinite(a)) and np.all(a >= 0.0) and np.all(a <= 1.0)):
                raise ValueError(f"action entries must lie in [0, 1], got {action!r}")
            edges = np.minimum((a[:k] * n).astype(np.int64), n - 1)
            return edges, float(cfg.rho_min * (cfg.rho_max / cfg.rho_min) ** a[k])
        if a.dtype.kind not in "iu":  # checked on Python ints: a step's cost, unlike space.contains
            raise ValueError(f"action must hold integers (MultiDiscrete), got dtype {a.dtype}")
        *edges, level = a.tolist()
        if min(edges) < 0 or max(edges) >= n or not 0 <= level < self._num_rho_choices:
            raise ValueError(
                f"action {action!r} out of range: edges in [0, {n}), rho choice in [0, {self._num_rho_choices})"
            )
        edges = np.array(edges, dtype=np.int64)
        if level < self._pair_levels:
            return edges, self._pair_rhos[level]
        return edges, self._rho_levels[level - self._pair_levels]

    def encode_action(self, edges, rho: float | None = None, pair: int | None = None) -> np.ndarray:
        """The action placing modality k on ``edges[k]`` with ratio ``rho`` (discrete: the nearest grid level
        in log scale; Box: exact up to float32), or with Eq. (31)'s rho of modality ``pair``'s pair
        (discrete with ``pair_rho_levels`` only)."""
        cfg = self.cfg
        edges = np.asarray(edges, dtype=np.int64)
        if edges.shape != (cfg.num_modalities,) or np.any((edges < 0) | (edges >= cfg.num_edges)):
            raise ValueError(f"edges must be {cfg.num_modalities} integers in [0, {cfg.num_edges}), got {edges!r}")
        if (rho is None) == (pair is None):
            raise ValueError("give exactly one of rho (a ratio > 0) and pair (a modality index)")
        if pair is not None:
            if not (self._pair_levels and isinstance(pair, (int, np.integer)) and 0 <= pair < self._pair_levels):
                raise ValueError(
                    f"pair must be a modality in [0, {cfg.num_modalities}) and the env made with "
                    f"pair_rho_levels=True and continuous_rho=False, got pair={pair!r}"
                )
            return np.append(edges, int(pair)).astype(np.int64)
        if not rho > 0:
            raise ValueError(f"rho must be > 0, got {rho!r}")
        if cfg.continuous_rho:
            share = libm.log(rho / cfg.rho_min) / libm.log(cfg.rho_max / cfg.rho_min)
            return np.append((edges + 0.5) / cfg.num_edges, np.clip(share, 0.0, 1.0)).astype(np.float32)
        level = int(np.argmin(np.abs(libm.log(self._rho_grid) - libm.log(rho))))
        return np.append(edges, self._pair_levels + level).astype(np.int64)

    # ----------------------------------------------------------------- episode

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``options={"instance": Instance}`` plays that instance instead of drawing one."""
        options = check_reset_options(options, "ServiceMigration", RESET_OPTIONS)
        super().reset(seed=check_seed(seed))
        if "instance" in options:
            instance = options["instance"]
            if not isinstance(instance, Instance):
                raise ValueError(f"options['instance'] must be a generator.Instance, got {instance!r}")
        else:
            instance = draw_instance(self.generator, self.np_random, Instance)
        self._state = core.initial(self.cfg, instance, self.np_random)
        self._compile_round()
        self.instance = instance
        self._last, self._previous_edges, self._ended = None, None, False
        return self._observation(), self._info(None, None)

    def step(self, action):
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if self._ended:
            raise RuntimeError("the episode has ended (terminated or truncated); call reset()")
        edges, rho = self.decode_action(action)
        previous = self._state.edges
        if self._round is not None:  # the compiled round: the state's arrays change in place
            previous = previous.copy()
            outcome, obs = self._round.step(edges, rho, self.np_random)
        else:
            self._state, outcome = core.transition(self._state, (edges, rho), self.np_random)
            obs = self._observation()
        self._last, self._previous_edges = outcome, previous
        terminated = outcome.reached_target
        truncated = not terminated and self._state.round >= self.cfg.max_rounds
        self._ended = terminated or truncated
        reward = -outcome.round_time * self.cfg.reward_scale
        return obs, float(reward), terminated, truncated, self._info(outcome, edges)

    def _compile_round(self) -> None:
        """Play the state's rounds compiled (rounds.CompiledRound, made once) where that applies."""
        if rounds.applies(self.cfg):
            if self._round is None:
                self._round = rounds.CompiledRound(self.cfg, observation_scales(self.cfg))
            self._round.load(self._state)

    def _observation(self) -> np.ndarray:
        state = self._state
        costs = state.costs() if self.cfg.observe_pair_costs else None
        return observation_rows(
            self.cfg,
            state.capability[None],
            state.device_positions[None],
            state.edges[None],
            np.array([state.learner.progress], dtype=float),
            np.array([state.round], dtype=np.int64),
            costs,
        )[0]

    def _info(self, outcome: core.RoundOutcome | None, requested) -> dict:
        state, learner = self._state, self._state.learner
        info = {
            "round": state.round,
            "wall_clock": state.wall_clock,
            "edges": state.edges.copy(),
            "device_positions": state.device_positions.copy(),
            "capability": state.capability.copy(),
            "slowest_rates": state.slowest_rates.copy(),
            "loss": float(learner.loss) if outcome is None else outcome.loss,
            "accuracy": None if learner.accuracy is None else float(learner.accuracy),
            "progress": float(learner.progress),
            "communication_cost": state.communication_cost,
            "computation_cost": state.computation_cost,
        }
        if outcome is not None:
            times = outcome.times
            info["requested_edges"] = np.array(requested, dtype=np.int64)
            info["repaired"], info["rho"], info["samples"] = outcome.repaired, outcome.rho, outcome.samples
            info["round_time"] = outcome.round_time
            info["migration_time"], info["upload_time"] = times.migration.copy(), times.upload.copy()
            info["communication_time"] = times.communication  # a new array at each call
            info["computation_time"] = times.compute.copy()
        return info

    def render(self):
        if self._state is None or self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            state, last = self._state, self._last
            head = f"round {state.round}  wall-clock {state.wall_clock:.4g} s  loss {state.learner.loss:.4g}"
            if last is None:
                return head + f"  edges {state.edges.tolist()}"
            return head + f"  edges {last.edges.tolist()}  rho {last.rho:.4g}  round time {last.round_time:.4g} s"
        from edge_envs.service_migration import render as draw  # matplotlib is imported only to draw

        if self._figure is None:
            self._figure = new_figure(*draw.SIZE_PX)
        image = draw.picture(self._figure, self._state, self._last, self._previous_edges)
        if self._window is not None:
            self._window.show(image)
            return None
        return image

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_figure"] = None  # a figure is redrawn on demand; it does not pickle
        state["_round"] = None  # compiled functions: made again when unpickled
        if self._window is not None:
            state["_window"] = HumanWindow("ServiceMigration-v0", self.metadata["render_fps"])
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._round = None
        if "cfg" in state and "_pair_rhos" not in state:  # an env pickled by an older release (in RLlib checkpoints)
            self._pair_rhos = [core.PairRho(modality) for modality in range(self._pair_levels)]
        if state.get("_state") is not None:
            self._compile_round()

    def close(self):
        self._figure = None
        if self._window is not None:
            self._window.close()
        super().close()
