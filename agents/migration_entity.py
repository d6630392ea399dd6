"""A placement network for ServiceMigration whose parameters do not depend on N (edges) or K (modalities).

The observation of an instance with N edges and K modalities (``ServiceMigrationEnv``'s table) is read as
K x N (modality, edge) pairs: each pair's features are Algorithm 1's preference of the pair (best / own,
from the observation's pair block), the same relative to the modality's best edge and the modality's best
over all edges (how urgent the modality is), whether the modality sits there now, the edge's capability and
its farthest device, and the episode's progress. One shared encoder embeds every pair; means over edges,
over modalities and over all pairs (and a max over edges) form contexts fed back to each (DeepSets, Zaheer
et al. 2017), and one shared scorer gives each pair a logit. Edges are decoded greedily over distinct edges
(the most probable pair first). The rho choice scores K + G options with one shared head: the pair levels
(``core.PairRho``: a modality's pair, read from its chosen pair's vector) and the G grid levels (read from
log10 rho); its option index is the action's last entry. Every weight is shared over edges, modalities and
levels, so one checkpoint plays any N and K, and permuting the edges permutes the scores the same way.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from agents.entity import _linear

PAIR_FEATURES = 8  # preference, preference / modality's best, modality's best, is current, capability, far, progress x2
OPTION_FEATURES = 2  # grid level: log10 rho, 1


class Pairs(NamedTuple):
    """The network's input for a batch of B observations of one size: pair features (B, K, N, 8) and the
    grid options' features (G, 2); ``pair_levels``: K when the action offers the pair levels, else 0."""

    pairs: np.ndarray
    grid: np.ndarray
    pair_levels: int


def pairs_of(obs, num_edges: int, num_modalities: int, rho_grid, pair_levels: bool) -> Pairs:
    """The :class:`Pairs` of observations (B, 2 N + 2 K N + 2) of an instance with N edges and K modalities."""
    N, K = num_edges, num_modalities
    obs = np.asarray(obs, dtype=np.float32)
    size = 2 * N + 2 * K * N + 2
    if obs.ndim != 2 or obs.shape[-1] != size:
        raise ValueError(
            f"observation: shape {obs.shape} does not fit N={N} edges and K={K} modalities (a batch of rows of "
            f"length 2 N + 2 K N + 2 = {size}: the env made with observe_pair_costs=True, the default)"
        )
    B = obs.shape[0]
    capability, farthest = obs[:, :N], obs[:, N : 2 * N]
    current = obs[:, 2 * N : 2 * N + K * N].reshape(B, K, N)
    progress = obs[:, 2 * N + K * N : 2 * N + K * N + 2]
    preference = obs[:, 2 * N + K * N + 2 :].reshape(B, K, N)
    best = preference.max(-1, keepdims=True)
    x = np.empty((B, K, N, PAIR_FEATURES), np.float32)
    x[..., 0] = preference
    x[..., 1] = preference / np.maximum(best, 1e-6)
    x[..., 2] = best
    x[..., 3] = current
    x[..., 4] = (capability / (1.0 + capability))[:, None]
    x[..., 5] = farthest[:, None]
    x[..., 6:] = progress[:, None, None]
    levels = np.log10(np.asarray(rho_grid, dtype=np.float32))
    grid = np.stack([levels, np.ones_like(levels)], -1)
    return Pairs(x, grid, K if pair_levels else 0)


def layer_sizes(d: int) -> dict[str, tuple[int, int, bool]]:
    """The network's linear layers, name -> (inputs, outputs, has a bias), for hidden vectors of size ``d``."""
    return {
        "pair_in": (PAIR_FEATURES, d, True),
        "pair_mix": (d, d, True),
        "modality_context": (2 * d, d, False),
        "edge_context": (d, d, False),
        "global_context": (d, d, False),
        "edge_hidden": (d, d, True),
        "edge_out": (d, 1, True),
        "option_pair": (d, d, True),
        "option_grid": (OPTION_FEATURES, d, True),
        "option_global": (d, d, False),
        "option_out": (d, 1, True),
    }


def _encode(p: dict, xp, x):
    """(B, K, N, d) pair vectors and (B, K, N) edge logits, by the same code in torch (training) and numpy (acting)."""
    h = xp.tanh(_linear(p, "pair_in", x))
    per_modality = xp.concatenate([h.mean(axis=2), xp.amax(h, axis=2)], axis=-1)
    h = xp.tanh(
        _linear(p, "pair_mix", h)
        + _linear(p, "modality_context", per_modality)[:, :, None]
        + _linear(p, "edge_context", h.mean(axis=1))[:, None]
        + _linear(p, "global_context", h.mean(axis=(1, 2)))[:, None, None]
    )
    return h, _linear(p, "edge_out", xp.tanh(_linear(p, "edge_hidden", h)))[..., 0]


