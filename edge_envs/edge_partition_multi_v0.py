"""edge_partition_multi_v0: several IoT devices partition their own DNNs over shared edge servers.

PettingZoo module convention: ``parallel_env(**kwargs)`` (the native Parallel API), ``env(**kwargs)``
(the AEC view, order-enforced) and ``raw_env`` (the AEC view, unwrapped).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from edge_envs.edge_partition import core
from edge_envs.edge_partition.config import _DNN_MODELS, EdgePartitionConfig
from edge_envs.edge_partition.env import check_placement, encode_state, observation_size, static_features
from edge_envs.edge_partition.generator import RandomGenerator
from edge_envs.render import check_render_mode

DEFAULT_MODELS = ("alexnet", "vgg16", "nin", "resnet32")
MULTI_TASK_RATE = 40.0


class EdgePartitionMultiEnv(ParallelEnv):
    """One agent per IoT device; every device runs its own DNN and task stream, all share the servers.

    ## Description
    The dynamics of EdgePartition-v0 (:mod:`edge_envs.edge_partition.core`) with A devices: device
    ``device_i`` releases ``task_rate`` tasks per second of ``models[i]`` (each cut into
    ``num_blocks`` blocks) and places them each slot. A server's utilisation sums every device's
    work on it, so the devices contend for the servers' queues; each device has its own CPU queue,
    position (random waypoint), fading links and energy budget. Default: 4 devices running AlexNet,
    VGG16, NiN and ResNet32 at 40 tasks/s each over 4 servers (about 0.7 of the system's capacity
    on average, so devices that pile on one server overload it). Measured over one 600-slot episode
    (seed 0), per-device returns: greedy -13 to -71, best single server -15 to -60, the myopic DP
    oracle -300 to -384, APDI -12 100 (every device spreads its blocks the same way, so each server
    receives the same block of all four models at once).

    ## Action Space
    Per agent ``MultiDiscrete([N + 1] * M)``: block m's location, 0 = the device, n = edge server n.

    ## Observation Space
    Per agent ``Box(0, 1, (5 M + 3 N + 4,), float32)``, laid out as EdgePartition-v0's observation
    (its own blocks, deadlines, rates, CPU queue and energy; the shared servers' speeds and queues).

    ## Rewards
    Per agent, Eq. (14) over its own slot's tasks: ``-(delay + penalty_weight * penalty)`` per task,
    plus the outage charge in the slot its energy runs out. ``infos[agent]`` reports ``delay``,
    ``penalty``, ``energy``, ``outage``, ``block_delay``, ``server_load`` (all devices) and, for the
    next slot, ``energy_left``, ``queue`` (shared), ``device_queue``, ``server_speed`` and ``rate``.

    ## Starting State
    As EdgePartition-v0, with each device at its own uniform position.

    ## Episode End
    An agent terminates when its energy is spent (its tasks stop loading the servers); all agents are
    truncated after ``episode_slots`` slots.

    ## Arguments
    ``parallel_env(config=None, models=DEFAULT_MODELS, generator=None, render_mode=None, **fields)``:
    fields of :class:`EdgePartitionConfig` (``task_rate`` defaults to 40 here; ``model`` is unused).

    ## Version History
    * v0: initial release.
    """

    metadata = {"name": "edge_partition_multi_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, config: EdgePartitionConfig | None = None, models: tuple[str, ...] = DEFAULT_MODELS,
                 generator=None, render_mode: str | None = None, **overrides):
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

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        instance = self.generator(self._np_random)
        self.state = core.initial(self.cfg, instance, self._np_random)
        self._static = static_features(self.cfg, self.state.blocks)
        self.agents = self.possible_agents[:]
        self._last = None
        observations = self._observations()
        return observations, {agent: self._slot_info(i, {}) for i, agent in enumerate(self.possible_agents)}

    def _observations(self) -> dict:
        obs = encode_state(self.state, self._static)[0]
        return {agent: obs[i] for i, agent in enumerate(self.possible_agents) if agent in self.agents}

    def _slot_info(self, i: int, info: dict) -> dict:
        state = self.state
        info.update(energy_left=float(state.energy_left[0, i]), queue=state.queue[0].copy(),
                    device_queue=float(state.device_queue[0, i]), server_speed=state.speed_now[0].copy(),
                    rate=1.0 / state.access_now[0, i], tasks=float(state.tasks_now[0, i]))
        return info

    def step(self, actions: dict):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("every agent is done; call reset()")
        placement = np.zeros((1, len(self.possible_agents), self.cfg.num_blocks), dtype=np.int64)
        for i, agent in enumerate(self.possible_agents):
            if agent in self.agents:
                if agent not in actions:
                    raise ValueError(f"actions: missing an action for live agent {agent!r}; live agents: {self.agents}")
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
            infos[agent] = self._slot_info(i, dict(
                delay=float(per_device(out.delay)[0, i]), penalty=float(per_device(out.penalty)[0, i]),
                energy=float(per_device(out.energy)[0, i]), outage=float(per_device(out.outage)[0, i]),
                block_delay=per_device(out.block_delay)[0, i].copy(),
                server_load=out.server_load[0].copy(), placement=placement[0, i].copy()))
        encoded = encode_state(self.state, self._static)[0]
        observations = {agent: obs for agent, obs in zip(self.possible_agents, encoded) if agent in live}
        self.agents = [agent for agent in live if not (terminations[agent] or truncations[agent])]
        self._last = rewards
        return observations, rewards, terminations, truncations, infos

    def render(self):
        if self.render_mode != "ansi" or self.state is None:
            return None
        queue = " ".join(f"{q:.2f}" for q in self.state.queue[0])
        return f"slot {int(self.state.slot[0])}: queues [{queue}] s, agents {self.agents}, last rewards {self._last}"


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


__all__ = ["DEFAULT_MODELS", "EdgePartitionMultiEnv", "env", "parallel_env", "raw_env"]
