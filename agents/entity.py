"""A placement network for EdgePartition whose parameters do not depend on M (blocks) or N (servers).

The observation of an instance with M blocks and N servers (``edge_envs.edge_partition.layout.OBSERVATION``)
is read as entities: M blocks (each block's latencies, sizes and deadline, its place in the chain and its
neighbours' features), N + 1 locations (the device, then each server's speed, queue and rate) and the
slot's global features (device queue, tasks, energy, time left). One encoder per kind embeds every
block and every location (DeepSets, Zaheer et al. 2017); their means and the device's vector form a
context fed back to each. The chain is then placed block by block: each (block, location) pair is scored
by one shared MLP of the two vectors, the pair's own features (the block's compute time there, the
location's queue, the return of the result from there) and the chain's state so far (whether the
previous block ran there, the transfer of the block's input from the previous block's location, the
work the earlier blocks of this slot already put there). Every weight is shared over blocks and over
locations, so one checkpoint plays any M and N, and permuting the servers permutes the scores the same
way (no server position is encoded). Training scores every block at once given the teacher's chain.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from numba import njit
from torch import nn

from edge_envs.edge_partition import core
from edge_envs.edge_partition.layout import ObservationLayout

BLOCK_FEATURES = 17  # local, edge latency, input, output size, deadline, position, is last; the neighbours' five
LOCATION_FEATURES = 4  # speed, queue, rate, is the device
GLOBAL_FEATURES = 4  # device queue, tasks, energy, time left
PAIR_FEATURES = 4  # compute there, queue there, return of the result from there, is the device
CHAIN_FEATURES = 3  # the previous block ran there, transfer of the input from there, work placed there so far
WIRED = 0.16  # transfer time between two servers per unit of the upload at the highest wireless rate
"""(highest wireless rate 16 Mbit/s) / (wired R_max 100 Mbit/s) at the default config: a feature's scale only."""
_BLOCK_KEYS = ("local_latency", "edge_latency", "input_size", "output_size", "deadline")


def _unsquash(x: np.ndarray) -> np.ndarray:
    """Inverse of the observation's s(x) = x / (1 + x), with x clipped below 1 (float32 rounding)."""
    x = np.clip(x, 0.0, 0.999)
    return x / (1.0 - x)


def _squash(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + x)


class Entities(NamedTuple):
    """The network's input for a batch of B observations, float32 numpy arrays (L = N + 1 locations)."""

    blocks: np.ndarray  # (B, M, 17)
    locations: np.ndarray  # (B, L, 4)
    globals_: np.ndarray  # (B, 4)
    pairs: np.ndarray  # (B, M, L, 4)
    compute: np.ndarray  # (B, M, L): the block's compute there (lambda x seconds, unsquashed)
    data: np.ndarray  # (B, M): the block's input (lambda x bits / lowest rate, unsquashed)
    slow: np.ndarray  # (B, L): 1 / rate of each location from the device, per the highest rate (0: the device)


def entities(obs, num_blocks: int, num_servers: int) -> Entities:
    """The :class:`Entities` of observations (B, 5 M + 3 N + 4) of an instance with M blocks and N servers."""
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
    slow = 1.0 / np.maximum(get("rate"), 1e-3)[:, None]  # (B, 1, N): per unit of data at the highest rate
    compute = np.empty((B, M, N + 1), np.float32)
    compute[..., 0] = _unsquash(get("local_latency"))
    compute[..., 1:] = _unsquash(get("edge_latency"))[..., None] / np.maximum(get("speed"), 1e-3)[:, None]
    pairs = np.zeros((B, M, N + 1, PAIR_FEATURES), np.float32)
    pairs[..., 0] = _squash(compute)
    pairs[..., 0, 1], pairs[..., 1:, 1] = device_queue[:, None], get("queue")[:, None]
    pairs[:, -1, 1:, 2] = _squash(_unsquash(get("output_size")[:, -1:]) * slow[:, 0])
    pairs[..., 0, 3] = 1.0
    slow = np.concatenate([np.zeros((B, 1), np.float32), slow[:, 0]], -1)
    return Entities(blocks, locations, globals_, pairs, compute, _unsquash(get("input_size")), slow)


@njit(cache=True)
def _chain_row(slow, data, previous, placed, out) -> None:
    """``out`` (L, 3): the chain features of one block's locations given the previous block's location
    (block 0: the device, where the raw image is) and the work ``placed`` (L,) the earlier blocks put on each
    location: the previous block ran there, the transfer of the block's input ``data`` from there (device <->
    server at the server's rate ``slow``, server <-> server at the wired rate), the work placed there so far."""
    one = np.float32(1.0)
    for location in range(slow.shape[0]):
        if location == previous:
            transfer = np.float32(0.0)
        elif previous == 0:
            transfer = slow[location] * data
        elif location == 0:
            transfer = slow[previous] * data
        else:
            transfer = np.float32(WIRED) * data
        out[location, 0] = one if location == previous else np.float32(0.0)
        out[location, 1] = transfer / (one + transfer)
        out[location, 2] = placed[location] / (one + placed[location])


