"""The multi-agent EdgePartition env (PettingZoo Parallel API); :mod:`edge_envs.edge_partition_multi_v0`
re-exports it under PettingZoo's module convention."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from edge_envs.config import DNN_MODELS, check_bool
from edge_envs.edge_partition import core, kernels, layout
from edge_envs.edge_partition.config import EdgePartitionConfig
from edge_envs.edge_partition.env import (
    ENV_NAME,
    _bad_action,
    check_placement,
    observation_size,
    row_seeds,
    static_features,
)
from edge_envs.edge_partition.generator import Instance, RandomGenerator
from edge_envs.edge_partition.render import draw
from edge_envs.render import HumanWindow, check_render_mode
from edge_envs.reset import check_reset_options, check_seed, draw_instance

DEFAULT_MODELS = ("alexnet", "vgg16", "nin", "resnet32")
MULTI_TASK_RATE = 40.0


class EdgePartitionMultiEnv(ParallelEnv):
    """One agent per IoT device; every device runs its own DNN and task stream, all share the servers.

    | Import             | ``from edge_envs import edge_partition_multi_v0``                |
    |--------------------|------------------------------------------------------------------|
    | Actions            | Discrete (MultiDiscrete)                                         |
    | Parallel API       | Yes                                                              |
    | Manual Control     | No                                                               |
    | Agents             | ``agents = ['iot_0', 'iot_1', 'iot_2', 'iot_3']``                |
    | Agents             | 4 (one per entry of ``models``)                                  |
    | Action Shape       | (M,) = (6,)                                                      |
    | Action Values      | 0 .. N = 0 .. 4 per block (0 = the device, n = edge server n)    |
    | Observation Shape  | (5M + 3N + 4,) = (46,)                                           |
    | Observation Values | [0, 1]                                                           |

    ## Description
    The dynamics of EdgePartition-v0 (:mod:`edge_envs.edge_partition.core`) with A devices: device
    ``iot_i`` releases ``task_rate`` tasks per second of ``models[i]`` (each cut into
    ``num_blocks`` blocks) and places them each slot. A server's utilisation sums every device's
    work on it, so the devices contend for the servers' queues; each device has its own CPU queue,
    position (random waypoint), fading links and energy budget. Default: 4 devices running AlexNet,
    VGG16, NiN and ResNet32 at 40 tasks/s each over 4 servers (about 0.7 of the system's capacity
    on average, so devices that pile on one server overload it). A step runs every device through one
    compiled call (``kernels.CompiledDevices``, bit-identical to ``core.transition``), which advances
    ``env.core_state`` in place; :class:`EdgePartitionMultiVectorEnv` steps many copies of the env at once
    (arrays over copies and agents) for training.

    ## Action Space
    Per agent ``MultiDiscrete([N + 1] * M)``: block m's location, 0 = the device, n = edge server n.
    ``step`` takes a dict with one action per live agent (``env.agents``); a missing, unknown or
    finished agent's key, or anything but a dict, raises an error naming the live agents.

    ## Observation Space
    Per agent ``Box(0, 1, (5 M + 3 N + 4,), float32)``, laid out as EdgePartition-v0's observation
    (``layout.OBSERVATION``: its own blocks, deadlines, rates, CPU queue and energy; the shared servers'
    speeds and queues). ``state()`` is the global state for centralised critics (MAPPO): every agent's
    observation concatenated in ``possible_agents`` order, in ``state_space``, ``Box(0, 1, (A (5M + 3N + 4),))``.
    The core state (``core.State``) is ``env.core_state``.

    ## Rewards
    Per agent, Eq. (14) over its own slot's tasks: ``-(delay + penalty_weight * penalty)`` per task,
    plus the outage charge in the slot its energy runs out. ``infos[agent]`` reports ``delay``,
    ``penalty``, ``energy``, ``outage``, ``block_delay``, ``server_load`` (all devices) and, for the
    next slot, ``energy_left``, ``queue`` (shared), ``device_queue``, ``server_speed`` and ``rate``. ``reset``
    gives the same keys, those about the last slot zero.

    ## Starting State
    As EdgePartition-v0, with each device at its own uniform position. ``reset(seed, options)``
    takes no options (None or ``{}``); others are ignored with a warning (PettingZoo's API test passes
    ``{"options": 1}``), and options that are not a dict raise a ValueError.

    ## Episode End
    An agent terminates when its energy is spent (its tasks stop loading the servers); all agents are
    truncated after ``episode_slots`` slots. With ``black_death=True`` an agent whose energy is spent
    stays in ``env.agents`` to the end instead (never terminated; its actions are ignored, its rewards
    0, ``infos[agent]["energy_left"]`` 0), so every agent is truncated together: what wrappers that need
    a fixed set of agents ask for (SuperSuit's ``pettingzoo_env_to_vec_env_v1``, whose ``black_death_v3``
    never ends an episode that is truncated rather than terminated; TorchRL's ``PettingZooWrapper``).

    ## Arguments
    ``parallel_env(config=None, models=DEFAULT_MODELS, generator=None, render_mode=None, black_death=False,
    **fields)``:
    fields of :class:`EdgePartitionConfig` (``task_rate`` defaults to 40 here; ``model`` is unused);
    ``generator``: a callable ``rng -> Instance`` with one block table per device; ``black_death``: see
    Episode End;
    ``render_mode``: ``"ansi"``, ``"rgb_array"`` (a uint8 picture of the area, the devices, their
    links and where each block ran) or ``"human"`` (that picture in a window).

    >>> from edge_envs import edge_partition_multi_v0
    >>> env = edge_partition_multi_v0.parallel_env(episode_slots=10)
    >>> observations, infos = env.reset(seed=0)
    >>> env.agents
    ['iot_0', 'iot_1', 'iot_2', 'iot_3']
    >>> observations["iot_0"].shape, env.action_space("iot_0")
    ((46,), MultiDiscrete([5 5 5 5 5 5]))
    >>> _ = env.step({agent: np.ones(6, dtype=np.int64) for agent in env.agents})

    For SuperSuit and SB3 (every agent stays to the end)::

        import supersuit
        vec = supersuit.pettingzoo_env_to_vec_env_v1(edge_partition_multi_v0.parallel_env(black_death=True))

    ## Version History
    * v0: initial release.
    """

    metadata = {
        "name": "edge_partition_multi_v0",
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 2,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        config: EdgePartitionConfig | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
        generator=None,
        render_mode: str | None = None,
        black_death: bool = False,
        **overrides,
    ):
        check_bool("black_death", black_death)
        self.black_death = bool(black_death)
        if config is None:
            overrides.setdefault("task_rate", MULTI_TASK_RATE)
        self.cfg = cfg = EdgePartitionConfig.from_kwargs(config, **overrides)
        models = tuple(models)
        if not 1 <= len(models) <= 16 or any(m not in DNN_MODELS for m in models):
            raise ValueError(f"models must be 1 to 16 names from {DNN_MODELS}, got {models!r}")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.models = models
        self.generator = generator if generator is not None else RandomGenerator(cfg, models)
        self.possible_agents = [f"iot_{i}" for i in range(len(models))]
        self.agents: list[str] = []
        action = spaces.MultiDiscrete(np.full(cfg.num_blocks, cfg.num_servers + 1, dtype=np.int64))
        observation = spaces.Box(0.0, 1.0, (observation_size(cfg),), np.float32)
        self.action_spaces = {agent: action for agent in self.possible_agents}
        self.observation_spaces = {agent: observation for agent in self.possible_agents}
        self.state_space = spaces.Box(0.0, 1.0, (len(models) * observation.shape[0],), np.float32)
        self._obs_shape = (1, len(models), observation.shape[0])  # the compiled step's (B, A, dim)
        self._obs = np.zeros(self._obs_shape, dtype=np.float32)  # every agent's observation of the slot, for state()
        self._np_random: np.random.Generator | None = None
        self.core_state: core.State | None = None  # advanced in place by the compiled step (kernels.CompiledDevices)
        self._core: kernels.CompiledDevices | None = None
        self._active = np.ones(1, dtype=bool)
        self._placement: np.ndarray | None = None  # the last slot's (A, M) locations, for render
        self._window = (
            HumanWindow(self.metadata["name"], self.metadata["render_fps"]) if render_mode == "human" else None
        )

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self.action_spaces[agent]

    def state(self) -> np.ndarray:
        """The global state for centralised critics: every agent's observation of the slot now starting,
        concatenated in ``possible_agents`` order (``state_space``; a device that is done is observed too)."""
        if self.core_state is None:
            raise RuntimeError("call reset() before state()")
        return self._obs.reshape(-1).copy()

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_options(options, ENV_NAME, strict=False)
        seed = check_seed(seed)
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        instance = draw_instance(self.generator, self._np_random, Instance)
        if instance.num_devices != len(self.possible_agents):
            raise ValueError(
                f"generator: its instance has {instance.num_devices} devices but the env has one agent "
                f"per model, {len(self.possible_agents)} ({self.models})"
            )
        self.core_state = core.initial(self.cfg, instance, self._np_random)
        self._core = kernels.CompiledDevices(self.core_state, static_features(self.cfg, self.core_state.blocks))
        self.agents = self.possible_agents[:]
        self._last = self._placement = None
        obs = self._obs = np.empty(self._obs_shape, dtype=np.float32)
        self._core.observe(obs)
        if self._window is not None:
            self.render()
        observations = dict(zip(self.possible_agents, obs[0]))
        return observations, {agent: self._slot_info(i) for i, agent in enumerate(self.possible_agents)}

    def _slot_info(self, i: int) -> dict:
        """Device i's info at reset: the step's keys, those about the last slot zero (none has run), and
        the slot now starting (``step`` reads the same values from the compiled step's outcome rows)."""
        state, outcome = self.core_state, self._core.outcome
        zeros = {key: np.zeros(outcome.size)[outcome.parts[key]] for key in ("block_delay", "server_load")}
        return dict(
            delay=0.0,
            penalty=0.0,
            energy=0.0,
            outage=0.0,
            **zeros,
            placement=np.zeros(self.cfg.num_blocks, dtype=np.int64),
            energy_left=float(state.energy_left[0, i]),
            queue=state.queue[0].copy(),
            device_queue=float(state.device_queue[0, i]),
            server_speed=state.speed_now[0].copy(),
            rate=1.0 / state.access_now[0, i],
            tasks=float(state.tasks_now[0, i]),
        )

    def _check_agents(self, actions) -> None:
        """``actions`` is a dict with exactly one entry per live agent; errors name what is allowed."""
        if not isinstance(actions, dict):
            raise TypeError(
                f"actions must be a dict mapping each live agent {self.agents} to its action, "
                f"got {type(actions).__name__}"
            )
        extra = [agent for agent in actions if agent not in self.agents]
        if extra:
            done = [agent for agent in extra if agent in self.possible_agents]
            what = f"agents already done {done}" if done else f"unknown agents {extra}"
            raise ValueError(f"actions: {what}; give actions for the live agents only: {self.agents}")
        missing = [agent for agent in self.agents if agent not in actions]
        if missing:
            raise ValueError(f"actions: missing an action for live agent {missing[0]!r}; live agents: {self.agents}")

    def _placements(self, actions: dict) -> np.ndarray:
        """(1, A, M) int64: each live agent's action (cheap checks; the kernel checks the range of an
        integer array's locations), 0s for the agents that are done."""
        cfg = self.cfg
        placement = np.zeros((1, len(self.possible_agents), cfg.num_blocks), dtype=np.int64)
        for i, agent in enumerate(self.possible_agents):
            if agent in self.agents:
                action = actions[agent]
                if isinstance(action, np.ndarray) and action.shape == (cfg.num_blocks,) and action.dtype.kind in "iu":
                    placement[0, i] = action
                    continue
                try:
                    placement[0, i] = check_placement(action, cfg)
                except ValueError as error:
                    raise ValueError(f"{agent}: {error}") from None
        return placement

    def step(self, actions: dict):
        if self.core_state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("every agent is done; call reset()")
        self._check_agents(actions)
        placement = self._placements(actions)
        A, parts = len(self.possible_agents), self._core.outcome.parts
        values = np.empty((1, A, self._core.outcome.size))
        obs = np.empty(self._obs_shape, dtype=np.float32)
        bad = self._core.step(placement, self._active, values, obs)
        if bad >= 0:
            agent = self.possible_agents[bad % A]
            raise ValueError(f"{agent}: {_bad_action('location out of range', self.cfg, actions[agent])}")
        truncated = bool(self.core_state.slot[0] >= self.cfg.episode_slots)
        live = self.agents
        rewards, terminations, truncations, infos = {}, {}, {}, {}
        every_scalar = values[0, :, : layout.SCALARS].tolist()
        for i, agent in enumerate(self.possible_agents):
            if agent not in live:
                continue
            row, scalars = values[0, i], every_scalar[i]
            rewards[agent] = scalars[layout.REWARD]
            terminations[agent] = scalars[layout.RAN_OUT] != 0.0 and not self.black_death
            truncations[agent] = truncated
            infos[agent] = dict(
                delay=scalars[layout.DELAY],
                penalty=scalars[layout.PENALTY],
                energy=scalars[layout.ENERGY],
                outage=scalars[layout.OUTAGE],
                block_delay=row[parts["block_delay"]],
                server_load=row[parts["server_load"]],
                placement=placement[0, i],
                energy_left=scalars[layout.ENERGY_LEFT],
                queue=row[parts["queue"]],
                device_queue=scalars[layout.DEVICE_QUEUE_END],
                server_speed=row[parts["server_speed"]],
                rate=row[parts["rate"]],
                tasks=scalars[layout.NEXT_TASKS],
            )
        observations = {agent: obs[0, i] for i, agent in enumerate(self.possible_agents) if agent in live}
        self._obs = obs
        self.agents = [agent for agent in live if not (terminations[agent] or truncations[agent])]
        self._last = rewards
        self._placement = placement[0]
        if self._window is not None:
            self.render()
        return observations, rewards, terminations, truncations, infos

    def render(self):
        """``ansi``: a line about the slot; ``rgb_array``: the picture as a uint8 (H, W, 3) array
        (a device that is done shows every block on the device); ``human``: that picture in a window."""
        if self.render_mode is None or self.core_state is None:
            return None
        if self.render_mode == "ansi":
            state = self.core_state
            queue = " ".join(f"{q:.2f}" for q in state.queue[0])
            return f"slot {int(state.slot[0])}: queues [{queue}] s, agents {self.agents}, last rewards {self._last}"
        frame = draw(self.core_state, self._placement)
        if self._window is None:
            return frame
        self._window.show(frame)
        return None

    def close(self):
        if self._window is not None:
            self._window.close()


class EdgePartitionMultiVectorEnv:
    """``num_envs`` copies of :class:`EdgePartitionMultiEnv` stepped together by one compiled call: the
    batched form for training many copies (arrays over copies and agents, no dicts).

    Copy i behaves exactly as ``parallel_env(...)`` reset with seed ``seed + i`` (and reset without a
    seed whenever all its agents are done), given the same actions: bit for bit (each copy has its own
    Generator and random stream). Axis 1 is the agent, in ``possible_agents`` order.

    * ``reset(seed=None)`` -> ``(observations (B, A, 5M+3N+4) float32, {})``; ``seed``: None, an
      integer (copy i gets ``seed + i``) or one seed per copy.
    * ``step(actions)`` with ``actions`` (B, A, M) integer locations -> ``(observations, rewards,
      terminations, truncations, infos)``, the last four (B, A) (float64, bool, bool); ``infos``:
      ``active`` (B, A) bool, the agents that acted in this step (the parallel env's live agents; the
      others' actions are ignored and their entries are 0 / False), and the per-agent ``delay``,
      ``penalty``, ``energy``, ``outage`` of the slot.
    * Autoreset follows Gymnasium's next-step mode: the step after every agent of a copy is done
      restarts that copy (its actions ignored, rewards 0, ``active`` False).

    Every copy's instance must have the same block tables (models), as the default generator's do.
    ``state`` (a core.State with B rows) is advanced in place.
    """

    def __init__(self, num_envs: int = 1, **kwargs):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.num_envs = int(num_envs)
        self.env = EdgePartitionMultiEnv(**kwargs)  # the spaces, config and generator of one copy
        self.cfg, self.generator, self.possible_agents = self.env.cfg, self.env.generator, self.env.possible_agents
        self.observation_space, self.action_space = self.env.observation_space, self.env.action_space
        self._obs_shape = (self.num_envs,) + self.env._obs_shape[1:]
        self.state: core.State | None = None
        self._core: kernels.CompiledDevices | None = None
        self._rngs: list[np.random.Generator] | None = None
        self._tables: tuple | None = None  # the block tables every copy's instance must have

    def _instances(self, rows: np.ndarray) -> list:
        """An instance for each of ``rows``, drawn from its copy's Generator."""
        instances = [draw_instance(self.generator, self._rngs[i], Instance) for i in rows.tolist()]
        for instance in instances:
            tables = (instance.local_s, instance.edge_s, instance.input_bytes, instance.output_bytes)
            if self._tables is None and instance.num_devices == len(self.possible_agents):
                self._tables = tables
            if self._tables is None or not all(np.array_equal(x, y) for x, y in zip(tables, self._tables)):
                raise ValueError(
                    f"generator: every copy's instance must have the same block tables, one per agent "
                    f"({self.env.models}); got {instance.name!r} with {instance.num_devices} devices"
                )
        return instances

    def reset(self, *, seed: int | list | None = None, options: dict[str, Any] | None = None):
        check_reset_options(options, ENV_NAME)
        seeds = row_seeds(seed, self.num_envs)
        if seed is not None or self._rngs is None:
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        self.state = core.initial(self.cfg, self._instances(np.arange(self.num_envs)), self._rngs)
        self._core = kernels.CompiledDevices(self.state, static_features(self.cfg, self.state.blocks))
        self._live = np.ones((self.num_envs, len(self.possible_agents)), dtype=bool)
        self._out = np.empty((self.num_envs, len(self.possible_agents), layout.SCALARS))
        obs = np.empty(self._obs_shape, dtype=np.float32)
        self._core.observe(obs)
        return obs, {}

    def step(self, actions):
        if self._core is None:
            raise RuntimeError("call reset() before step()")
        cfg, (B, A, _) = self.cfg, self._obs_shape
        allowed = f"integer locations in [0, {cfg.num_servers}] (0 = device, n = edge server n)"
        placement = np.asarray(actions)
        if placement.shape != (B, A, cfg.num_blocks) or placement.dtype.kind not in "iu":
            raise ValueError(
                f"actions: expected shape ({B}, {A}, {cfg.num_blocks}) (copy, agent, block) of {allowed}, "
                f"got shape {placement.shape} dtype {placement.dtype}"
            )
        live = self._live
        active = live.any(axis=1)  # copies with a live agent step; the others restart below
        placement = np.where(live[:, :, None], placement, 0).astype(np.int64)
        obs, out = np.empty(self._obs_shape, dtype=np.float32), self._out
        bad = self._core.step(placement, active, out, obs)
        if bad >= 0:
            b, a = divmod(bad, A)
            raise ValueError(
                f"actions: copy {b}, agent {self.possible_agents[a]} has locations {placement[b, a].tolist()}; "
                f"expected {allowed}"
            )
        restart = np.flatnonzero(~active)
        if restart.size:
            core.start_episodes(self.state, restart, self._instances(restart), [self._rngs[i] for i in restart])
            self._core.observe(obs, restart)
        scalars = np.where(live[..., None], out, 0.0)
        terminations = scalars[..., layout.RAN_OUT] != 0.0
        truncations = live & (self.state.slot >= cfg.episode_slots)[:, None]
        self._live = np.where(active[:, None], live & ~terminations & ~truncations, True)
        infos = {"active": live}
        for key, index in (
            ("delay", layout.DELAY),
            ("penalty", layout.PENALTY),
            ("energy", layout.ENERGY),
            ("outage", layout.OUTAGE),
        ):
            infos[key] = scalars[..., index]
        return obs, scalars[..., layout.REWARD], terminations, truncations, infos


def parallel_env(**kwargs) -> EdgePartitionMultiEnv:
    """The Parallel API env (see :class:`EdgePartitionMultiEnv` for the arguments)."""
    return EdgePartitionMultiEnv(**kwargs)


class raw_env(parallel_to_aec_wrapper):  # noqa: N801  (PettingZoo's module convention)
    """The AEC view of :class:`EdgePartitionMultiEnv`, without the order-enforcing wrapper."""

    def __init__(self, **kwargs):
        super().__init__(EdgePartitionMultiEnv(**kwargs))


def env(**kwargs):
    """The AEC view of :class:`EdgePartitionMultiEnv`, order-enforced."""
    return parallel_to_aec(EdgePartitionMultiEnv(**kwargs))
