"""EdgeUpload-v0: the Gymnasium shell around :mod:`edge_envs.edge_upload.core` (spaces, mask, observation, seeding)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from edge_envs.compiled import compiled_for, hold
from edge_envs.config import check_bool, check_choice
from edge_envs.edge_upload import core, kernels
from edge_envs.edge_upload.config import EdgeUploadConfig
from edge_envs.edge_upload.generator import Instance, RandomGenerator, ToyGenerator
from edge_envs.edge_upload.kernels import nearest_legal  # noqa: F401  (re-exported: the replacement rule)
from edge_envs.render import check_render_mode, figure_to_rgb, new_figure
from edge_envs.reset import check_reset_options, check_seed, draw_instance

ILLEGAL_ACTIONS = ("nearest", "raise")
_ONE_ROW = np.ones(1, dtype=np.bool_)  # the single env's one row is always stepped


class MaskedDiscrete(spaces.Discrete):
    """``Discrete(n)`` whose ``sample()`` without a mask draws among the actions legal now (the env's
    action mask), so random-action rollouts stay legal; ``contains`` still accepts all ``n`` actions."""

    def __init__(self, n: int, mask_source=None, seed=None):
        super().__init__(n, seed=seed)
        self.mask_source = mask_source

    def sample(self, mask=None, probability=None):
        if mask is None and probability is None and self.mask_source is not None:
            legal = self.mask_source()
            if legal is not None and legal.any():
                mask = legal
        return super().sample(mask=mask, probability=probability)


def observation_size(cfg: EdgeUploadConfig, num_layers: int) -> int:
    """3 L + C L (S + 2) + 3 C + S entries: see :class:`EdgeUploadEnv`'s observation table."""
    C, S = cfg.num_clients, cfg.num_servers
    return 3 * num_layers + C * num_layers * (S + 2) + 3 * C + S


class ObservationConstants:
    """What the observation reads from an instance, into rows: the layer features (B, 3 L) and the clocks
    over the largest configured clock (B, C + S); the layer features are reused while the instances share
    their layer arrays (a generator's instances do)."""

    def __init__(self, cfg: EdgeUploadConfig, num_rows: int, num_layers: int):
        self.static = np.zeros((num_rows, 3 * num_layers))
        self.speeds = np.zeros((num_rows, cfg.num_clients + cfg.num_servers))
        top_clock = max(cfg.client_clock_ghz[1], cfg.edge_clock_ghz[1], cfg.cloud_clock_ghz[1])
        self._scale = cfg.profile_clock_ghz / top_clock
        self._memo = None  # the last instance's layer features
        self._row_static: list = [None] * num_rows  # the layer features each row holds

    def fill(self, row: int, inst: Instance) -> None:
        key = (inst.param_bytes, inst.layer_s, inst.output_bytes, inst.input_bytes)
        memo = self._memo
        if memo is None or any(a is not b for a, b in zip(memo[0], key)):
            static = np.concatenate(
                [
                    inst.param_bytes / inst.param_bytes.sum(),
                    inst.layer_s / inst.layer_s.sum(),
                    inst.output_bytes / (inst.output_bytes + inst.input_bytes),
                ]
            )
            memo = self._memo = (key, static)
        if self._row_static[row] is not memo:
            self.static[row] = memo[1]
            self._row_static[row] = memo
        C = len(inst.client_speed)
        self.speeds[row, :C] = inst.client_speed * self._scale
        self.speeds[row, C:] = inst.server_speed * self._scale


def default_generator(cfg: EdgeUploadConfig):
    """ToyGenerator for ``model="toy"``, else RandomGenerator over the measured profile."""
    return ToyGenerator() if cfg.model == "toy" else RandomGenerator(cfg)


def _num_layers(generator) -> int:
    """L from a generator's ``layer_names`` (the spaces are built before any instance is drawn)."""
    names = getattr(generator, "layer_names", None)
    if not callable(generator) or not isinstance(names, (tuple, list)) or not names:
        raise ValueError(
            "generator must be a callable rng -> edge_envs.edge_upload.Instance with a non-empty layer_names "
            f"attribute (one name per layer, as RandomGenerator and ToyGenerator have), got {generator!r}"
        )
    return len(names)


