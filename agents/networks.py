"""The actor-critic network of the TMC 2024 paper, Section 4.3 (Fig. 4).

An actor trunk feeds M softmax branches, one per action dimension (the multi-task agent: one
branch per DNN block, each over the N+1 locations); a critic trunk of the same shape feeds one
state value V(X). The two trunks are tied by soft parameter sharing: an L2 penalty between their
corresponding layers (``sharing_penalty``) pulls them together, so what the critic learns about
the state reaches the actor and back. A single branch over the joint space gives the paper's
single-head A3C baseline with the same machinery.

Chained branches (``chain=True``, our extension): branch i's logits also get a learned offset
indexed by the choice of branch i-1, so pi(a) = prod_i pi_i(a_i | X, a_{i-1}). Independent
branches cannot learn to move a whole chain of blocks to a better server: moving one block alone
adds a transfer and is punished, so each branch stays where the others are. A chained branch can
follow the previous block, so one decision (block 0's) moves the chain; a prior (a logit bonus for
following, learned from there on) makes that the starting point. The contention-free
EdgePartition-v0, where the chain DP is exact (tested), measures the difference: plain against
chained branches, with the same options otherwise (benchmarks/contention_free_edge_partition.py,
results in benchmarks/results/contention_free_edge_partition.md).

Branch context (``context=True``, our extension): branch i reads its own features, tanh(p + sum_{j<i}
E[j, a_j]), where p is the actor trunk's last pre-activation and E[j, a] a learned vector for block j
at location a (zero at the start, so the network starts as the plain one). A chain offset sees only
the previous choice, so it cannot count how much work the earlier blocks already put on a server; with
the context every branch's choice depends on the state and on all earlier choices together (a
placement that splits the blocks over servers to spread the slot's load, as exact-slot's do).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Logit of the padding entries of branches narrower than the widest: exp() underflows to an exact
# 0 probability while 0 * logit stays 0 (an -inf would turn the entropy into NaN).
_PAD_LOGIT = -1e9


class Trunk(nn.Module):
    """Fully connected tanh layers (Section 4.4's shared layers)."""

    def __init__(self, obs_dim: int, hidden: tuple[int, ...]):
        super().__init__()
        widths = (obs_dim, *hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pre_activation(x))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's input to its tanh."""
        for layer in self.layers[:-1]:
            x = torch.tanh(F.linear(x, layer.weight, layer.bias))
        return F.linear(x, self.layers[-1].weight, self.layers[-1].bias)


class Branches(nn.Module):
    """M output branches, branch i a linear map to n_i logits, held as one (M, n_max, hidden) weight.

    Branch i owns ``weight[i, :n_i]`` and ``bias[i, :n_i]``; one batched matmul evaluates every
    branch (M separate small layers cost M times the per-call overhead when acting step by step).
    """

    def __init__(self, in_features: int, branch_sizes: tuple[int, ...]):
        super().__init__()
        self.sizes = tuple(branch_sizes)
        width = max(self.sizes)
        bound = in_features**-0.5  # nn.Linear's default initialisation, per branch
        self.weight = nn.Parameter(torch.empty(len(self.sizes), width, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(len(self.sizes), width).uniform_(-bound, bound))
        pad = torch.arange(width)[None, :] >= torch.tensor(self.sizes)[:, None]
        self.register_buffer("pad", pad, persistent=False)
        self._padded = bool(pad.any())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (B, M, n_max) of features (B, hidden), or of per-branch features (B, M, hidden); entries
        past a branch's size are padding with zero probability."""
        m, n, h = self.weight.shape
        if features.dim() == 3:
            logits = torch.einsum("bmh,mnh->bmn", features, self.weight) + self.bias
        else:
            logits = (features @ self.weight.reshape(m * n, h).T).reshape(-1, m, n) + self.bias
        return logits.masked_fill(self.pad, _PAD_LOGIT) if self._padded else logits


class ActorCritic(nn.Module):
    """Actor trunk -> M softmax branches; critic trunk -> V(X); trunks of identical shapes.

    With ``chain``, ``chain_offset[i - 1, j]`` (n_max logits) is added to branch i's logits when
    branch i-1 chose j; it starts at ``chain_prior`` on the entry j (repeat the previous choice) and
    0 elsewhere. With ``context``, ``context_embedding[j, a]`` (hidden) is added to the pre-activation of
    every later branch's features when branch j chose a. The logits of a batch then depend on its actions."""

    def __init__(
        self,
        obs_dim: int,
        branch_sizes,
        hidden: tuple[int, ...] = (128, 128),
        chain: bool = False,
        chain_prior: float = 0.0,
        context: bool = False,
    ):
        super().__init__()
        if not hidden:
            raise ValueError("hidden must name at least one layer width (the trunks soft sharing ties together)")
        self.obs_dim = int(obs_dim)
        self.branch_sizes = tuple(int(n) for n in branch_sizes)
        self.hidden = tuple(int(h) for h in hidden)
        self.actor_trunk = Trunk(self.obs_dim, self.hidden)
        self.critic_trunk = Trunk(self.obs_dim, self.hidden)
        self.branches = Branches(self.hidden[-1], self.branch_sizes)
        width = max(self.branch_sizes)
        self.chain = bool(chain) and len(self.branch_sizes) > 1
        follow = chain_prior * torch.eye(width).repeat(
            len(self.branch_sizes) - 1, 1, 1
        )  # a bonus for repeating a_{i-1}
        self.chain_offset = nn.Parameter(follow) if self.chain else None
        self.context = bool(context) and len(self.branch_sizes) > 1
        embedding = torch.zeros(len(self.branch_sizes) - 1, width, self.hidden[-1])
        self.context_embedding = nn.Parameter(embedding) if self.context else None
        self.value_head = nn.Linear(self.hidden[-1], 1)
        # observation normalisation x' = (x - shift) * scale, identity unless set_observation_stats is called
        self.register_buffer("obs_shift", torch.zeros(self.obs_dim))
        self.register_buffer("obs_scale", torch.ones(self.obs_dim))
        self._last_choice = np.array(self.branch_sizes) - 1
        self._pad = self.branches.pad.numpy().copy()  # a copy: share_memory() moves the buffer's storage
        self._views = self._views_key = None

    def forward(self, obs: torch.Tensor, actions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Branch logits (B, M, n_max) and the state value V(X) (B,); ``actions`` (B, M) as for :meth:`logits`."""
        return self.logits(obs, actions), self.value(obs)

    def logits(self, obs: torch.Tensor, actions: torch.Tensor | None = None) -> torch.Tensor:
        """Branch logits (B, M, n_max), without the critic. A chained network (or one with branch context)
        needs the ``actions`` (B, M) taken: branch i's logits are those given a_{i-1} (or a_0 .. a_{i-1})."""
        x = (obs - self.obs_shift) * self.obs_scale
        if (self.chain or self.context) and actions is None:
            raise ValueError(
                "actions: a chained network's logits depend on the previous branches' choices; pass the (B, M) actions"
            )
        if self.context:
            pre = self.actor_trunk.pre_activation(x)
            seen = self.context_embedding[torch.arange(len(self.branch_sizes) - 1), actions[:, :-1]].cumsum(1)
            logits = self.branches(torch.tanh(pre[:, None] + torch.cat([torch.zeros_like(seen[:, :1]), seen], 1)))
        else:
            logits = self.branches(self.actor_trunk(x))
        if not self.chain:
            return logits
        offset = self.chain_offset[torch.arange(len(self.branch_sizes) - 1), actions[:, :-1]]  # (B, M-1, n_max)
        chained = torch.cat([logits[:, :1], logits[:, 1:] + offset], dim=1)
        return chained.masked_fill(self.branches.pad, _PAD_LOGIT) if self.branches._padded else chained

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(X; theta_v) (B,), without the actor."""
        return self.value_head(self.critic_trunk((obs - self.obs_shift) * self.obs_scale)).squeeze(-1)

    @torch.no_grad()
    def set_observation_stats(self, mean, std, min_std: float = 0.05) -> None:
        """Normalise observations by a sample's mean and std (features that never vary are left as they are;
        std is floored at ``min_std`` so rarely moving features are not blown up)."""
        mean, std = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
        constant = std < 1e-6
        self.obs_shift.copy_(torch.where(constant, torch.zeros_like(mean), mean))
        self.obs_scale.copy_(torch.where(constant, torch.ones_like(std), 1.0 / std.clamp(min=min_std)))

    def act(self, obs, rng: np.random.Generator | None = None, deterministic: bool = False) -> np.ndarray:
        """One choice per branch, (B, M) for observations (B, D): sampled from each softmax, or its argmax.

        Acting runs once per env step at batch size 1, where torch's per-call overhead costs ten
        times the arithmetic; so the actor is evaluated here in numpy, on views of the same
        parameters (no copies), and sampled by inverse CDF with ``rng``.
        """
        trunk, weight, bias = self._actor_views()
        x = (np.asarray(obs, dtype=np.float32) - self.obs_shift.numpy()) * self.obs_scale.numpy()
        for w, b in trunk[:-1]:
            x = np.tanh(x @ w.T + b)
        pre = x @ trunk[-1][0].T + trunk[-1][1]
        m, n = bias.shape
        u = None if deterministic else rng.random((len(pre), m, 1))
        if not (self.chain or self.context):
            logits = (np.tanh(pre) @ weight.T).reshape(-1, m, n) + bias
            return self._choose(logits, u, self._pad, self._last_choice)
        offset = self.chain_offset.detach().numpy() if self.chain else None
        context = self.context_embedding.detach().numpy() if self.context else None
        branch_weight = weight.reshape(m, n, -1)
        features, actions = np.tanh(pre), np.empty((len(pre), m), dtype=np.int64)
        for i in range(m):  # branch by branch: each needs the previous ones' choices
            if self.context and i > 0:
                pre = pre + context[i - 1, actions[:, i - 1]]
                features = np.tanh(pre)
            branch = features @ branch_weight[i].T + bias[i]
            if self.chain and i > 0:
                branch = branch + offset[i - 1, actions[:, i - 1]]
            actions[:, i] = self._choose(branch, None if u is None else u[:, i], self._pad[i], self._last_choice[i])
        return actions

    def _choose(self, logits: np.ndarray, u: np.ndarray | None, pad: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Argmax (u None) or inverse-CDF sample with uniforms u of the softmax over the last axis."""
        if self.branches._padded:
            logits[..., pad] = _PAD_LOGIT
        if u is None:
            return logits.argmax(-1)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        cdf = np.cumsum(probs, -1)
        return np.minimum((cdf < u * cdf[..., -1:]).sum(-1), last)

    def _actor_views(self):
        """numpy views of the actor's parameters, rebuilt if a parameter's storage moved (e.g. share_memory)."""
        params = [*self.actor_trunk.parameters(), self.branches.weight, self.branches.bias]
        key = tuple(p.data_ptr() for p in params)
        if self._views_key != key:
            arrays = [p.detach().numpy() for p in params]
            trunk = list(zip(arrays[:-2:2], arrays[1:-2:2]))
            m, n, h = arrays[-2].shape
            self._views = (trunk, arrays[-2].reshape(m * n, h), arrays[-1])
            self._views_key = key
        return self._views

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_views"] = state["_views_key"] = None  # views are rebuilt where the model lands
        return state

    def parameter_groups(self) -> tuple[list, list]:
        """(actor parameters: trunk and branches, critic parameters: trunk and value head)."""
        actor = [
            *self.actor_trunk.parameters(),
            *self.branches.parameters(),
            *([self.chain_offset] if self.chain else []),
            *([self.context_embedding] if self.context else []),
        ]
        critic = [*self.critic_trunk.parameters(), *self.value_head.parameters()]
        return actor, critic

    def trunk_pairs(self):
        """Corresponding (actor, critic) trunk parameters, layer by layer."""
        return zip(self.actor_trunk.parameters(), self.critic_trunk.parameters(), strict=True)

    def sharing_penalty(self) -> torch.Tensor:
        """Soft parameter sharing: sum over trunk layers of ||W_actor - W_critic||^2 (+ biases)."""
        return sum(((a - c) ** 2).sum() for a, c in self.trunk_pairs())
