"""Vertical (split) federated training, FedBCD style (Liu et al., IEEE TSP 2022; seed 000, Eqs. 7-11).

In a round every edge k and the server start from the same model Theta^r and the same embeddings
Phi^r of the round's samples (Eq. 7). Edge k then runs E local steps on its own tower theta_k
while the other modalities' embeddings Phi^r_{-k} and the fusion model theta_f stay as they were at
the start of the round (stale, Eq. 8); the server runs E steps on theta_f over the round-start
embeddings. All updates are computed in parallel from Theta^r and applied together (Eq. 10).

One local step per epoch uses the gradient over all the round's samples (Eq. 11 with g_k averaged
over S^r, Eq. 8): the round's samples enter as multiplicities ``weights`` over the training set, so a
round that draws a sample c times counts it c times, at the cost of one pass over distinct samples.
"""

from __future__ import annotations

import torch

from edge_envs.fl.models import SplitNet, sgd_step, weighted_cross_entropy


def drawn_rows(weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the samples drawn at least once and their multiplicities."""
    if weights.ndim != 1 or torch.any(weights < 0) or not torch.any(weights > 0):
        raise ValueError("weights must be a 1-D tensor of non-negative sample counts, not all zero")
    rows = torch.nonzero(weights > 0).squeeze(1)
    return rows, weights[rows].to(torch.float32)


def split_round(net: SplitNet, views, labels: torch.Tensor, weights: torch.Tensor, epochs: int, lr: float) -> None:
    """One FedBCD round of ``epochs`` local steps per edge and on the server, in place on ``net``."""
    rows, w = drawn_rows(weights)
    xs = [v[rows] for v in views]
    y = labels[rows]
    with torch.no_grad():
        stale = net.embeddings(xs)  # Phi^r: every embedding at the start of the round
    # edges: each updates only its tower; the fusion model is not stepped until the edges are done,
    # so every edge sees theta_f^r, as if all ran in parallel
    for k, tower in enumerate(net.towers):
        params = list(tower.parameters())
        for _ in range(epochs):
            fresh = stale[:k] + [tower(xs[k])] + stale[k + 1:]
            loss = weighted_cross_entropy(net.fusion(torch.cat(fresh, dim=1)), y, w)
            sgd_step(params, loss, lr)
    # server: E steps of the fusion model on the round-start embeddings
    fused = torch.cat(stale, dim=1)
    params = list(net.fusion.parameters())
    for _ in range(epochs):
        sgd_step(params, weighted_cross_entropy(net.fusion(fused), y, w), lr)
