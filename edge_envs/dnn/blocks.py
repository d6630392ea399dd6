"""Group a layer chain into M consecutive blocks, and the per-block table the environments read.

Two groupings, both exact optimisations over contiguous blocks (dynamic programming over the
cut positions, O(M L^2) for L layers):
- ``balanced``: minimise the largest block latency (measured median); among the groupings reaching
  that minimum, take the one with the smallest sum of squared block latencies (the most even).
- ``pooling``: the natural cut points are after each pooling layer and before each downsampling
  residual block. With S natural segments, M == S cuts exactly there; M > S keeps every natural cut
  and splits segments further; M < S cuts only at natural points and merges segments. In each case
  the choice among the admissible groupings is the balanced one above.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from edge_envs.dnn.profile import SHIPPED_DEVICES, Profile, load_profile, shipped_profile

METHODS = ("balanced", "pooling")
MIN_BLOCKS = 3


def _check_blocks(M: object, n_layers: int, model: str) -> int:
    if n_layers < MIN_BLOCKS:
        raise ValueError(f"M: {model} has {n_layers} layers, fewer than the minimum of {MIN_BLOCKS} blocks")
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or not MIN_BLOCKS <= M <= n_layers:
        raise ValueError(
            f"M: must be an integer in [{MIN_BLOCKS}, {n_layers}] for {model} ({n_layers} layers), got {M!r}"
        )
    return int(M)


def natural_cuts(kinds: tuple[str, ...] | list[str]) -> list[int]:
    """Cut positions (a cut at p separates layers p-1 and p) after pooling layers and before
    downsampling residual blocks, excluding the two ends of the chain."""
    cuts = {i + 1 for i, kind in enumerate(kinds) if kind == "pool"}
    cuts |= {i for i, kind in enumerate(kinds) if kind == "residual_down"}
    return sorted(p for p in cuts if 0 < p < len(kinds))


def _partition(costs: np.ndarray, M: int, allowed: np.ndarray, required: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Exact min-max (then min sum of squares) split of ``costs`` into M contiguous blocks whose
    inner cuts lie where ``allowed`` is True and include every position where ``required`` is True."""
    L = len(costs)
    prefix = np.concatenate(([0.0], np.cumsum(costs, dtype=np.float64)))
    # valid[i, j]: [i, j) may be a block (its ends are admissible cuts, no required cut inside).
    valid = np.zeros((L + 1, L + 1), dtype=bool)
    for i in range(L):
        if not allowed[i]:
            continue
        for j in range(i + 1, L + 1):
            if allowed[j]:
                valid[i, j] = True
            if required[j]:
                break
    block = prefix[None, :] - prefix[:, None]  # block[i, j] = latency of layers [i, j)

    def solve(combine, cost):
        best = np.full((M + 1, L + 1), np.inf)
        choice = np.zeros((M + 1, L + 1), dtype=np.int64)
        best[0, 0] = 0.0  # latencies are >= 0, so 0 is neutral for both max and +
        for k in range(1, M + 1):
            for j in range(k, L + 1):
                for i in range(k - 1, j):
                    if not valid[i, j] or not np.isfinite(best[k - 1, i]):
                        continue
                    value = combine(best[k - 1, i], cost(i, j))
                    if value < best[k, j]:  # strict: ties keep the earliest cut, deterministically
                        best[k, j], choice[k, j] = value, i
        return best, choice

    best, _ = solve(max, lambda i, j: block[i, j])
    if not np.isfinite(best[M, L]):
        raise ValueError(f"M: no grouping into {M} blocks respects the cut constraints")
    limit = best[M, L]
    _, choice = solve(lambda a, b: a + b, lambda i, j: block[i, j] ** 2 if block[i, j] <= limit else np.inf)
    ranges, stop = [], L
    for k in range(M, 0, -1):
        start = int(choice[k, stop])
        ranges.append((start, stop))
        stop = start
    return tuple(reversed(ranges))


def group_blocks(profile: Profile, M: int, method: str = "balanced", batch: int = 1) -> tuple[tuple[int, int], ...]:
    """Split the profile's layers into M contiguous ``[start, stop)`` ranges covering every layer once,
    balancing the measured median latency at ``batch`` (see the module docstring for the methods)."""
    if method not in METHODS:
        raise ValueError(f"method: must be one of {METHODS}, got {method!r}")
    L = len(profile.layers)
    M = _check_blocks(M, L, profile.model)
    costs = profile.layer_latency(batch)
    allowed = np.ones(L + 1, dtype=bool)
    required = np.zeros(L + 1, dtype=bool)
    if method == "pooling":
        cuts = natural_cuts([layer.kind for layer in profile.layers])
        if M >= len(cuts) + 1:
            required[cuts] = True
        else:
            allowed[1:L] = False
            allowed[cuts] = True
    return _partition(costs, M, allowed, required)