@njit(cache=True)
def _teacher_chain(compute, data, slow, actions, out) -> None:
    """``out`` (B, M, L, 3): :func:`_chain_row` of every block along the chains ``actions`` (B, M)."""
    B, M, L = compute.shape
    placed = np.zeros(L, np.float32)
    for b in range(B):
        placed[:] = 0.0
        previous = 0
        for m in range(M):
            _chain_row(slow[b], data[b, m], previous, placed, out[b, m])
            previous = actions[b, m]
            placed[previous] += compute[b, m, previous]


def teacher_chain_features(e: Entities, actions: np.ndarray) -> np.ndarray:
    """(B, M, L, 3): the chain features (:func:`_chain_row`) of every block along a given chain of actions (B, M)."""
    out = np.empty((*e.compute.shape, CHAIN_FEATURES), np.float32)
    _teacher_chain(e.compute, e.data, e.slow, np.ascontiguousarray(actions, dtype=np.int64), out)
    return out


@njit(cache=True)
def _decode(pair, compute, data, slow, chain_in, hidden_in, hidden_bias, out_weight, out_bias, uniforms, actions):
    """Place every chain block by block (:meth:`EntityPlacementNet.act`): the pair scorer of :func:`_score` on
    the pair vectors ``pair`` (B, M, L, d) and each block's chain features; the argmax location, or with
    ``uniforms`` (M, B) a sample of the scores' softmax by inversion. Weights are transposed: (inputs, d)."""
    B, M, L, d = pair.shape
    placed = np.zeros(L, np.float32)
    chain = np.empty((L, CHAIN_FEATURES), np.float32)
    x = np.empty(d, np.float32)
    h = np.empty(d, np.float32)
    scores = np.empty(L, np.float32)
    for b in range(B):
        placed[:] = 0.0
        previous = 0
        for m in range(M):
            _chain_row(slow[b], data[b, m], previous, placed, chain)
            for location in range(L):  # explicit loops: numba's array expressions allocate temporaries
                for k in range(d):
                    total = pair[b, m, location, k]
                    for j in range(CHAIN_FEATURES):
                        total += chain[location, j] * chain_in[j, k]
                    x[k] = np.tanh(total)
                    h[k] = hidden_bias[k]
                for i in range(d):  # h += x[i] * row i: the inner loop runs over outputs, so it vectorises
                    for k in range(d):
                        h[k] += x[i] * hidden_in[i, k]
                score = out_bias
                for k in range(d):
                    score += np.tanh(h[k]) * out_weight[k]
                scores[location] = score
            if uniforms.shape[0] == 0:
                previous = int(np.argmax(scores))
            else:
                cdf = np.cumsum(np.exp(scores - scores.max()))
                previous = min(int(np.sum(cdf < uniforms[m, b] * cdf[-1])), L - 1)
            actions[b, m] = previous
            placed[previous] += compute[b, m, previous]


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
        "pair_chain": (CHAIN_FEATURES, d, False),
        "pair_hidden": (d, d, True),
        "pair_out": (d, 1, True),
    }


def _linear(p: dict, name: str, x):
    weight, bias = p[name]
    return x @ weight.T + bias if bias is not None else x @ weight.T


def _encode(p: dict, xp, blocks, locations, globals_, pairs):
    """(B, M, L, d): each (block, location) pair's vector before the chain's features, by the same code in
    torch (training) and numpy (acting): ``p`` maps a layer's name to its (weight, bias) as ``xp`` arrays."""
    g = xp.tanh(_linear(p, "global_in", globals_))[:, None]
    hb = xp.tanh(_linear(p, "block_in", blocks) + g)
    hl = xp.tanh(_linear(p, "location_in", locations) + g)
    pooled = xp.concatenate([hb.mean(axis=1), hl[:, 1:].mean(axis=1), hl[:, 0]], axis=-1)
    context = xp.tanh(_linear(p, "context", pooled))[:, None]
    hb = xp.tanh(_linear(p, "block_mix", hb) + _linear(p, "block_context", context))
    hl = xp.tanh(_linear(p, "location_mix", hl) + _linear(p, "location_context", context))
    pair_block, pair_location = _linear(p, "pair_block", hb), _linear(p, "pair_location", hl)
    return pair_block[:, :, None] + pair_location[:, None] + _linear(p, "pair_features", pairs)