def _options(p: dict, xp, h, chosen, grid, pair_levels: int):
    """Logits (B, pair_levels + G) of the rho options given the pair vectors (B, K, N, d) at the chosen edges (B, K)."""
    g = _linear(p, "option_global", h.mean(axis=(1, 2)))[:, None]
    parts = []
    if pair_levels:
        K = h.shape[1]
        picked = h[xp.arange(h.shape[0])[:, None], xp.arange(K)[None], chosen]  # (B, K, d)
        parts.append(_linear(p, "option_out", xp.tanh(_linear(p, "option_pair", picked) + g))[..., 0])
    parts.append(_linear(p, "option_out", xp.tanh(_linear(p, "option_grid", grid)[None] + g))[..., 0])
    return xp.concatenate(parts, axis=-1)


class MigrationNet(nn.Module):
    """Logits of each modality's edges and of the rho options for observations of any N and K (:func:`pairs_of`);
    ``width``: the size d of every hidden vector."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.width = int(width)
        self.layers = nn.ModuleDict(
            {name: nn.Linear(n_in, n_out, bias) for name, (n_in, n_out, bias) in layer_sizes(self.width).items()}
        )
        self._views = self._views_key = None

    def forward(self, x, edges) -> tuple[torch.Tensor, torch.Tensor]:
        """(edge logits (B, K, N), option logits (B, pair_levels + G)) given the pair features and the chosen edges
        (B, K) that the pair options read (the teacher's, in training)."""
        p = {name: (layer.weight, layer.bias) for name, layer in self.layers.items()}
        h, edge_logits = _encode(p, _TorchOps, torch.as_tensor(x.pairs))
        options = _options(p, _TorchOps, h, torch.as_tensor(edges), torch.as_tensor(x.grid), x.pair_levels)
        return edge_logits, options

    def numpy_params(self) -> dict:
        """numpy views of the parameters (no copies), rebuilt if a parameter's storage moved."""
        key = tuple(p.data_ptr() for p in self.parameters())
        if self._views_key != key:
            self._views = {
                name: (layer.weight.detach().numpy(), None if layer.bias is None else layer.bias.detach().numpy())
                for name, layer in self.layers.items()
            }
            self._views_key = key
        return self._views

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_views"] = state["_views_key"] = None
        return state

    def act(self, x: Pairs, params: dict | None = None) -> np.ndarray:
        """Actions (B, K + 1): distinct edges, the most probable (modality, edge) pair first, then the most
        probable rho option given them. Evaluated in numpy (at batch 1 torch's per-call overhead costs more than
        the arithmetic); ``params``: :meth:`numpy_params` taken earlier (a policy's, saving the look-up)."""
        p = self.numpy_params() if params is None else params
        h, logits = _encode(p, np, x.pairs)
        edges = distinct_edges(logits)
        options = _options(p, np, h, edges, x.grid, x.pair_levels)
        return np.concatenate([edges, options.argmax(-1)[:, None]], -1)


class _TorchOps:
    """The few numpy names ``_encode`` and ``_options`` use, on torch tensors."""

    tanh = staticmethod(torch.tanh)
    arange = staticmethod(torch.arange)

    @staticmethod
    def concatenate(parts, axis):
        return torch.cat(parts, dim=axis)

    @staticmethod
    def amax(x, axis):
        return torch.amax(x, dim=axis)


def distinct_edges(logits: np.ndarray) -> np.ndarray:
    """(B, K) distinct edges from edge logits (B, K, N): repeatedly the (modality, edge) pair of highest log
    probability among the modalities left and the edges still free."""
    logits = np.asarray(logits, dtype=np.float64)
    B, K, N = logits.shape
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    edges = np.zeros((B, K), dtype=np.int64)
    rows = np.arange(B)
    for _ in range(K):
        flat = logp.reshape(B, -1).argmax(-1)
        k, n = flat // N, flat % N
        edges[rows, k] = n
        logp[rows, k, :] = -np.inf
        logp[rows, :, n] = -np.inf
    return edges


class MigrationPolicy:
    """The trained network as a policy of ServiceMigration-v0 of any size, on the env it is given (its config
    gives N, K, the rho grid and whether the pair levels are offered); ``on(env)`` moves it to another env."""

    def __init__(self, model: MigrationNet, env=None):
        self.model = model.eval()
        self.env = env
        cfg = getattr(getattr(env, "unwrapped", env), "cfg", None)
        if cfg is not None and (not cfg.observe_pair_costs or cfg.continuous_rho):
            raise ValueError(
                "the migration generalist plays ServiceMigration-v0 with observe_pair_costs=True and "
                f"continuous_rho=False (the defaults), got observe_pair_costs={cfg.observe_pair_costs}, "
                f"continuous_rho={cfg.continuous_rho}"
            )
        self.cfg = cfg
        if cfg is not None:  # fixed per env: N, K, the rho grid and whether pair levels are offered
            self._sizes = (cfg.num_edges, cfg.num_modalities, cfg.rho_grid, cfg.offers_pair_rho)
        self._params = model.numpy_params()  # a policy acts with the weights it was given

    def on(self, env) -> MigrationPolicy:
        """The same network acting on ``env``."""
        return MigrationPolicy(self.model, env)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation, info=None):
        if self.cfg is None:
            raise ValueError("the migration generalist needs its env (N, K and the rho levels): use policy.on(env)")
        return self.model.act(pairs_of(np.asarray(observation)[None], *self._sizes), self._params)[0]
