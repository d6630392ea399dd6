"""Vehicles' local training, batched over clients: one flat parameter vector per model, stacked.

A model is the MLP ``inputs -> hidden (ReLU) -> classes`` stored as one flat float32 vector (W1, b1,
W2, b2 in that order), so C models are a (C, P) tensor: server aggregation is a matrix product and
local training runs every client at once with batched matrix products (``torch.baddbmm``). The
clients' losses are independent, so the gradient of their sum with respect to the stacked
parameters is each client's own gradient: one (hand-written) backward pass trains them all.

Local training is plain minibatch SGD: E epochs, each over a fresh random order of the client's
shard in minibatches of ``batch_size`` (the last one smaller), the loss the mean cross-entropy of
the minibatch. Clients with smaller shards finish their epoch early; their remaining steps are
masked (zero weight, so zero gradient and no change). ``train_per_client`` runs the same plan one
client at a time: the reference the batched trainer must equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class MLPShape:
    """Sizes of the MLP; ``num_params`` is the length of its flat parameter vector."""

    inputs: int
    hidden: int
    classes: int

    @property
    def num_params(self) -> int:
        return self.inputs * self.hidden + self.hidden + self.hidden * self.classes + self.classes

    def split(self, flat: torch.Tensor):
        """Views (W1 (C, D, H), b1 (C, 1, H), W2 (C, H, K), b2 (C, 1, K)) into stacked flat parameters (C, P): writing
        them writes ``flat``."""
        d, h, k = self.inputs, self.hidden, self.classes
        c = flat.shape[0]
        ends = np.cumsum([d * h, h, h * k, k])
        return (
            flat[:, : ends[0]].view(c, d, h),
            flat[:, ends[0] : ends[1]].view(c, 1, h),
            flat[:, ends[1] : ends[2]].view(c, h, k),
            flat[:, ends[2] : ends[3]].view(c, 1, k),
        )


def init_params(shape: MLPShape, rng: np.random.Generator) -> torch.Tensor:
    """One flat parameter vector (P,) with PyTorch's default Linear init, uniform +-1/sqrt(fan_in), from ``rng``."""
    parts = []
    for fan_in, size in (
        (shape.inputs, shape.inputs * shape.hidden),
        (shape.inputs, shape.hidden),
        (shape.hidden, shape.hidden * shape.classes),
        (shape.hidden, shape.classes),
    ):
        bound = 1.0 / np.sqrt(fan_in)
        parts.append(rng.uniform(-bound, bound, size=size))
    return torch.from_numpy(np.concatenate(parts).astype(np.float32))


