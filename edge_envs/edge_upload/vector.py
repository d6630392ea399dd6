"""EdgeUpload-v0's vector env: many episodes stepped by one call of the compiled core (``kernels.step``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from edge_envs.config import check_bool, check_choice
from edge_envs.edge_partition.env import row_seeds
from edge_envs.edge_upload import core, kernels
from edge_envs.edge_upload.config import EdgeUploadConfig
from edge_envs.edge_upload.env import (
    ILLEGAL_ACTIONS,
    ObservationConstants,
    _num_layers,
    check_instance,
    default_generator,
    observation_size,
)
from edge_envs.edge_upload.generator import Instance
from edge_envs.render import check_render_mode
from edge_envs.reset import check_reset_options, draw_instance


class EdgeUploadVectorEnv(VectorEnv):
    """``num_envs`` EdgeUpload episodes stepped together by ``kernels.step``, in one call.

    Row i behaves exactly as :class:`EdgeUploadEnv` reset with seed ``seed + i`` (each row has its own
    Generator: instances and transmission failures), so the same seeds and actions give the same
    trajectories in both. Autoreset follows Gymnasium's next-step mode: the step after a row ends starts
    its next episode (reward 0, action ignored). Actions: one integer per row (``Discrete(R * S)``
    batched); a forbidden one is replaced by the nearest legal action (``illegal_action="nearest"``,
    the default) or raises (``"raise"``). ``info`` holds per-row arrays: ``action_mask`` (B, R * S),
    ``time``, ``latency`` (B, C), ``local_latency`` (B, C), ``deciding``, ``resends`` and ``sent`` (B, C),
    ``illegal_action``, ``area`` (B, C), ``duration``, ``client``, ``partition`` (B, 2), ``server``,
    ``transmissions`` (the single env's keys, but ``completed``); rows that reset this step report their
    new episode's start. Arguments as for :class:`EdgeUploadEnv`, plus ``num_envs``. ``reset(seed=...)``:
    None, an int (row i gets ``seed + i``) or one seed per row; ``options``: none are taken.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        config: EdgeUploadConfig | None = None,
        generator=None,
        render_mode: str | None = None,
        illegal_action: str = "nearest",
        mask_observation: bool = False,
        **overrides,
    ):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        check_render_mode(render_mode, self.metadata["render_modes"])  # the vector env does not render
        self.cfg = cfg = EdgeUploadConfig.from_kwargs(config, **overrides)
        check_choice("illegal_action", illegal_action, ILLEGAL_ACTIONS)
        check_bool("mask_observation", mask_observation)
        self.illegal_action, self.mask_observation = illegal_action, bool(mask_observation)
        self.num_envs, self.render_mode = int(num_envs), None
        self.generator = generator if generator is not None else default_generator(cfg)
        self.num_layers = L = _num_layers(self.generator)
        self.single_action_space = spaces.Discrete(len(core.runs(L)) * cfg.num_servers)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._observation_size = observation_size(cfg, L)
        features = spaces.Box(0.0, 1.0, (self._observation_size,), np.float32)
        if self.mask_observation:
            mask = spaces.Box(0, 1, (self.single_action_space.n,), np.int8)
            self.single_observation_space = spaces.Dict({"observation": features, "action_mask": mask})
        else:
            self.single_observation_space = features
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._rows: core.Rows | None = None
        self._rngs: list[np.random.Generator] | None = None

    def _start(self, rows) -> None:
        """Start fresh episodes in ``rows``, each drawn from its row's Generator."""
        for row in rows:
            inst = draw_instance(self.generator, self._rngs[row], Instance)
            check_instance(self.cfg, self.num_layers, inst)
            self._rows.start(row, inst)
            self._features.fill(row, inst)

    def reset(self, *, seed: int | list | None = None, options: dict[str, Any] | None = None):
        B = self.num_envs
        seeds = row_seeds(seed, B)
        check_reset_options(options, "EdgeUpload")
        super().reset(seed=seeds[0])
        if seed is not None or self._rngs is None:  # without a seed, each row's Generator continues
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        self._rows = core.Rows(self.cfg, B, self.num_layers)
        self._features = ObservationConstants(self.cfg, B, self.num_layers)
        self._start(range(B))
        self._done = np.zeros(B, dtype=bool)
        return self._observations(), {**self._info(), "illegal_action": np.zeros(B, dtype=bool)}

    def _actions(self, actions) -> np.ndarray:
        """Actions as a contiguous int64 (B,) array; shape, dtype and range checked."""
        allowed = f"one integer in [0, {self.single_action_space.n}) per row (run a // S to server a % S)"
        try:
            a = np.asarray(actions)
        except ValueError:  # numpy refuses ragged nested lists
            raise ValueError(
                f"actions: not a rectangular array; expected shape ({self.num_envs},) with {allowed}"
            ) from None
        if a.shape != (self.num_envs,):
            raise ValueError(f"actions: expected shape ({self.num_envs},), got {a.shape}; {allowed}")
        if a.dtype.kind not in "iu":
            raise ValueError(f"actions: got dtype {a.dtype}; expected {allowed}")
        a = np.array(a, dtype=np.int64)
        outside = np.flatnonzero(((a < 0) | (a >= self.single_action_space.n)) & ~self._done)
        if outside.size:
            raise core.IllegalUploadError(f"actions: row {outside[0]} has {a[outside[0]]}; expected {allowed}")
        return a

    def step(self, actions):
        rows = self._rows
        if rows is None:
            raise RuntimeError("call reset() before step()")
        actions, restart = self._actions(actions), self._done
        active = ~restart
        if self.illegal_action == "raise":
            bad = kernels.first_illegal(rows.runs, self.cfg.num_servers, rows.where, rows.deciding, actions, active)
            if bad >= 0:
                raise core.IllegalUploadError(
                    f"actions: row {bad} has {actions[bad]}, a partition holding a layer already uploaded; "
                    "info['action_mask'] lists the legal ones"
                )
        clients = rows.deciding.copy()
        sent = np.ones(self.num_envs, dtype=np.int64)
        if self.cfg.loss_probability > 0:
            for row in np.flatnonzero(active).tolist():
                sent[row] = core.draw_sent(self.cfg, self._rngs[row])
        rows.step(actions, sent, active, nearest=self.illegal_action == "nearest")
        rewards = -rows.area.sum(axis=1)
        terminated = (rows.deciding < 0) & active
        if restart.any():  # next-step autoreset: those rows start their next episode
            self._start(np.flatnonzero(restart).tolist())
            rewards[restart] = 0.0
        self._done = terminated
        info = self._info()
        S = self.cfg.num_servers
        info.update(
            illegal_action=(rows.out[:, kernels.REPLACED] != 0) & active,
            area=np.where(active[:, None], rows.area, 0.0),
            duration=np.where(active, rows.out[:, kernels.DURATION], 0.0),
            client=np.where(active, clients, -1),
            partition=np.where(active[:, None], rows.runs[actions // S], -1),
            server=np.where(active, actions % S, -1),
            transmissions=np.where(active, sent, 0),
        )
        return self._observations(), rewards, terminated, np.zeros(self.num_envs, dtype=bool), info

    def _info(self) -> dict:
        rows = self._rows
        return {
            "action_mask": rows.mask.copy(),
            "time": rows.time.copy(),
            "latency": rows.latency.copy(),
            "local_latency": rows.local.copy(),
            "deciding": rows.deciding.copy(),
            "resends": rows.resends.copy(),
            "sent": rows.transmissions.copy(),
        }

    def _observations(self):
        rows, features = self._rows, self._features
        obs = np.empty((self.num_envs, self._observation_size), dtype=np.float32)
        kernels.observe(
            features.static, features.speeds, rows.local, rows.where, rows.pending, rows.latency, rows.deciding, obs
        )
        if self.mask_observation:
            return {"observation": obs, "action_mask": rows.mask.copy()}
        return obs
