"""The multi-modal split model: one sub-model (tower) per modality on its edge, a fusion model on the server.

The SM3FL paper, Section 3.2 and Fig. 1a: edge k maps its modality's sample x_k to an embedding
h_k(theta_k; x_k); the server's fusion model f(theta_f; h_1, ..., h_K) produces the prediction.
Here towers and fusion are small MLPs (the paper's GloVe / Bi-LSTM towers need text and audio we do
not ship). Parameters are drawn from an explicit ``torch.Generator``, so a seed fixes the model.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _linear(n_in: int, n_out: int, generator: torch.Generator) -> nn.Linear:
    """A Linear layer with PyTorch's default init (uniform +-1/sqrt(fan_in)) drawn from ``generator``."""
    layer = nn.Linear(n_in, n_out)
    bound = 1.0 / math.sqrt(n_in)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


def mlp(sizes: tuple[int, ...], generator: torch.Generator, last_relu: bool) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (and after the last if ``last_relu``)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(_linear(n_in, n_out, generator))
        if last_relu or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SplitNet(nn.Module):
    """Towers (one per modality, input dim -> hidden -> embedding) and a fusion MLP (embeddings -> classes)."""

    def __init__(self, input_dims, embedding_dims, hidden: int, n_classes: int, generator: torch.Generator):
        super().__init__()
        if len(input_dims) != len(embedding_dims) or not input_dims:
            raise ValueError(
                f"input_dims and embedding_dims must be non-empty and of equal length, "
                f"got {input_dims!r} and {embedding_dims!r}"
            )
        self.towers = nn.ModuleList(
            mlp((d, hidden, e), generator, last_relu=True) for d, e in zip(input_dims, embedding_dims)
        )
        self.fusion = mlp((sum(embedding_dims), hidden, n_classes), generator, last_relu=False)

    def embeddings(self, views) -> list[torch.Tensor]:
        return [tower(x) for tower, x in zip(self.towers, views)]

    def forward(self, views) -> torch.Tensor:
        return self.fusion(torch.cat(self.embeddings(views), dim=1))


def weighted_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged with per-sample weights (a sample drawn c times counts c times)."""
    return torch.sum(weights * F.cross_entropy(logits, labels, reduction="none")) / torch.sum(weights)


@torch.no_grad()
def evaluate(net: SplitNet, views, labels: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``net`` on a held-out split."""
    logits = net(views)
    loss = F.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(dim=1) == labels).double().mean().item()
    return loss, accuracy


def sgd_step(params, loss: torch.Tensor, lr: float) -> None:
    """One plain SGD step on ``params`` (the paper trains with SGD); other tensors get no gradient."""
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(lr * g)