def logits(shape: MLPShape, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Class scores (C, n, K) of C models (C, P) on their own inputs x (C, n, D)."""
    w1, b1, w2, b2 = shape.split(flat)
    return torch.baddbmm(b2, torch.relu(torch.baddbmm(b1, x, w1)), w2)


@torch.no_grad()
def evaluate(shape: MLPShape, flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor):
    """Accuracy and mean cross-entropy (each (C,), float64 numpy) of C models on their inputs x (C, n, D), y (C, n)."""
    scores = logits(shape, flat, x)
    loss = F.cross_entropy(scores.flatten(0, 1), y.flatten(), reduction="none").reshape(y.shape).mean(dim=1)
    accuracy = (scores.argmax(dim=2) == y).double().mean(dim=1)
    return accuracy.numpy(), loss.double().numpy()


@torch.no_grad()
def predict(shape: MLPShape, flat: torch.Tensor, x: torch.Tensor) -> np.ndarray:
    """Predicted classes (C, n) of C models (C, P) on the same inputs x (n, D)."""
    return logits(shape, flat, x.expand(flat.shape[0], *x.shape)).argmax(dim=2).numpy()


def minibatch_plan(sizes: np.ndarray, epochs: int, batch_size: int, rng: np.random.Generator):
    """Positions into each client's shard for every step: (steps, C, batch_size) int64 and a bool mask.

    Each epoch draws a uniform random order of each client's ``sizes[c]`` samples; step j of an epoch
    takes positions j*B .. j*B + B - 1 of that order; positions past a shard's end are masked.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n_max = max(int(sizes.max(initial=0)), 1)
    steps = -(-n_max // batch_size)
    width = steps * batch_size
    keys = rng.random((epochs, len(sizes), n_max))
    keys[:, np.arange(n_max)[None, :] >= sizes[:, None]] = np.inf  # padding sorts last
    order = np.argsort(keys, axis=2, kind="stable")
    order = np.concatenate([order, np.zeros((epochs, len(sizes), width - n_max), np.int64)], axis=2)
    valid = np.arange(width)[None, :] < sizes[:, None]  # (C, width): the first sizes[c] of each order are real
    positions = order.reshape(epochs, len(sizes), steps, batch_size).transpose(0, 2, 1, 3)
    mask = np.broadcast_to(valid.reshape(len(sizes), steps, batch_size).transpose(1, 0, 2), positions.shape[1:])
    positions = positions.reshape(epochs * steps, len(sizes), batch_size)
    mask = np.broadcast_to(mask[None], (epochs, *mask.shape)).reshape(positions.shape)
    return positions, np.ascontiguousarray(mask)


def _masked_loss(shape, flat, x, y, mask, flip):
    """Sum over clients of each client's mean cross-entropy over its unmasked samples (labels K-1-y where ``flip``)."""
    if flip is not None:
        y = torch.where(torch.as_tensor(flip)[:, None], shape.classes - 1 - y, y)
    scores = logits(shape, flat, x)
    per_sample = F.cross_entropy(scores.flatten(0, 1), y.flatten(), reduction="none").reshape(y.shape)
    count = mask.sum(dim=1).clamp(min=1.0)
    return torch.sum(torch.sum(per_sample * mask, dim=1) / count)


def train_batched(
    shape: MLPShape,
    start: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    shards: np.ndarray,
    positions: np.ndarray,
    mask: np.ndarray,
    lr: float,
    flip: np.ndarray | None = None,
) -> torch.Tensor:
    """Every client's local SGD at once; returns the trained parameters (C, P).

    ``start`` (C, P) holds each client's starting model, ``x`` (n, D) and ``y`` (n,) the training set,
    ``shards`` (C, n_max) each client's sample indices, and ``positions``/``mask`` the plan of
    :func:`minibatch_plan`; clients marked in ``flip`` (C,) train on flipped labels ``K - 1 - y``.
    """
    params = start.clone()
    active = np.flatnonzero(mask.any(axis=(1, 2)))
    index = torch.from_numpy(shards[np.arange(len(shards))[None, :, None], positions[active]])  # (steps, C, B)
    index = index.clamp(min=0)  # padding (-1) only sits under the mask
    xs = x.index_select(0, index.reshape(-1)).reshape(*index.shape, x.shape[1])
    ys = y.index_select(0, index.reshape(-1)).reshape(index.shape)
    if flip is not None:
        ys = torch.where(torch.as_tensor(flip)[None, :, None], shape.classes - 1 - ys, ys)
    weights = torch.from_numpy(mask[active]).to(torch.float32)
    scale = weights / weights.sum(dim=2, keepdim=True).clamp(min=1.0)  # each client's minibatch mean
    for step in range(len(active)):
        _sgd_step(shape, params, xs[step], ys[step], scale[step], lr)
    return params


def _sgd_step(
    shape: MLPShape, flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor, lr: float
) -> None:
    """One SGD step in place on ``flat`` (C, P) for the loss ``sum_c sum_b scale[c, b] CE(model_c(x[c, b]),
    y[c, b])``, back-propagated by hand (autograd's bookkeeping costs more than these few batched
    products; the per-client loop, which uses autograd, checks it)."""
    w1, b1, w2, b2 = shape.split(flat)  # views into flat: updating them updates flat
    pre = torch.baddbmm(b1, x, w1)
    hidden = torch.relu(pre)
    dz = torch.softmax(torch.baddbmm(b2, hidden, w2), dim=2)
    dz[torch.arange(len(y))[:, None], torch.arange(y.shape[1])[None, :], y] -= 1.0
    dz *= scale[:, :, None]
    dh = torch.bmm(dz, w2.transpose(1, 2)) * (pre > 0)  # before w2 moves
    w2.baddbmm_(hidden.transpose(1, 2), dz, alpha=-lr)
    b2.sub_(lr * dz.sum(dim=1, keepdim=True))
    w1.baddbmm_(x.transpose(1, 2), dh, alpha=-lr)
    b1.sub_(lr * dh.sum(dim=1, keepdim=True))


def train_per_client(
    shape: MLPShape,
    start: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    shards: np.ndarray,
    positions: np.ndarray,
    mask: np.ndarray,
    lr: float,
    flip: np.ndarray | None = None,
) -> torch.Tensor:
    """The same plan as :func:`train_batched`, one client and one real minibatch at a time (the reference)."""
    out = []
    for c in range(len(shards)):
        params = start[c : c + 1].clone()
        for step in range(len(positions)):
            real = mask[step, c]
            if not real.any():
                continue
            index = torch.from_numpy(shards[c, positions[step, c, real]])[None]
            flat = params.requires_grad_(True)
            loss = _masked_loss(
                shape, flat, x[index], y[index], torch.ones(index.shape), None if flip is None else flip[c : c + 1]
            )
            (grad,) = torch.autograd.grad(loss, flat)
            params = (flat - lr * grad).detach()
        out.append(params)
    return torch.cat(out) if out else start.clone()
