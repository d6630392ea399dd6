"""Gymnasium shells of EdgePartition: the single env, the batched vector env, and the observation encoding.

The dynamics live in :mod:`edge_envs.edge_partition.core`; this module builds spaces, validates
actions with cheap integer checks, encodes observations, and handles seeding and autoreset.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numba
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from edge_envs.edge_partition import core
from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.generator import Instance, RandomGenerator, ToyGenerator
from edge_envs.edge_partition.kernels import PARALLEL_ROWS, CompiledCore, CompiledDevices, step_arrays
from edge_envs.edge_partition.layout import (
    DELAY,
    DEVICE_QUEUE_END,
    ENERGY,
    ENERGY_LEFT,
    NEXT_TASKS,
    OUTAGE,
    PENALTY,
    RAN_OUT,
    REWARD,
    SCALARS,
    STATIC_KEYS,
    ObservationLayout,
    Outcome,
)
from edge_envs.edge_partition.render import draw
from edge_envs.render import HumanWindow, check_render_mode
from edge_envs.reset import check_reset_options, check_seed, draw_instance

# ------------------------------------------------------------------------------------------------
# observation encoding (shared by the single, vector and multi-agent envs)


def observation_layout(cfg: EdgePartitionConfig) -> ObservationLayout:
    """Where each part of the observation lies (layout.OBSERVATION; the table of :class:`EdgePartitionEnv`)."""
    return ObservationLayout(cfg.num_blocks, cfg.num_servers)


def observation_size(cfg: EdgePartitionConfig) -> int:
    """5 M + 3 N + 4 entries: see :class:`EdgePartitionEnv`'s observation table."""
    return observation_layout(cfg).size


def _squash(x):
    """x / (1 + x): maps [0, inf) onto [0, 1), keeping order and resolution near 0."""
    return x / (1.0 + x)


def static_features(cfg: EdgePartitionConfig, blocks: core.Blocks) -> np.ndarray:
    """(A, 4 M): the layout.STATIC_KEYS parts in their order: squashed local latency, edge latency, input
    and output size of each block, each scaled to a utilisation: times task_rate (sizes over the lowest
    wireless rate)."""
    rate = cfg.task_rate
    lowest = cfg.rate_range_bps[0]
    parts = {
        "local_latency": _squash(rate * blocks.local_time),
        "edge_latency": _squash(rate * blocks.edge_work),
        "input_size": _squash(rate * blocks.input_bits / lowest),
        "output_size": _squash(rate * blocks.output_bits / lowest),
    }
    return np.concatenate([parts[key] for key in STATIC_KEYS], axis=-1)


def encode(
    cfg: EdgePartitionConfig, static: np.ndarray, deadline, speed, queue, access, device_queue, tasks, energy_left, slot
) -> np.ndarray:
    """Observations (R, A, 5 M + 3 N + 4) float32 from per-row arrays: deadline (R, A, M), speed and
    queue (R, N), access (R, A, N) s/bit, device_queue, tasks and energy_left (R, A), slot (R,)."""
    R, A, _ = deadline.shape
    lay = observation_layout(cfg)
    out = np.empty((R, A, lay.size), dtype=np.float32)
    out[..., lay.static] = static
    # scales are applied as multiplications by reciprocals, as the compiled core does (kernels.CompiledCore)
    out[..., lay.deadline] = deadline * (1.0 / cfg.deadline_s[1])
    out[..., lay.speed] = (speed * (1.0 / cfg.server_speed_factor[1]))[:, None]
    out[..., lay.queue] = _squash(queue * (1.0 / cfg.slot_s))[:, None]
    out[..., lay.rate] = 1.0 / (access * cfg.rate_range_bps[1])
    out[..., lay.device_queue] = _squash(device_queue * (1.0 / cfg.slot_s))
    out[..., lay.tasks] = _squash(tasks * (1.0 / (cfg.task_rate * cfg.slot_s)))
    out[..., lay.energy] = np.minimum(np.maximum(energy_left, 0.0) * (1.0 / cfg.energy_budget_j), 1.0)
    out[..., lay.time_left] = ((cfg.episode_slots - slot) * (1.0 / cfg.episode_slots))[:, None]
    return out


