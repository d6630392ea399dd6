"""The multi-agent EdgePartition env (PettingZoo Parallel API); :mod:`edge_envs.edge_partition_multi_v0`
re-exports it under PettingZoo's module convention."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from edge_envs.edge_partition import core
from edge_envs.edge_partition.config import _DNN_MODELS, EdgePartitionConfig
from edge_envs.edge_partition.env import (
    ENV_NAME,
    check_placement,
    encode_state,
    observation_size,
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
    | Agents             | ``agents = ['device_0', 'device_1', 'device_2', 'device_3']``    |
    | Agents             | 4 (one per entry of ``models``)                                  |
    | Action Shape       | (M,) = (6,)                                                      |
    | Action Values      | 0 .. N = 0 .. 4 per block (0 = the device, n = edge server n)    |
    | Observation Shape  | (5M + 3N + 4,) = (46,)                                           |
    | Observation Values | [0, 1]                                                           |

    ## Description
    The dynamics of EdgePartition-v0 (:mod:`edge_envs.edge_partition.core`) with A devices: device
    ``device_i`` releases ``task_rate`` tasks per second of ``models[i]`` (each cut into
    ``num_blocks`` blocks) and places them each slot. A server's utilisation sums every device's
    work on it, so the devices contend for the servers' queues; each device has its own CPU queue,
    position (random waypoint), fading links and energy budget. Default: 4 devices running AlexNet,
    VGG16, NiN and ResNet32 at 40 tasks/s each over 4 servers (about 0.7 of the system's capacity
    on average, so devices that pile on one server overload it).

    ## Action Space
    Per agent ``MultiDiscrete([N + 1] * M)``: block m's location, 0 = the device, n = edge server n.
    ``step`` takes a dict with one action per live agent (``env.agents``); a missing, unknown or
    finished agent's key, or anything but a dict, raises an error naming the live agents.

    ## Observation Space
    Per agent ``Box(0, 1, (5 M + 3 N + 4,), float32)``, laid out as EdgePartition-v0's observation
    (``core.OBSERVATION``: its own blocks, deadlines, rates, CPU queue and energy; the shared servers'
    speeds and queues).

    ## Rewards
    Per agent, Eq. (14) over its own slot's tasks: ``-(delay + penalty_weight * penalty)`` per task,
    plus the outage charge in the slot its energy runs out. ``infos[agent]`` reports ``delay``,
    ``penalty``, ``energy``, ``outage``, ``block_delay``, ``server_load`` (all devices) and, for the
    next slot, ``energy_left``, ``queue`` (shared), ``device_queue``, ``server_speed`` and ``rate``.

    ## Starting State
    As EdgePartition-v0, with each device at its own uniform position. ``reset(seed, options)``
    takes no options (None or ``{}``); others are ignored with a warning (PettingZoo's API test passes
    ``{"options": 1}``), and options that are not a dict raise a ValueError.

    ## Episode End
    An agent terminates when its energy is spent (its tasks stop loading the servers); all agents are
    truncated after ``episode_slots`` slots.

    ## Arguments
    ``parallel_env(config=None, models=DEFAULT_MODELS, generator=None, render_mode=None, **fields)``:
    fields of :class:`EdgePartitionConfig` (``task_rate`` defaults to 40 here; ``model`` is unused);
    ``generator``: a callable ``rng -> Instance`` with one block table per device;
    ``render_mode``: ``"ansi"``, ``"rgb_array"`` (a uint8 picture of the area, the devices, their
    links and where each block ran) or ``"human"`` (that picture in a window).

    >>> from edge_envs import edge_partition_multi_v0
    >>> env = edge_partition_multi_v0.parallel_env(episode_slots=10)
    >>> observations, infos = env.reset(seed=0)
    >>> env.agents
    ['device_0', 'device_1', 'device_2', 'device_3']
    >>> observations["device_0"].shape, env.action_space("device_0")
    ((46,), MultiDiscrete([5 5 5 5 5 5]))
    >>> _ = env.step({agent: np.ones(6, dtype=np.int64) for agent in env.agents})

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
        **overrides,
    ):
        if config is None:
            overrides.setdefault("task_rate", MULTI_TASK_RATE)
        self.cfg = cfg = EdgePartitionConfig.from_kwargs(config, **overrides)
        models = tuple(models)
        if not 1 <= len(models) <= 16 or any(m not in _DNN_MODELS for m in models):
            raise ValueError(f"models must be 1 to 16 names from {_DNN_MODELS}, got {models!r}")
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.models = models
        self.generator = generator if generator is not None else RandomGenerator(cfg, models)
        self.possible_agents = [f"device_{i}" for i in range(len(models))]
        self.agents: list[str] = []
        action = spaces.MultiDiscrete(np.full(cfg.num_blocks, cfg.num_servers + 1, dtype=np.int64))
        observation = spaces.Box(0.0, 1.0, (observation_size(cfg),), np.float32)
        self.action_spaces = {agent: action for agent in self.possible_agents}
        self.observation_spaces = {agent: observation for agent in self.possible_agents}
        self._np_random: np.random.Generator | None = None
        self.state: core.State | None = None
        self._placement: np.ndarray | None = None  # the last slot's (A, M) locations, for render
        self._window = (
            HumanWindow(self.metadata["name"], self.metadata["render_fps"]) if render_mode == "human" else None
        )

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self.action_spaces[agent]

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
        self.state = core.initial(self.cfg, instance, self._np_random)
        self._static = static_features(self.cfg, self.state.blocks)
        self.agents = self.possible_agents[:]
        self._last = self._placement = None
        observations = self._observations()
        if self._window is not None:
            self.render()
        return observations, {agent: self._slot_info(i, {}) for i, agent in enumerate(self.possible_agents)}

    def _observations(self) -> dict:
        obs = encode_state(self.state, self._static)[0]
        return {agent: obs[i] for i, agent in enumerate(self.possible_agents) if agent in self.agents}

    def _slot_info(self, i: int, info: dict) -> dict:
        state = self.state
        info.update(
            energy_left=float(state.energy_left[0, i]),
            queue=state.queue[0].copy(),
            device_queue=float(state.device_queue[0, i]),
            server_speed=state.speed_now[0].copy(),
            rate=1.0 / state.access_now[0, i],
            tasks=float(state.tasks_now[0, i]),
        )
        return info

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

    def step(self, actions: dict):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("every agent is done; call reset()")
        self._check_agents(actions)
        placement = np.zeros((1, len(self.possible_agents), self.cfg.num_blocks), dtype=np.int64)
        for i, agent in enumerate(self.possible_agents):
            if agent in self.agents:
                try:
                    placement[0, i] = check_placement(actions[agent], self.cfg)
                except ValueError as error:
                    raise ValueError(f"{agent}: {error}") from None
        single = len(self.possible_agents) == 1  # the core drops the device axis of single-device states
        self.state, out = core.transition(self.state, placement[:, 0] if single else placement)
        per_device = (lambda x: x[:, None]) if single else (lambda x: x)
        truncated = bool(core.truncated(self.state)[0])
        live = self.agents
        index = {agent: i for i, agent in enumerate(self.possible_agents)}
        rewards, terminations, truncations, infos = {}, {}, {}, {}
        for agent in live:
            i = index[agent]
            rewards[agent] = float(per_device(out.reward)[0, i])
            terminations[agent] = bool(per_device(out.ran_out)[0, i])
            truncations[agent] = truncated
            infos[agent] = self._slot_info(
                i,
                dict(
                    delay=float(per_device(out.delay)[0, i]),
                    penalty=float(per_device(out.penalty)[0, i]),
                    energy=float(per_device(out.energy)[0, i]),
                    outage=float(per_device(out.outage)[0, i]),
                    block_delay=per_device(out.block_delay)[0, i].copy(),
                    server_load=out.server_load[0].copy(),
                    placement=placement[0, i].copy(),
                ),
            )
        encoded = encode_state(self.state, self._static)[0]
        observations = {agent: obs for agent, obs in zip(self.possible_agents, encoded) if agent in live}
        self.agents = [agent for agent in live if not (terminations[agent] or truncations[agent])]
        self._last = rewards
        self._placement = placement[0]
        if self._window is not None:
            self.render()
        return observations, rewards, terminations, truncations, infos

    def render(self):
        """``ansi``: a line about the slot; ``rgb_array``: the picture as a uint8 (H, W, 3) array
        (a device that is done shows every block on the device); ``human``: that picture in a window."""
        if self.render_mode is None or self.state is None:
            return None
        if self.render_mode == "ansi":
            queue = " ".join(f"{q:.2f}" for q in self.state.queue[0])
            return (
                f"slot {int(self.state.slot[0])}: queues [{queue}] s, agents {self.agents}, last rewards {self._last}"
            )
        frame = draw(self.state, self._placement)
        if self._window is None:
            return frame
        self._window.show(frame)
        return None

    def close(self):
        if self._window is not None:
            self._window.close()


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