def check_instance(cfg: EdgeUploadConfig, num_layers: int, inst: Instance) -> None:
    """The drawn instance has the layers, clients and servers the spaces were built for."""
    got = (inst.num_layers, inst.num_clients, inst.num_servers)
    want = (num_layers, cfg.num_clients, cfg.num_servers)
    if got != want:
        raise ValueError(
            f"generator: its instance has (layers, clients, servers) = {got}, but the env was built for {want} "
            "(the generator's layer_names and the config's num_clients and servers)"
        )


def _action_int(action) -> int:
    """An integer action from an int, numpy integer or one-element integer array; ValueError otherwise."""
    if type(action) is int:  # the common case, first
        return action
    if isinstance(action, np.ndarray) and action.size == 1 and action.dtype.kind in "iu":
        return int(action.reshape(()))
    if isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_)):
        return int(action)
    raise core.IllegalUploadError(f"action must be one integer (Discrete), got {action!r}")


class EdgeUploadEnv(gym.Env):
    """Incremental DNN uploading to edge/cloud servers while queries keep running (the DNN-migration paper, IONN).

    ## Description
    A client holds a DNN as a chain of L layers (default AlexNet at 224x224, per-layer latencies from
    the measured profile) and keeps answering queries, one right after the other. Meanwhile its
    upload thread sends the model to the servers, one partition (a contiguous run of layers not yet
    uploaded) at a time, in the order the agent chooses. Each query runs the fastest way the layers
    uploaded so far allow: the client runs what it must, servers run the layers they hold, and
    activations cross the links (a shortest path over the layers). A transmission fails with
    probability ``loss_probability`` and is resent after the failed confirmation. Which partition goes
    first decides how soon queries get fast. With several clients (``edge_cloud()``: 2 clients, 5 edge,
    5 cloud servers) each client has its own upload thread and the agent decides for whichever
    client's thread is idle; a server's capacity is shared by the clients holding layers on it.
    Dynamics: :mod:`edge_envs.edge_upload.core`; numbers and latency scaling: :class:`EdgeUploadConfig`.

    ## Action Space
    ``Discrete(R * S)`` with R = L (L + 1) / 2 runs and S servers: action ``a`` uploads run
    ``core.runs(L)[a // S]`` (layers ``[start, stop)``, ordered by start then stop) to server ``a % S``
    (edge servers first, then cloud servers). ``info["action_mask"]`` (int8, also ``action_masks()``
    for sb3-contrib, and the observation's ``"action_mask"`` with ``mask_observation=True``) marks the
    legal actions: runs holding no layer the deciding client has uploaded. An action the mask forbids
    is, by default (``illegal_action="nearest"``), replaced by the legal action nearest to it in index
    (the lower one on a tie), which the step then uploads and prices as usual (``info["illegal_action"]``
    says it happened), so clients that ignore the mask (random sampling, PPO without masks, batched
    vector spaces) run; ``illegal_action="raise"`` raises ``core.IllegalUploadError`` (a ValueError)
    naming the layer instead. An out-of-range or non-integer action always raises.
    ``action_space.sample()`` draws among the legal actions.

    ## Observation Space
    ``Box(0, 1, (3 L + C L (S + 2) + 3 C + S,), float32)``, C clients:

    | part | size | content |
    | --- | --- | --- |
    | layers | 3 L | per layer: share of parameter bytes, share of profiled latency, output / (output + input) bytes |
    | placement | C L (S + 1) | per client and layer, one-hot: 0 not uploaded, 1 + s on server s |
    | in flight | C L | per client and layer: 1 if being uploaded now |
    | latency | C | each client's current query latency / its local-only latency |
    | deciding | C | one-hot: the client whose upload thread picks now |
    | speeds | C + S | clock of each client and server / the largest configured clock |

    With ``mask_observation=True`` the observation is a ``Dict`` (as PettingZoo's classic envs give
    it): ``"observation"``, the Box above, and ``"action_mask"``, ``Box(0, 1, (R * S,), int8)``.

    ## Rewards
    Minus the area under the query-latency curve over the step, summed over clients: sum_c q_c * dt
    in s * s, for the time from the decision until the next one (for one client: until the partition's
    confirmation). Queries run back to back, so the area is the latency of the queries answered
    meanwhile times the time they took; the episode's return is minus the area under the paper's
    Fig. 5 curve. (The plain sum of their latencies would equal the elapsed time whatever the order.)
    ``info`` after a step: ``area`` (C,), ``duration`` (s), ``client``, ``partition`` (start, stop),
    ``server``, ``transmissions`` (of this partition), ``completed`` (confirmed partitions); always:
    ``action_mask``, ``time`` (s), ``latency`` (C,) in force now, ``local_latency`` (C,), ``deciding``,
    ``resends`` and ``sent`` (C,): transmissions resent and sent so far, ``illegal_action`` (True after a
    step whose action the mask forbade and ``"nearest"`` replaced; False at reset).

    ## Starting State
    Servers hold nothing; each client's queries run locally. Clocks are drawn uniformly in the
    configured ranges from the env's generator (seeded by ``reset(seed=...)``), as are the
    transmission failures: the same seed and actions give the same trajectory.

    ## Episode End
    Terminated when every client has uploaded every layer (at most C L steps). Never truncated.

    ## Arguments
    ``gym.make("EdgeUpload-v0", config=EdgeUploadConfig(...), generator=None, **fields)``: any
    :class:`EdgeUploadConfig` field as a keyword (e.g. ``model="vgg16_224"``, ``loss_probability=0``);
    ``config=edge_cloud()`` gives the paper's multi-user edge-cloud setting. ``render_mode``: ``"ansi"``
    (a line of text) or ``"rgb_array"`` (a uint8 picture: each client's layers coloured by where they
    are, in-flight layers hatched). ``illegal_action``: ``"nearest"`` (default) or ``"raise"`` (see Action
    Space); ``mask_observation``: False (default, a flat Box) or True (a Dict with the mask).
    ``generator``: a callable ``rng -> Instance`` with a ``layer_names`` attribute (default
    :class:`RandomGenerator`; ``ToyGenerator`` for ``model="toy"``). ``reset(seed=None, options=None)``
    takes no options (None or ``{}``); anything else is a ValueError.
    ``gym.make_vec("EdgeUpload-v0", num_envs=B, vectorization_mode="vector_entry_point")`` steps B episodes
    in one compiled call (:class:`edge_envs.edge_upload.vector.EdgeUploadVectorEnv`; row i is this env seeded
    seed + i, bit for bit).
    Baselines and references read ``env.unwrapped.state`` (the :class:`core.State`: uploaded layers, uploads
    in flight, the deciding client) and ``env.unwrapped.instance`` (the episode's layers and machines).

    >>> import gymnasium as gym, edge_envs
    >>> env = gym.make("EdgeUpload-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, int(env.action_space.n), int(info["action_mask"].sum())
    ((70,), 66, 66)
    >>> obs, reward, terminated, truncated, info = env.step(65)  # the last layer, [10, 11)
    >>> int(info["action_mask"][65]), info["illegal_action"]
    (0, False)
    >>> obs, reward, terminated, truncated, info = env.step(65)  # forbidden now: the nearest legal, 64
    >>> info["illegal_action"], info["partition"]
    (True, (9, 10))

    ## Version History
    * v0: initial version; ``illegal_action`` (default ``"nearest"``, formerly an error),
      ``mask_observation`` and ``rgb_array`` added without changing the dynamics of legal actions.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(
        self,
        config: EdgeUploadConfig | None = None,
        generator=None,
        render_mode: str | None = None,
        illegal_action: str = "nearest",
        mask_observation: bool = False,
        **overrides,
    ):
        self.cfg = cfg = EdgeUploadConfig.from_kwargs(config, **overrides)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        check_choice("illegal_action", illegal_action, ILLEGAL_ACTIONS)
        check_bool("mask_observation", mask_observation)
        self.illegal_action, self.mask_observation = illegal_action, bool(mask_observation)
        self.generator = generator if generator is not None else default_generator(cfg)
        L = _num_layers(self.generator)
        self.num_layers = L
        self.action_space = MaskedDiscrete(len(core.runs(L)) * cfg.num_servers, mask_source=self._current_mask)
        self.observation_size = observation_size(cfg, L)
        features = spaces.Box(0.0, 1.0, (self.observation_size,), np.float32)
        if self.mask_observation:
            mask = spaces.Box(0, 1, (self.action_space.n,), np.int8)
            self.observation_space = spaces.Dict({"observation": features, "action_mask": mask})
        else:
            self.observation_space = features
        self._rows: core.Rows | None = None
        self._action_buffer, self._sent_buffer = np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64)
        self.instance = None
        self._last: core.Outcome | None = None

    def _current_mask(self):
        return None if self._rows is None else self.action_masks()

    @property
    def state(self) -> core.State | None:
        """The episode's :class:`core.State` now (a copy; None before the first reset)."""
        return None if self._rows is None else self._rows.state(0)

    def action_masks(self) -> np.ndarray:
        """(R * S,) int8 mask of the legal actions now (sb3-contrib's MaskablePPO reads this)."""
        if self._rows is None:
            raise RuntimeError("call reset() before asking for the action mask")
        return self._rows.mask[0].copy()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_options(options, "EdgeUpload")
        super().reset(seed=check_seed(seed))
        self.instance = inst = draw_instance(self.generator, self.np_random, Instance)
        check_instance(self.cfg, self.num_layers, inst)
        if self._rows is None:
            self._rows = core.Rows(self.cfg, 1, self.num_layers)
            self._features = ObservationConstants(self.cfg, 1, self.num_layers)
            self._compile()
        self._rows.start(0, inst)
        self._features.fill(0, inst)
        self._last = None
        info = self._info()
        info["illegal_action"] = False
        return self._observation(), info

    def _compile(self) -> None:
        """The compiled step and observation for this env's rows and buffers (:func:`compiled_for`)."""
        rows, features = self._rows, self._features
        nearest = self.illegal_action == "nearest"
        self._step_rows = rows.serial_step(self._action_buffer, self._sent_buffer, _ONE_ROW, nearest)
        # the observation kernel's arguments but the output, which is new at each call
        args = (features.static, features.speeds, rows.local, rows.where, rows.pending, rows.latency, rows.deciding)
        held = hold(args, ())
        observe = compiled_for(kernels.observe_held, (held, np.empty((1, self.observation_size), dtype=np.float32)))
        self._observe = lambda obs: observe(held, obs)
        # the row's arrays that info copies, as views made once
        self._row_views = tuple(x[0] for x in (rows.mask, rows.latency, rows.local, rows.resends, rows.transmissions))

    def __getstate__(self) -> dict:
        # compiled functions and views: made again when unpickled
        return {**self.__dict__, "_step_rows": None, "_observe": None, "_row_views": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if state.get("_rows") is not None:  # .get: an env pickled by an older release (in RLlib checkpoints) lacks it
            self._compile()

    def step(self, action):
        rows = self._rows
        if rows is None:
            raise RuntimeError("call reset() before step()")
        action = _action_int(action)
        client = int(rows.deciding[0])
        if client < 0:
            raise RuntimeError("the model is fully uploaded; start a new episode")
        if not 0 <= action < self.action_space.n or (self.illegal_action == "raise" and not rows.mask[0, action]):
            core.decode(self.state, action)  # raises the named error
        actions, sent = self._action_buffer, self._sent_buffer
        actions[0] = action
        sent[0] = transmissions = core.draw_sent(self.cfg, self.np_random)
        self._step_rows()  # rows.step on this row, actions replaced as illegal_action says
        self._last = outcome = rows.outcome(0, client, transmissions, int(actions[0]))
        info = self._info()
        info["illegal_action"] = bool(rows.out[0, kernels.REPLACED])
        info["area"] = outcome.area
        info["duration"] = outcome.duration
        info["client"] = outcome.client
        info["partition"] = (outcome.start, outcome.stop)
        info["server"] = outcome.server
        info["transmissions"] = outcome.transmissions
        info["completed"] = outcome.completed
        done = bool(rows.deciding[0] < 0)
        return self._observation(), -float(outcome.area.sum()), done, False, info

    def _info(self) -> dict:
        """What ``info`` always holds (the step's own keys follow)."""
        rows = self._rows
        mask, latency, local, resends, sent = self._row_views
        return {
            "action_mask": mask.copy(),
            "time": float(rows.time[0]),
            "latency": latency.copy(),
            "local_latency": local.copy(),
            "deciding": int(rows.deciding[0]),
            "resends": resends.copy(),
            "sent": sent.copy(),
        }

    def _observation(self) -> np.ndarray:
        rows = self._rows
        obs = np.empty((1, self.observation_size), dtype=np.float32)
        self._observe(obs)
        if self.mask_observation:
            return {"observation": obs[0], "action_mask": rows.mask[0].copy()}
        return obs[0]

    def render(self):
        """``ansi``: a line of text; ``rgb_array``: :meth:`picture`."""
        if self.render_mode is None or self.state is None:
            return None
        if self.render_mode == "rgb_array":
            return self.picture()
        st = self.state
        uploaded = " ".join(f"c{c}:{int((st.where[c] >= 0).sum())}/{self.num_layers}" for c in range(len(st.where)))
        latency = " ".join(f"{q * 1e3:.1f}" for q in st.latency)
        last = (
            ""
            if self._last is None
            else (
                f"; last: client {self._last.client} layers [{self._last.start}, "
                f"{self._last.stop}) to server {self._last.server} "
                f"({self._last.transmissions} transmission(s))"
            )
        )
        return f"t={st.time:.2f} s uploaded {uploaded} latency [{latency}] ms{last}"

    def picture(self) -> np.ndarray:
        """A uint8 (H, W, 3) picture: one row per client, one cell per layer, grey where the layer is not
        uploaded, the server's colour where it is, hatched while in flight; the title gives the time and
        each client's query latency."""
        st, S = self.state, self.cfg.num_servers
        C, L = st.where.shape
        colours = np.vstack([[[0.85, 0.85, 0.85]], _server_colours(S)])
        cells = colours[st.where + 1]  # (C, L, 3)
        figure = new_figure(60 + 36 * L, 80 + 40 * C)
        ax = figure.add_axes((0.1, 0.12, 0.88, 0.62))
        ax.imshow(cells, aspect="auto", extent=(0, L, C, 0))
        for c, (a, b, s) in enumerate(st.pending.tolist()):
            if a >= 0:
                ax.bar(a, 1, width=b - a, bottom=c, align="edge", fill=False, hatch="//", edgecolor=colours[s + 1])
        ax.set_xticks(np.arange(L) + 0.5, [str(i) for i in range(L)], fontsize=7)
        ax.set_yticks(np.arange(C) + 0.5, [f"c{c}" for c in range(C)], fontsize=7)
        ax.set_xlabel("layer", fontsize=7)
        latency = " ".join(f"{q * 1e3:.0f}" for q in st.latency)
        figure.suptitle(f"t = {st.time:.2f} s, query latency [{latency}] ms", fontsize=8)
        return figure_to_rgb(figure)


def _server_colours(num_servers: int) -> np.ndarray:
    """(S, 3) distinct RGB colours, one per server (matplotlib's tab10 cycle)."""
    from matplotlib import colormaps  # deferred: matplotlib is needed only to draw

    return np.asarray(colormaps["tab10"](np.arange(num_servers) % 10))[:, :3]