def encode_state(state: core.State, static: np.ndarray) -> np.ndarray:
    """Observations (B, A, dim) of a batched state."""
    return encode(
        state.cfg,
        static,
        state.deadline_now,
        state.speed_now,
        state.queue,
        state.access_now,
        state.device_queue,
        state.tasks_now,
        state.energy_left,
        state.slot,
    )


def default_generator(cfg: EdgePartitionConfig):
    """ToyGenerator for ``model="toy"``, else RandomGenerator over the measured profiles."""
    return ToyGenerator() if cfg.model == "toy" else RandomGenerator(cfg)


ENV_NAME = "EdgePartition"  # how reset's errors name the EdgePartition envs (single, vector, multi-device)


def _bad_action(what: str, cfg: EdgePartitionConfig, got) -> ValueError:
    return ValueError(
        f"action: {what}; expected {cfg.num_blocks} integer locations in [0, {cfg.num_servers}] "
        f"(0 = device, n = edge server n), got {got!r}"
    )


def check_placement(action, cfg: EdgePartitionConfig) -> list[int]:
    """A single env's action as a list of M ints, with cheap checks and errors naming the problem."""
    M, N = cfg.num_blocks, cfg.num_servers
    if isinstance(action, np.ndarray):
        if action.shape != (M,):
            raise _bad_action(f"wrong shape {action.shape}", cfg, action)
        if action.dtype.kind not in "iu":
            if action.dtype.kind == "f" and np.isnan(action).any():
                raise _bad_action("contains NaN", cfg, action)
            raise _bad_action(f"dtype {action.dtype} is not an integer type", cfg, action)
        values = action.tolist()
    elif isinstance(action, (list, tuple)):
        values = list(action)
        if len(values) != M:
            raise _bad_action(f"wrong length {len(values)}", cfg, action)
        for v in values:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                what = "contains NaN" if isinstance(v, float) and v != v else f"{v!r} is not an integer"
                raise _bad_action(what, cfg, action)
        values = [int(v) for v in values]
    else:
        raise _bad_action(f"type {type(action).__name__} is not an array or sequence", cfg, action)
    if min(values) < 0 or max(values) > N:
        raise _bad_action("location out of range", cfg, action)
    return values


# ------------------------------------------------------------------------------------------------
# the single env

_FIRST_ROW = np.zeros(1, dtype=np.int64)  # the single env's state has one row


