"""The actor-critic network of seed 002, Section 4.3 (Fig. 4).

An actor trunk feeds one softmax branch per action dimension (the multi-task agent: one branch
per DNN block, each over the N+1 locations); a critic trunk of the same shape feeds one state
value V(X). The two trunks are tied by soft parameter sharing: an L2 penalty between their
corresponding layers (``sharing_penalty``) pulls them together, so what the critic learns about
the state reaches the actor and back. A single branch over the joint space gives the seed's
single-head A3C baseline with the same machinery.
"""

from __future__ import annotations

import torch
from torch import nn


def _trunk(obs_dim: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers, width = [], obs_dim
    for size in hidden:
        layers += [nn.Linear(width, size), nn.Tanh()]
        width = size
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """Actor trunk -> ``len(branch_sizes)`` softmax branches; critic trunk -> V(X)."""

    def __init__(self, obs_dim: int, branch_sizes, hidden: tuple[int, ...] = (128, 128)):
        super().__init__()
        if not hidden:
            raise ValueError("hidden must name at least one layer width (the trunks soft sharing ties together)")
        self.obs_dim = int(obs_dim)
        self.branch_sizes = tuple(int(n) for n in branch_sizes)
        self.hidden = tuple(int(h) for h in hidden)
        self.actor_trunk = _trunk(obs_dim, self.hidden)
        self.critic_trunk = _trunk(obs_dim, self.hidden)
        self.branches = nn.ModuleList(nn.Linear(self.hidden[-1], n) for n in self.branch_sizes)
        self.value_head = nn.Linear(self.hidden[-1], 1)
        self._equal_branches = len(set(self.branch_sizes)) == 1

    def forward(self, obs: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Logits of every branch (each (B, n_i)) and the state value V(X) (B,)."""
        return self.forward_actor(obs), self.value(obs)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(X; theta_v) alone (bootstrapping Eq. 16 needs no actor pass)."""
        return self.value_head(self.critic_trunk(obs)).squeeze(-1)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, generator: torch.Generator | None = None, deterministic: bool = False) -> torch.Tensor:
        """One choice per branch, (B, M): sampled from each softmax, or its argmax when deterministic."""
        logits = self.forward_actor(obs)
        if deterministic:
            return torch.stack([lg.argmax(-1) for lg in logits], dim=-1)
        if self._equal_branches:  # one multinomial call for all branches
            probs = torch.softmax(torch.stack(logits, dim=1), dim=-1)
            flat = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator)
            return flat.reshape(probs.shape[0], probs.shape[1])
        return torch.cat([torch.multinomial(torch.softmax(lg, -1), 1, generator=generator) for lg in logits], dim=-1)

    def forward_actor(self, obs: torch.Tensor) -> list[torch.Tensor]:
        """Logits of every branch, without the critic."""
        features = self.actor_trunk(obs)
        return [branch(features) for branch in self.branches]

    def trunk_pairs(self):
        """Corresponding (actor, critic) trunk parameters, layer by layer."""
        return zip(self.actor_trunk.parameters(), self.critic_trunk.parameters(), strict=True)

    def sharing_penalty(self) -> torch.Tensor:
        """Soft parameter sharing: sum over trunk layers of ||W_actor - W_critic||^2 (+ biases)."""
        return sum(((a - c) ** 2).sum() for a, c in self.trunk_pairs())
