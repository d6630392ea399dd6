"""Horizontal federated training (FedAvg, McMahan et al. 2017) of the whole multi-modal model.

The SM3FL paper, Fig. 1b: every participating edge holds the entire model (all towers and the fusion
layers), trains it end to end on the samples its own devices uploaded, and the server averages the
edges' models weighted by their sample counts. As in ``split.py``, one local step per epoch uses the
gradient over all of an edge's samples, given as multiplicities over the training set.
"""

from __future__ import annotations

import torch
from torch.func import functional_call
from torch.nn import functional as F

from edge_envs.fl.aggregation import weighted_average
from edge_envs.fl.models import SplitNet, sgd_step, weighted_cross_entropy
from edge_envs.fl.split import drawn_rows, epoch_batches


def fedavg_round(
    net: SplitNet,
    views,
    labels: torch.Tensor,
    client_weights: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> None:
    """One FedAvg round in place on ``net``; ``client_weights`` is (clients, n_train) sample counts.

    Clients with no samples sit the round out. ``epochs`` full-batch steps per client, or with
    ``batch_size`` ``epochs`` passes of shuffled minibatch steps over the client's draws (``generator``).
    """
    if client_weights.ndim != 2:
        raise ValueError(f"client_weights must be (clients, n_train), got shape {tuple(client_weights.shape)}")
    global_params = {name: p.detach() for name, p in net.named_parameters()}
    states, counts = [], []
    for weights in client_weights:
        if not torch.any(weights > 0):
            continue
        rows, w = drawn_rows(weights)
        xs = [v[rows] for v in views]
        local = {name: p.clone().requires_grad_(True) for name, p in global_params.items()}
        if batch_size is None:
            for _ in range(epochs):
                logits = functional_call(net, local, (xs,))
                sgd_step(list(local.values()), weighted_cross_entropy(logits, labels[rows], w), lr)
        else:
            for epoch in epoch_batches(w, epochs, batch_size, generator):
                for b in epoch:
                    logits = functional_call(net, local, ([x[b] for x in xs],))
                    sgd_step(list(local.values()), F.cross_entropy(logits, labels[rows][b]), lr)
        states.append({name: p.detach() for name, p in local.items()})
        counts.append(float(w.sum()))
    if not states:
        raise ValueError("no client has any sample this round")
    net.load_state_dict(weighted_average(states, counts))