class EdgePartitionEnv(gym.Env):
    """Fine-grained DNN partitioning between an IoT device and N edge servers (the TMC 2024 paper).

    ## Description
    An IoT device releases ``task_rate`` inference tasks per second of one DNN (default VGG16 on
    CIFAR-10 inputs, cut into M = 6 blocks). Each 1 s slot the agent places every block on the device
    or on one of N = 4 edge servers; the slot's tasks follow that placement. A block's delay is the
    transfer of its input from the previous block's location (wireless between the device and a
    server, the wired R_max between servers), its wait in the queue of its location, and its compute
    time from the measured profile scaled by the location's speed (Eqs. 3-9). Server queues carry
    work over slots, server speeds follow a background load, the device moves (random waypoint) so
    its rates follow distance and Rayleigh fading, and its energy budget is drawn by local compute
    and transmissions (Eqs. 4, 7, 11). All dynamics: :mod:`edge_envs.edge_partition.core`; the
    numbers and their calibration: :class:`EdgePartitionConfig`.

    ## Action Space
    ``MultiDiscrete([N + 1] * M)``: entry m is block m's location, 0 = the device, n = edge server n.
    Actions are checked with integer tests: a wrong shape, a non-integer dtype, NaN or an
    out-of-range location raises a ``ValueError`` saying what is allowed.

    ## Observation Space
    ``Box(0, 1, (5 M + 3 N + 4,), float32)``; ``s(x) = x / (1 + x)``, lambda = ``task_rate``:

    | index            | observation                                          | encoding                       |
    |------------------|------------------------------------------------------|--------------------------------|
    | 0 .. M-1         | local latency of each block on the device            | s(lambda * latency)            |
    | M .. 2M-1        | edge latency of each block (profile, speed 1)        | s(lambda * latency)            |
    | 2M .. 3M-1       | input size of each block (block 0: the raw image)    | s(lambda * bits / lowest rate) |
    | 3M .. 4M-1       | output size of each block                            | s(lambda * bits / lowest rate) |
    | 4M .. 5M-1       | deadline tau_m of each block this slot               | tau / highest deadline         |
    | 5M .. 5M+N-1     | speed of each server this slot                       | speed / highest base speed     |
    | 5M+N .. 5M+2N-1  | queued work of each server (seconds to drain)        | s(backlog / slot_s)            |
    | 5M+2N .. 5M+3N-1 | rate from the device to each server (relays incl.)   | rate / highest wireless rate   |
    | 5M+3N            | queued work of the device's CPU                      | s(backlog / slot_s)            |
    | 5M+3N+1          | tasks released this slot                             | s(tasks / (lambda * slot_s))   |
    | 5M+3N+2          | remaining energy                                     | E_left / E_max                 |
    | 5M+3N+3          | time left                                            | (T - t) / T                    |

    ## Rewards
    Eq. (14) per task, averaged over the slot's tasks: ``-(sum_m L_m + penalty_weight * psi)`` with
    ``psi = sum_m max(L_m - tau_m, 0)`` (Eq. 13). In the slot where the energy runs out, the reward is
    also charged ``outage_cost_s`` for every slot left. ``info`` reports the slot's ``delay``,
    ``penalty``, ``energy`` (J), ``outage``, the per-block breakdown (``block_delay``,
    ``block_transfer``, ``block_compute``, ``block_wait``, ``block_excess``), ``server_load``
    (utilisation) and the ``placement``; and, for the slot now starting (also after ``reset``):
    ``energy_left`` (J; infinite when ``contention_free``), ``queue`` (s of work per server),
    ``device_queue`` (s), ``server_speed``, ``rate`` (bit/s from the device to each server), ``tasks``
    and ``deadline`` (s per block).

    ## Starting State
    Empty queues and a full energy budget; servers placed uniformly in the area with base speeds
    drawn from ``server_speed_factor``; the device starts at a uniform position. Each slot's tasks,
    deadlines, background load, move and fading are drawn when the slot starts, from the episode's
    random stream (:func:`edge_envs.edge_partition.processes.draw_slot`), itself seeded from the env's
    generator: the same seed and actions give the same trajectory.

    ## Episode End
    Terminated when the device's energy is spent; truncated after ``episode_slots`` slots (600).

    ## Arguments
    ``gym.make("EdgePartition-v0", config=EdgePartitionConfig(...), generator=None, **fields)``:
    any :class:`EdgePartitionConfig` field as a keyword (e.g. ``model="resnet32", num_blocks=9,
    num_servers=7, task_rate=110``); ``contention_free=True`` gives the contention-free scenario.
    ``generator``: a callable ``rng -> Instance`` (default :class:`RandomGenerator`;
    :class:`ToyGenerator` for ``model="toy"``); anything else it returns raises a TypeError.
    ``render_mode``: ``"ansi"`` (a line of text), ``"rgb_array"`` (a uint8 (400, 720, 3) picture:
    the area, the servers with their coverage and queued work, the device and its links, where each
    block of the last slot ran; see docs/edge_partition.png) or ``"human"`` (that picture in a
    window, drawn at every step). ``reset(seed=None, options=None)``: the env takes no reset options;
    any (other than None or ``{}``) raises a ValueError.

    >>> import gymnasium as gym, edge_envs
    >>> env = gym.make("EdgePartition-v0", task_rate=90)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_space
    ((46,), MultiDiscrete([5 5 5 5 5 5]))

    ## Version History
    * v0: initial release. Revised before any result was published (2026-11-23): the exogenous
      processes are drawn slot by slot from a per-episode splitmix64 stream instead of traces drawn
      at the reset, in float64 instead of float32. The model and its distributions are unchanged;
      a given seed gives a different trajectory than before.
    """

    metadata = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 2}

    def __init__(
        self, config: EdgePartitionConfig | None = None, generator=None, render_mode: str | None = None, **overrides
    ):
        self.cfg = cfg = EdgePartitionConfig.from_kwargs(config, **overrides)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.generator = generator if generator is not None else default_generator(cfg)
        M, N = cfg.num_blocks, cfg.num_servers
        self.action_space = spaces.MultiDiscrete(np.full(M, N + 1, dtype=np.int64))
        self.observation_space = spaces.Box(0.0, 1.0, (observation_size(cfg),), np.float32)
        self._outcome = Outcome(M, N)
        self._action_shape = (M,)
        self._step_core = None  # the compiled step of the current core (CompiledDevices.serial_step)
        self._active = np.ones(1, dtype=bool)
        self._core: CompiledDevices | None = None
        self._last: dict | None = None
        self._window = HumanWindow("EdgePartition-v0", self.metadata["render_fps"]) if render_mode == "human" else None

    @property
    def state(self) -> core.State:
        """The current state as a batched core.State (B = 1, a copy), for baselines and references."""
        if self._core is None:
            raise RuntimeError("call reset() before reading the state")
        return self._core.state.rows(slice(None))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_options(options, ENV_NAME)
        super().reset(seed=check_seed(seed))
        cfg = self.cfg
        instance = draw_instance(self.generator, self.np_random, Instance)
        if self._core is not None and instance.same_blocks(self.instance):
            # the same blocks: the episode starts in the compiled core's state (as core.initial would
            # start it), which keeps its constants: a reset then costs less than half as much
            state = self._core.state
            core.start_episodes(state, _FIRST_ROW, [instance], self.np_random)
        else:
            state = core.initial(cfg, instance, self.np_random)
            self._core = CompiledDevices(state, static_features(cfg, state.blocks))
            self._compile_step()
        self.instance = instance
        self._done = False
        self._slot = 0  # state.slot[0], as a Python int
        self._last = None
        obs = np.empty((1, self.observation_space.shape[0]), dtype=np.float32)
        self._core.observe(obs[:, None])
        if self._window is not None:
            self.render()
        return obs[0], self._slot_info({"queue": state.queue[0].copy()})

    def _compile_step(self) -> None:
        """The core's compiled step for the arrays :meth:`step` passes (CompiledDevices.serial_step)."""
        self._step_core = self._core.serial_step(
            np.zeros(self.cfg.num_blocks, dtype=np.int64),
            self._active,
            np.empty(self._outcome.size),
            np.empty(self.observation_space.shape, dtype=np.float32),
        )

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_step_core": None}  # a compiled function: made again when unpickled

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if state.get("_core") is not None:  # .get: an env pickled by an older release (in RLlib checkpoints) lacks it
            self._compile_step()

    def _slot_info(self, info: dict) -> dict:
        """The part of ``info`` about the slot now starting."""
        state = self._core.state
        info["energy_left"] = float(state.energy_left[0, 0])
        info["device_queue"] = float(state.device_queue[0, 0])
        info["server_speed"] = state.speed_now[0].copy()
        info["rate"] = 1.0 / state.access_now[0, 0]
        info["tasks"] = float(state.tasks_now[0, 0])
        info["deadline"] = state.deadline_now[0, 0].copy()
        return info

    def step(self, action):
        if self._core is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode has ended (terminated or truncated); call reset()")
        if isinstance(action, np.ndarray) and action.shape == self._action_shape and action.dtype.kind in "iu":
            placement = action.astype(np.int64)  # the common case (a copy); the kernel checks the range
        else:
            placement = np.array(check_placement(action, self.cfg), dtype=np.int64)
        # one row and one device: the arrays of CompiledDevices.serial_step
        values = np.empty(self._outcome.size)
        obs = np.empty(self.observation_space.shape, dtype=np.float32)
        if self._step_core(placement, self._active, values, obs) >= 0:
            raise _bad_action("location out of range", self.cfg, action)
        scalars = values[:SCALARS].tolist()
        terminated = scalars[RAN_OUT] != 0.0
        self._slot += 1
        truncated = self._slot >= self.cfg.episode_slots
        self._done = terminated or truncated
        part = self._outcome  # info's arrays are views of the outcome row; a dict literal is built fastest
        info = {
            "delay": scalars[DELAY],
            "penalty": scalars[PENALTY],
            "energy": scalars[ENERGY],
            "outage": scalars[OUTAGE],
            "device_queue": scalars[DEVICE_QUEUE_END],
            "tasks": scalars[NEXT_TASKS],
            "energy_left": scalars[ENERGY_LEFT],
            "placement": placement,
            "block_delay": values[part.block_delay],
            "block_transfer": values[part.block_transfer],
            "block_compute": values[part.block_compute],
            "block_wait": values[part.block_wait],
            "block_excess": values[part.block_excess],
            "server_load": values[part.server_load],
            "queue": values[part.queue],
            "server_speed": values[part.server_speed],
            "rate": values[part.rate],
            "deadline": values[part.deadline],
        }
        self._last = info
        if self._window is not None:
            self.render()
        return obs, scalars[REWARD], terminated, truncated, info

    def render(self):
        """``ansi``: a line about the slot; ``rgb_array``: the picture (:mod:`edge_partition.render`) as a
        uint8 (H, W, 3) array; ``human``: that picture in a window (drawn at every step)."""
        if self.render_mode is None or self._core is None:
            return None
        state = self._core.state
        if self.render_mode != "ansi":
            placement = None if self._last is None else self._last["placement"][None]
            frame = draw(state, placement)
            if self._window is None:
                return frame
            self._window.show(frame)
            return None
        queue = " ".join(f"{q:.2f}" for q in state.queue[0])
        last = (
            ""
            if self._last is None
            else (
                f" last placement {self._last['placement'].tolist()} delay "
                f"{self._last['delay']:.3f} s penalty {self._last['penalty']:.3f} s"
            )
        )
        return f"slot {state.slot[0]}: queues [{queue}] s, energy {state.energy_left[0, 0]:.1f} J{last}"

    def close(self):
        if self._window is not None:
            self._window.close()


