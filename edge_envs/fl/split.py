"""Vertical (split) federated training, FedBCD style (Liu et al., IEEE TSP 2022; the SM3FL paper, Eqs. 7-11).

In a round every edge k and the server start from the same model Theta^r and the same embeddings
Phi^r of the round's samples (Eq. 7). Edge k then runs E local steps on its own tower theta_k
while the other modalities' embeddings Phi^r_{-k} and the fusion model theta_f stay as they were at
the start of the round (stale, Eq. 8); the server runs E steps on theta_f over the round-start
embeddings. All updates are computed in parallel from Theta^r and applied together (Eq. 10).

One local step per epoch uses the gradient over all the round's samples (Eq. 11 with g_k averaged
over S^r, Eq. 8): the round's samples enter as multiplicities ``weights`` over the training set, so a
round that draws a sample c times counts it c times, at the cost of one pass over distinct samples.
With ``batch_size``, an epoch is instead a pass over the round's draws (a sample drawn c times
appears c times) in shuffled minibatches, one SGD step each: a round of more samples takes more
steps, as local training on edges does.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from edge_envs.fl.models import SplitNet, sgd_step, weighted_cross_entropy


def drawn_rows(weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the samples drawn at least once and their multiplicities."""
    if weights.ndim != 1 or torch.any(weights < 0) or not torch.any(weights > 0):
        raise ValueError("weights must be a 1-D tensor of non-negative sample counts, not all zero")
    rows = torch.nonzero(weights > 0).squeeze(1)
    return rows, weights[rows].to(torch.float32)


def epoch_batches(w: torch.Tensor, epochs: int, batch_size: int, generator: torch.Generator) -> list[list]:
    """Per epoch, positions into the drawn rows (row i repeated w[i] times), shuffled and cut into
    minibatches of ``batch_size`` (the last may be smaller)."""
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    draws = torch.repeat_interleave(torch.arange(len(w)), w.to(torch.int64))
    return [list(draws[torch.randperm(len(draws), generator=generator)].split(batch_size)) for _ in range(epochs)]


def split_round(
    net: SplitNet,
    views,
    labels: torch.Tensor,
    weights: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> None:
    """One FedBCD round in place on ``net``: per edge and on the server, ``epochs`` full-batch steps, or
    with ``batch_size`` ``epochs`` passes of minibatch steps (shuffled by ``generator``)."""
    rows, w = drawn_rows(weights)
    xs = [v[rows] for v in views]
    y = labels[rows]
    with torch.no_grad():
        stale = net.embeddings(xs)  # Phi^r: every embedding at the start of the round
    if batch_size is not None:
        _split_minibatches(net, xs, y, stale, epoch_batches(w, epochs, batch_size, generator), lr)
        return
    # edges: each updates only its tower; the fusion model is not stepped until the edges are done,
    # so every edge sees theta_f^r, as if all ran in parallel
    for k, tower in enumerate(net.towers):
        params = list(tower.parameters())
        for _ in range(epochs):
            fresh = stale[:k] + [tower(xs[k])] + stale[k + 1 :]
            loss = weighted_cross_entropy(net.fusion(torch.cat(fresh, dim=1)), y, w)
            sgd_step(params, loss, lr)
    # server: E steps of the fusion model on the round-start embeddings
    fused = torch.cat(stale, dim=1)
    params = list(net.fusion.parameters())
    for _ in range(epochs):
        sgd_step(params, weighted_cross_entropy(net.fusion(fused), y, w), lr)


def _split_minibatches(net: SplitNet, xs, y, stale, batches, lr: float) -> None:
    """``split_round`` with minibatches: the same order of batches for every edge and the server."""
    for k, tower in enumerate(net.towers):
        params = list(tower.parameters())
        for epoch in batches:
            for b in epoch:
                fresh = [e[b] for e in stale[:k]] + [tower(xs[k][b])] + [e[b] for e in stale[k + 1 :]]
                sgd_step(params, F.cross_entropy(net.fusion(torch.cat(fresh, dim=1)), y[b]), lr)
    fused = torch.cat(stale, dim=1)
    params = list(net.fusion.parameters())
    for epoch in batches:
        for b in epoch:
            sgd_step(params, F.cross_entropy(net.fusion(fused[b]), y[b]), lr)
