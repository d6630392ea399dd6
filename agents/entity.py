"""A placement network for EdgePartition whose parameters do not depend on M (blocks) or N (servers).

The observation of an instance with M blocks and N servers (``edge_envs.edge_partition.core.OBSERVATION``)
is read as entities: M blocks (each block's latencies, sizes and deadline, its place in the chain and its
neighbours' features), N + 1 locations (the device, then each server's speed, queue and rate) and the
slot's global features (device queue, tasks, energy, time left). One encoder per kind embeds every
block and every location (DeepSets, Zaheer et al. 2017); their means and the device's vector form a
context fed back to each; each (block, location) pair is then scored by one shared MLP of the two
vectors and the pair's own features (the block's compute time there, the location's queue, the upload
of the block's input to it), and each block gets a learned bonus for staying where the previous block
ran (block 0: the device, where the raw image is). Every weight is shared over blocks and over locations, so one
checkpoint plays any M and N, and permuting the servers permutes the logits the same way (no server
position is encoded). Acting decodes the chain block by block (the stay bonus needs the previous choice).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from edge_envs.edge_partition.core import ObservationLayout

BLOCK_FEATURES = 17  # local, edge latency, input, output size, deadline, position, is last; the neighbours' five
LOCATION_FEATURES = 4  # speed, queue, rate, is the device
GLOBAL_FEATURES = 4  # device queue, tasks, energy, time left
PAIR_FEATURES = 4  # compute there, queue there, upload of the input to it, is the device
_BLOCK_KEYS = ("local_latency", "edge_latency", "input_size", "output_size", "deadline")


def _unsquash(x: np.ndarray) -> np.ndarray:
    """Inverse of the observation's s(x) = x / (1 + x), with x clipped below 1 (float32 rounding)."""
    x = np.clip(x, 0.0, 0.999)
    return x / (1.0 - x)


def _squash(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + x)


def entities(obs, num_blocks: int, num_servers: int) -> tuple[np.ndarray, ...]:
    """(blocks (B, M, 17), locations (B, N + 1, 4), globals (B, 4), pairs (B, M, N + 1, 4)), float32, of
    observations (B, 5 M + 3 N + 4) of an instance with M blocks and N servers (the network's input)."""
    M, N = num_blocks, num_servers
    obs = np.asarray(obs, dtype=np.float32)
    layout = ObservationLayout(M, N)
    if obs.ndim != 2 or obs.shape[-1] != layout.size:
        raise ValueError(
            f"observation: shape {obs.shape} does not fit M={M} blocks and N={N} servers "
            f"(a batch of rows of length 5 M + 3 N + 4 = {layout.size})"
        )
    get = lambda key: obs[:, layout.parts[key]]  # noqa: E731
    B = obs.shape[0]
    own = np.stack([get(key) for key in _BLOCK_KEYS], -1)  # (B, M, 5)
    chain = np.zeros((B, M, 2), np.float32)
    chain[..., 0] = np.linspace(0.0, 1.0, M)
    chain[:, -1, 1] = 1.0
    previous, following = np.zeros_like(own), np.zeros_like(own)
    previous[:, 1:], following[:, :-1] = own[:, :-1], own[:, 1:]
    blocks = np.concatenate([own, chain, previous, following], -1)
    device_queue = get("device_queue")
    locations = np.zeros((B, N + 1, LOCATION_FEATURES), np.float32)
    locations[:, 0, 1], locations[:, 0, 2:] = device_queue, 1.0  # the device: its queue, rate 1, the flag
    locations[:, 1:, 0], locations[:, 1:, 1], locations[:, 1:, 2] = get("speed"), get("queue"), get("rate")
    globals_ = np.stack([get(key) for key in ("device_queue", "tasks", "energy", "time_left")], -1)
    pairs = np.zeros((B, M, N + 1, PAIR_FEATURES), np.float32)
    pairs[..., 0, 0] = _squash(_unsquash(get("local_latency")))
    speed, rate = np.maximum(get("speed"), 1e-3), np.maximum(get("rate"), 1e-3)
    pairs[..., 1:, 0] = _squash(_unsquash(get("edge_latency"))[..., None] / speed[:, None])
    pairs[..., 0, 1], pairs[..., 1:, 1] = device_queue[:, None], get("queue")[:, None]
    pairs[..., 1:, 2] = _squash(_unsquash(get("input_size"))[..., None] / rate[:, None])
    pairs[..., 0, 3] = 1.0
    return blocks, locations, globals_, pairs


def layer_sizes(d: int) -> dict[str, tuple[int, int, bool]]:
    """The network's linear layers, name -> (inputs, outputs, has a bias), for hidden vectors of size ``d``."""
    return {
        "global_in": (GLOBAL_FEATURES, d, True),
        "block_in": (BLOCK_FEATURES, d, True),
        "location_in": (LOCATION_FEATURES, d, True),
        "context": (3 * d, d, True),
        "block_mix": (d, d, True),
        "block_context": (d, d, False),
        "location_mix": (d, d, True),
        "location_context": (d, d, False),
        "pair_block": (d, d, True),
        "pair_location": (d, d, False),
        "pair_features": (PAIR_FEATURES, d, False),
        "pair_hidden": (d, d, True),
        "pair_out": (d, 1, True),
        "stay": (d, 1, True),
    }