def _score(p: dict, pair, chain):
    """Logits (..., L) of pair vectors (..., L, d) with their chain features (..., L, 3), in torch (training);
    acting runs the same arithmetic compiled (:func:`_decode`, held equal by a test)."""
    hidden = torch.tanh(_linear(p, "pair_hidden", torch.tanh(pair + _linear(p, "pair_chain", chain))))
    return _linear(p, "pair_out", hidden)[..., 0]


class EntityPlacementNet(nn.Module):
    """Scores of each block's locations for observations of any M and N (:func:`entities`): shared per-block
    and per-location encoders, a pooled context, a shared pair scorer that reads the chain placed so far;
    ``width``: the size d of every hidden vector."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.width = int(width)
        self.layers = nn.ModuleDict(
            {name: nn.Linear(n_in, n_out, bias) for name, (n_in, n_out, bias) in layer_sizes(self.width).items()}
        )
        self._views = self._views_key = self._tensors = None

    def forward(self, e: Entities, chain) -> torch.Tensor:
        """Logits (B, M, L) of every block given the chain features (B, M, L, 3) of the chain it follows
        (:func:`teacher_chain_features`); what the imitation loss scores."""
        p = {name: (layer.weight, layer.bias) for name, layer in self.layers.items()}
        pair = _encode(p, torch, *(torch.as_tensor(x) for x in e[:4]))
        return _score(p, pair, torch.as_tensor(chain))

    def _numpy_params(self) -> dict:
        """numpy views of the parameters (no copies), rebuilt if a parameter's storage moved."""
        if self._tensors is None:  # walking the modules on every call cost a third of a decision
            self._tensors = tuple(self.parameters())
        key = tuple(p.data_ptr() for p in self._tensors)
        if self._views_key != key:
            self._views = {
                name: (layer.weight.detach().numpy(), None if layer.bias is None else layer.bias.detach().numpy())
                for name, layer in self.layers.items()
            }
            self._views_key = key
        return self._views

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_views"] = state["_views_key"] = state["_tensors"] = None
        return state

    def act(self, obs, num_blocks: int, num_servers: int, rng=None, deterministic: bool = True) -> np.ndarray:
        """Placements (B, M) of observations (B, D), block by block: the argmax (or, with ``rng``, a sample) of
        the block's scores given the chain so far. The encoder runs in numpy (at batch 1 torch's per-call
        overhead costs several times the arithmetic), the chain in one compiled loop (:func:`_decode`)."""
        e = entities(obs, num_blocks, num_servers)
        p = self._numpy_params()
        pair = _encode(p, np, *e[:4])
        B, M, L = e.compute.shape
        actions = np.empty((B, M), dtype=np.int64)
        uniforms = np.empty((0, B)) if deterministic else rng.random((M, B))
        (chain_in, _), (hidden_in, hidden_bias), (out_weight, out_bias) = (
            p[name] for name in ("pair_chain", "pair_hidden", "pair_out")
        )
        transposed = [np.ascontiguousarray(w.T) for w in (chain_in, hidden_in)]
        _decode(
            pair, e.compute, e.data, e.slow, *transposed, hidden_bias, out_weight[0], out_bias[0], uniforms, actions
        )
        return actions


class EntityPolicy:
    """The trained network as a policy of EdgePartition-v0 of any size: M and N from ``info`` (``deadline``:
    one per block, ``server_speed``: one per server), else from the env given at construction.

    ``candidates`` 1: the network's argmax chain. K > 1: that chain and K - 1 chains sampled from the
    network's scores (seeded by ``reset``) are priced by the env's own slot cost (``core.slot_cost`` on the
    env's core state, which the baselines read too) and the cheapest is played: sampling and selection, as
    learned solvers of routing problems are evaluated (Kool et al., ICLR 2019). It needs the env."""

    def __init__(self, model: EntityPlacementNet, env=None, candidates: int = 1, seed: int | None = None):
        self.model = model.eval()
        self.env, self.candidates = env, int(candidates)
        cfg = getattr(getattr(env, "unwrapped", env), "cfg", None)
        self.sizes = None if cfg is None else (cfg.num_blocks, cfg.num_servers)
        self.reset(seed)

    def on(self, env) -> EntityPolicy:
        """The same network and candidates acting on ``env``."""
        return EntityPolicy(self.model, env, self.candidates)

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

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
        obs = np.asarray(observation)[None]
        chain = self.model.act(obs, *sizes)
        if self.candidates == 1:
            return chain[0]
        if self.env is None:
            raise ValueError(f"candidates={self.candidates}: pricing the chains needs the env; use policy.on(env)")
        sampled = self.model.act(np.repeat(obs, self.candidates - 1, 0), *sizes, self._rng, deterministic=False)
        chains = np.concatenate([chain, sampled])
        reward = core.slot_cost(self.env.unwrapped.state, chains[None]).reward[0]
        return chains[int(np.argmax(reward))]