# ------------------------------------------------------------------------------------------------
# the vector env

DRAW_BATCH = 64  # the vector env draws episode starts ahead once this many rows lack one
THREADS_VARIABLE = "EDGE_ENVS_NUM_THREADS"  # the vector env's default num_threads when set


def resolve_threads(num_threads) -> int:
    """The vector env's thread count: ``num_threads``, else ``$EDGE_ENVS_NUM_THREADS``, else 1."""
    source = "num_threads"
    if num_threads is None:
        num_threads, source = os.environ.get(THREADS_VARIABLE, "1"), THREADS_VARIABLE
        num_threads = int(num_threads) if num_threads.strip().isdigit() else num_threads
    top = numba.config.NUMBA_NUM_THREADS
    if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or not 1 <= num_threads <= top:
        raise ValueError(
            f"{source} must be an integer in [1, {top}] (numba.config.NUMBA_NUM_THREADS), got {num_threads!r}"
        )
    return int(num_threads)


def row_seeds(seed, num_envs: int) -> list:
    """One seed (an int or None) per row of a vector env, from ``reset``'s ``seed``: None, an integer
    (row i gets ``seed + i``) or one seed per row (each checked by ``edge_envs.reset.check_seed``)."""
    try:
        if isinstance(seed, (list, tuple, np.ndarray)) and len(seed) == num_envs:
            return [check_seed(s) for s in seed]
        first = check_seed(seed)
    except ValueError:
        raise ValueError(
            f"seed: expected None, an integer >= 0 (row i gets seed + i) or a list of {num_envs} such "
            f"integers or None (one per env), got {seed!r}"
        ) from None
    return [None] * num_envs if first is None else [first + i for i in range(num_envs)]