@dataclass(frozen=True)
class BlockTable:
    """Per-block numbers of a model grouped into M blocks (arrays of length M, float64, read-only).

    ``local_s``/``edge_s``: block latency per image (sum of its layers' median latencies, seconds, divided
    by the batch size they were measured at) on the IoT device's and on the edge server's profile. The
    local profile is read at the table's batch; the edge profile at that batch too when it holds it, else
    at its smallest batch (the imported GPU profiles hold only their source's training batch, so their
    per-image times are throughput times of a batch of 256 or 128 images).
    ``input_bytes``/``output_bytes``: activation entering/leaving the block for one image (block 0's
    input is the raw image); ``param_bytes``: parameters and buffers; ``flops``: for one image.
    """

    names: tuple[str, ...]
    layer_ranges: tuple[tuple[int, int], ...]
    local_s: np.ndarray
    edge_s: np.ndarray
    input_bytes: np.ndarray
    output_bytes: np.ndarray
    param_bytes: np.ndarray
    flops: np.ndarray

    def __post_init__(self):
        M = len(self.names)
        if len(self.layer_ranges) != M:
            raise ValueError(f"layer_ranges: need {M} ranges (one per name), got {len(self.layer_ranges)}")
        for field in ("local_s", "edge_s", "input_bytes", "output_bytes", "param_bytes", "flops"):
            values = np.array(getattr(self, field), dtype=np.float64)
            if values.shape != (M,):
                raise ValueError(f"{field}: need shape ({M},), got {values.shape}")
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise ValueError(f"{field}: values must be finite and >= 0")
            values.setflags(write=False)
            object.__setattr__(self, field, values)

    @property
    def M(self) -> int:
        return len(self.names)


def _resolve(model: str, source) -> Profile:
    if isinstance(source, Profile):
        profile = source
    elif isinstance(source, str) and source in SHIPPED_DEVICES:
        profile = shipped_profile(model, source)
    elif isinstance(source, (str, os.PathLike)):
        profile = load_profile(source)
    else:
        raise TypeError(f"profile source must be 'cpu', 'gpu', a Profile or a path, got {type(source).__name__}")
    if profile.model != model:
        raise ValueError(f"profile: is for model {profile.model!r}, not {model!r}")
    return profile


class _Same:
    """A cache key that matches only the very same object (and keeps it alive, so its id is not reused)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def block_table(model: str, M: int, local="cpu", edge="cpu", method: str = "balanced", batch: int = 1) -> BlockTable:
    """Group ``model`` into M blocks (balanced on the ``local`` profile) and tabulate each block.

    ``local``/``edge``: "cpu" or "gpu" for a shipped profile, a :class:`Profile`, or a profile file path.
    Tables of named profiles are cached per loaded profile, so a file rewritten on disk gives a new table.
    """
    local_profile, edge_profile = _resolve(model, local), _resolve(model, edge)
    if batch not in local_profile.batch_sizes:
        raise ValueError(
            f"local: the profile {local!r} of {model} was measured at batch sizes {list(local_profile.batch_sizes)}, "
            f"not at batch {batch}; use a profile measured at batch {batch} (e.g. 'cpu')"
        )
    if isinstance(local, str) and isinstance(edge, str):
        # load_profile returns one object per file content: the same content hits the cache.
        return _cached_block_table(model, M, _Same(local_profile), _Same(edge_profile), method, batch)
    return _block_table(model, M, local_profile, edge_profile, method, batch)


def _block_table(
    model: str, M: int, local_profile: Profile, edge_profile: Profile, method: str, batch: int
) -> BlockTable:
    if [layer.name for layer in local_profile.layers] != [layer.name for layer in edge_profile.layers]:
        raise ValueError("edge: the local and edge profiles list different layers")
    ranges = group_blocks(local_profile, M, method, batch)
    layers = local_profile.layers
    edge_batch = batch if batch in edge_profile.batch_sizes else edge_profile.batch_sizes[0]
    local_s, edge_s = local_profile.per_image_latency(batch), edge_profile.per_image_latency(edge_batch)
    return BlockTable(
        names=tuple(layers[a].name if b - a == 1 else f"{layers[a].name}..{layers[b - 1].name}" for a, b in ranges),
        layer_ranges=ranges,
        local_s=[local_s[a:b].sum() for a, b in ranges],
        edge_s=[edge_s[a:b].sum() for a, b in ranges],
        input_bytes=[layers[a].input_bytes for a, _ in ranges],
        output_bytes=[layers[b - 1].output_bytes for _, b in ranges],
        param_bytes=[sum(layer.param_bytes for layer in layers[a:b]) for a, b in ranges],
        flops=[sum(layer.flops for layer in layers[a:b]) for a, b in ranges],
    )


@functools.lru_cache(maxsize=256)
def _cached_block_table(model: str, M: int, local: _Same, edge: _Same, method: str, batch: int) -> BlockTable:
    return _block_table(model, M, local.value, edge.value, method, batch)