def _forward(p: dict, xp, blocks, locations, globals_, pairs):
    """Logits (B, M, N + 1) and stay bonus (B, M), by the same code in torch (training) and numpy (acting):
    ``p`` maps a layer's name to its (weight, bias) as ``xp`` arrays."""

    def linear(name, x):
        weight, bias = p[name]
        return x @ weight.T + bias if bias is not None else x @ weight.T

    g = xp.tanh(linear("global_in", globals_))[:, None]
    hb = xp.tanh(linear("block_in", blocks) + g)
    hl = xp.tanh(linear("location_in", locations) + g)
    pooled = xp.concatenate([hb.mean(axis=1), hl[:, 1:].mean(axis=1), hl[:, 0]], axis=-1)
    context = xp.tanh(linear("context", pooled))[:, None]
    hb = xp.tanh(linear("block_mix", hb) + linear("block_context", context))
    hl = xp.tanh(linear("location_mix", hl) + linear("location_context", context))
    pair = xp.tanh(
        linear("pair_block", hb)[:, :, None] + linear("pair_location", hl)[:, None] + linear("pair_features", pairs)
    )
    logits = linear("pair_out", xp.tanh(linear("pair_hidden", pair)))[..., 0]
    return logits, linear("stay", hb)[..., 0]


class EntityPlacementNet(nn.Module):
    """Logits (B, M, N + 1) of each block's location and the stay bonus (B, M) from observations of any
    M and N (:func:`entities`): shared per-block and per-location encoders, a pooled context, a shared
    pair scorer; ``width``: the size d of every hidden vector."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.width = int(width)
        self.layers = nn.ModuleDict(
            {name: nn.Linear(n_in, n_out, bias) for name, (n_in, n_out, bias) in layer_sizes(self.width).items()}
        )
        self._views = self._views_key = None

    def forward(self, parts) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, M, N + 1) and stay bonus (B, M) of :func:`entities`' arrays (numpy or torch)."""
        parts = [torch.as_tensor(x) for x in parts]
        params = {name: (layer.weight, layer.bias) for name, layer in self.layers.items()}
        return _forward(params, torch, *parts)

    def chained_logits(self, parts, actions: torch.Tensor) -> torch.Tensor:
        """Logits (B, M, N + 1) of :func:`entities`' arrays given the chain's actions (B, M): block m's stay
        bonus on a_{m-1} (block 0: on the device); what the imitation loss scores."""
        logits, stay = self(parts)
        previous = torch.cat([torch.zeros_like(actions[:, :1]), actions[:, :-1]], 1)
        return logits + stay[..., None] * nn.functional.one_hot(previous, logits.shape[-1])

    def _numpy_params(self) -> dict:
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

    def act(self, obs, num_blocks: int, num_servers: int, rng=None, deterministic: bool = True) -> np.ndarray:
        """Placements (B, M) of observations (B, D): block by block, the argmax (or, with ``rng``, a sample)
        of its logits plus the stay bonus on the previous block's location. Evaluated in numpy: at batch 1
        torch's per-call overhead costs several times the arithmetic."""
        logits, stay = _forward(self._numpy_params(), np, *entities(obs, num_blocks, num_servers))
        return decode(logits, stay, None if deterministic else rng)


def decode(logits: np.ndarray, stay: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Placements (B, M) from logits (B, M, L) and stay bonuses (B, M), block by block: the argmax (or, with
    ``rng``, a sample) of block m's logits plus its stay bonus on block m-1's location (block 0: the device)."""
    B, M, L = logits.shape
    actions = np.empty((B, M), dtype=np.int64)
    previous = np.zeros(B, dtype=np.int64)
    rows = np.arange(B)
    for m in range(M):
        scores = logits[:, m].copy()
        scores[rows, previous] += stay[:, m]
        if rng is None:
            previous = scores.argmax(-1)
        else:
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            cdf = np.cumsum(probs, -1)
            previous = np.minimum((cdf < rng.random((B, 1)) * cdf[:, -1:]).sum(-1), L - 1)
        actions[:, m] = previous
    return actions


class EntityPolicy:
    """The trained network as a policy of EdgePartition-v0 of any size: M and N from ``info`` (``deadline``:
    one per block, ``server_speed``: one per server), else from the env given at construction."""

    def __init__(self, model: EntityPlacementNet, env=None):
        self.model = model.eval()
        cfg = getattr(getattr(env, "unwrapped", env), "cfg", None)
        self.sizes = None if cfg is None else (cfg.num_blocks, cfg.num_servers)

    def reset(self, seed: int | None = None) -> None:
        """Deterministic: nothing to reset."""

    def act(self, observation, info=None):
        if isinstance(info, dict) and "deadline" in info and "server_speed" in info:
            sizes = (len(info["deadline"]), len(info["server_speed"]))
        elif self.sizes is not None:
            sizes = self.sizes
        else:
            raise ValueError(
                "info: the entity policy reads M and N from info['deadline'] and info['server_speed'] "
                "(EdgePartition-v0's info); pass the env's info or build the policy with the env"
            )
        return self.model.act(np.asarray(observation)[None], *sizes)[0]