class EdgePartitionVectorEnv(VectorEnv):
    """``num_envs`` EdgePartition instances stepped together by the compiled core, in one call.

    Row i behaves exactly as ``EdgePartitionEnv`` reset with seed ``seed + i`` (each row has its own
    Generator and random stream), so the same seeds and actions give the same trajectories in both.
    Autoreset follows Gymnasium's next-step mode: the step after a row ends resets it (reward 0,
    action ignored). ``info`` holds per-row arrays: ``delay``, ``penalty``, ``energy``, ``outage``,
    ``energy_left``. ``state`` (a core.State) is advanced in place.

    Arguments as for :class:`EdgePartitionEnv`, plus ``num_envs`` and ``num_threads``: how many
    threads step the rows (from ``kernels.PARALLEL_ROWS`` = 256 rows on; the results never depend on
    it). Default 1, or the environment variable ``EDGE_ENVS_NUM_THREADS``: one thread is the default
    because an RL run steps the env beside a learner, and numba's threads, which wait for each other
    at every step, then wait for a descheduled one: on a busy machine a threaded step collapses while
    a one-thread step slows in proportion (``python -m benchmarks.throughput_edge_partition`` measures
    both, alone and beside a busy process, into benchmarks/results/throughput_edge_partition.md).
    Opt in to more threads (at most ``numba.config.NUMBA_NUM_THREADS``) on an otherwise idle machine.
    ``reset(seed=...)``: None, an int (row i gets ``seed + i``) or one seed per row; ``options``:
    none are taken (None or ``{}``).
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        config: EdgePartitionConfig | None = None,
        generator=None,
        render_mode: str | None = None,
        num_threads: int | None = None,
        **overrides,
    ):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.num_threads = resolve_threads(num_threads)
        check_render_mode(render_mode, self.metadata["render_modes"])  # the vector env does not render
        self.cfg = cfg = EdgePartitionConfig.from_kwargs(config, **overrides)
        self.num_envs = int(num_envs)
        self.render_mode = None
        self.generator = generator if generator is not None else default_generator(cfg)
        M, N = cfg.num_blocks, cfg.num_servers
        self.single_action_space = spaces.MultiDiscrete(np.full(M, N + 1, dtype=np.int64))
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = spaces.Box(0.0, 1.0, (observation_size(cfg),), np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.state: core.State | None = None
        self._core: CompiledCore | None = None
        self._rngs: list[np.random.Generator] | None = None
        self._next: core.State | None = None  # each row's next episode start, drawn ahead (see _draw_ahead)
        self._ready: np.ndarray | None = None  # (B,) bool: the row of _next is drawn

    def _start(self, state: core.State, rows: np.ndarray) -> None:
        """Start fresh episodes in ``rows`` of ``state``, each drawn from its row's Generator."""
        rngs = [self._rngs[i] for i in rows.tolist()]
        core.start_episodes(state, rows, [draw_instance(self.generator, rng, Instance) for rng in rngs], rngs)

    def _draw_ahead(self, rows: np.ndarray) -> None:
        """Make sure each of ``rows`` (an int array) has its next episode start drawn in ``_next``.

        A row's next episode start is drawn ahead of need: its Generator makes the same draws in the
        same order as drawing at the reset itself would, so trajectories are unchanged, but the starts
        of many rows are drawn together (a few rows per step would cost more than the step itself).
        Rows not yet pre-drawn are drawn now; :meth:`_used` draws the others in batches.
        """
        missing = rows[~self._ready[rows]]
        if missing.size:
            self._start(self._next, missing)
            self._ready[missing] = True

    def _used(self, rows: np.ndarray) -> None:
        """``rows`` have started their pre-drawn episodes; once ``DRAW_BATCH`` rows (or a quarter of
        the rows, at least one) lack a pre-drawn start, those are drawn together."""
        self._ready[rows] = False
        if np.count_nonzero(~self._ready) >= min(DRAW_BATCH, max(1, self.num_envs // 4)):
            refill = np.flatnonzero(~self._ready)
            self._start(self._next, refill)
            self._ready[refill] = True

    def reset(self, *, seed: int | list | None = None, options: dict[str, Any] | None = None):
        B = self.num_envs
        seeds = row_seeds(seed, B)
        check_reset_options(options, ENV_NAME)
        super().reset(seed=seeds[0])
        seeded = seed is not None or self._rngs is None  # without a seed, each row's Generator continues
        if seeded:
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
            self.state = core.initial(
                self.cfg, [draw_instance(self.generator, rng, Instance) for rng in self._rngs], self._rngs
            )
            self._next = self.state.rows(slice(None))  # placeholder rows until pre-drawn
            self._ready = np.zeros(B, dtype=bool)
        else:
            self.state = self.state.rows(slice(None))  # a fresh State: the caller may hold the old one
        self._fresh = step_arrays(self._next)
        if not seeded:  # the pre-drawn starts come first in each row's Generator
            rows = np.arange(B)
            self._draw_ahead(rows)
            core.copy_rows(rows, rows, self.state.array_pairs(self._next))
            self._used(rows)
        parallel = self.num_threads > 1 and B >= PARALLEL_ROWS
        self._core = CompiledCore(self.state, static_features(self.cfg, self.state.blocks), parallel, self.num_threads)
        self._out = np.empty((SCALARS, B)).T  # the scalars only; each one's column is contiguous
        self._prev_done = np.zeros(B, dtype=bool)
        obs = np.empty(self.observation_space.shape, dtype=np.float32)
        self._core.observe(obs)
        return obs, {}

    def _placements(self, actions) -> np.ndarray:
        """Actions as a contiguous int64 (B, M) array; shape and dtype checked here, the range of
        each location by the kernel."""
        cfg = self.cfg
        allowed = (
            f"{cfg.num_blocks} integer locations in [0, {cfg.num_servers}] per row (0 = device, n = edge server n)"
        )
        try:
            a = np.asarray(actions)
        except ValueError:  # numpy refuses ragged nested lists
            raise ValueError(
                f"actions: not a rectangular array (rows of different lengths or types); expected shape "
                f"({self.num_envs}, {cfg.num_blocks}) with {allowed}"
            ) from None
        if a.shape != (self.num_envs, cfg.num_blocks):
            raise ValueError(f"actions: expected shape ({self.num_envs}, {cfg.num_blocks}), got {a.shape}; {allowed}")
        if a.dtype.kind not in "iu":
            what = "NaN" if a.dtype.kind == "f" and np.isnan(a).any() else f"dtype {a.dtype}"
            raise ValueError(f"actions: got {what}; expected {allowed}")
        return np.ascontiguousarray(a, dtype=np.int64)

    def step(self, actions):
        if self._core is None:
            raise RuntimeError("call reset() before step()")
        placement = self._placements(actions)
        done, out = self._prev_done, self._out
        # next-step autoreset: the rows that ended last step start their next episode (reward 0, not
        # terminated) inside the compiled step, from the starts drawn ahead
        rows = np.flatnonzero(done) if done.any() else None
        if rows is not None:
            self._draw_ahead(rows)
        obs = np.empty(self.observation_space.shape, dtype=np.float32)
        bad = self._core.step(placement, ~done, out, obs, None if rows is None else self._fresh)
        if bad >= 0:
            raise ValueError(
                f"actions: row {bad} has locations {placement[bad].tolist()}; each must lie in "
                f"[0, {self.cfg.num_servers}] (0 = device, n = edge server n)"
            )
        if rows is not None:
            self._used(rows)
        scalars = out.T[: RAN_OUT + 1].copy()
        terminated = scalars[RAN_OUT] != 0.0
        truncated = (self.state.slot >= self.cfg.episode_slots) & ~done
        self._prev_done = terminated | truncated
        info = {
            "delay": scalars[DELAY],
            "penalty": scalars[PENALTY],
            "energy": scalars[ENERGY],
            "outage": scalars[OUTAGE],
            "energy_left": self.state.energy_left[:, 0].copy(),
        }
        return obs, scalars[REWARD], terminated, truncated, info
