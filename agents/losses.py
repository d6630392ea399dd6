"""k-step returns and the multi-task A3C loss of the TMC 2024 paper, Eqs. (16)-(20).

The TMC 2024 paper writes Eq. (18) as an objective to maximise; the loss here is its negative, so that
gradient descent (RMSProp, Eqs. 23-24) ascends it. Its critic term is V(X^t; theta_v), a state
value (ERRATA: the printed V(A^t; theta_v) is a typo). ``entropy_coef`` is the beta of Eq. (18),
distinct from the penalty weight beta of Eq. (14) (ERRATA: two betas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def k_step_returns(rewards, terminated, truncated, truncation_values, bootstrap, gamma: float) -> np.ndarray:
    """Eq. (16): R^t = sum_{i<k} gamma^i r^{t+i} + gamma^k V(X^{t+k}), k up to the rollout's end.

    Arrays are (T, B) over T steps of B streams. Where an episode ends at step t the sum stops
    there: a terminated episode adds nothing after r^t, a truncated one adds gamma V(final X)
    (``truncation_values[t]``). ``bootstrap`` (B,) is V(X^{t+k}) after the last step.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    returns = np.empty_like(rewards)
    running = np.asarray(bootstrap, dtype=np.float64).copy()
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = np.where(truncated[t], truncation_values[t], running)
        running = np.where(terminated[t], 0.0, running)
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


@dataclass
class LossTerms:
    """The joint loss (Eq. 20 plus soft sharing) and its parts, each a scalar tensor."""

    total: torch.Tensor
    policy: torch.Tensor  # mean over branches of -log pi_i(a_i | X) A, without the entropy bonus
    value: torch.Tensor  # Eq. (19), mean over the batch
    entropy: torch.Tensor  # mean over branches of H(pi_i(. | X))
    sharing: torch.Tensor  # soft parameter sharing penalty (unweighted)


def a3c_loss(
    logits: torch.Tensor,
    values: torch.Tensor,
    actions: torch.Tensor,
    returns: torch.Tensor,
    entropy_coef: float,
    sharing_penalty: torch.Tensor,
    sharing_coef: float,
    normalize_advantage: bool = False,
) -> LossTerms:
    """Eq. (20): f = (1/M) sum_i f_pi(theta_i) + f_v(theta_v), plus sharing_coef * penalty.

    ``logits``: (batch, M, n) of the M branches; ``values``: V(X) (batch,); ``actions``:
    (batch, M) long; ``returns``: R^t of Eq. (16) (batch,). Terms are averaged over the batch.
    ``normalize_advantage`` standardises the actor's advantage weights over the batch (the critic's
    loss, Eq. 19, is unchanged), so the policy step does not depend on the reward's scale.
    """
    advantage = returns - values  # Eq. (17)
    weight = advantage.detach()  # the actor's gradient does not flow into the critic through A
    if normalize_advantage and weight.numel() > 1:  # zero mean, unit spread over the batch (scale-free actor step)
        weight = (weight - weight.mean()) / (weight.std() + 1e-8)
    log_probs = torch.log_softmax(logits, dim=-1)
    chosen = log_probs.gather(2, actions.unsqueeze(-1)).squeeze(-1)  # log pi_i(a_i | X), (batch, M)
    entropy = -(log_probs.exp() * log_probs).sum(-1).mean()  # mean over batch and branches of H(pi_i)
    policy = -(chosen * weight[:, None]).mean()  # (1/M) sum_i of the batch mean of -log pi_i A
    actor = policy - entropy_coef * entropy  # negated Eq. (18), averaged over the M branches
    value = (advantage**2).mean()  # Eq. (19)
    total = actor + value + sharing_coef * sharing_penalty
    return LossTerms(total, policy, value, entropy, sharing_penalty)


def imitation_loss(logits, values, actions, returns, sharing_penalty, sharing_coef: float) -> LossTerms:
    """Behaviour cloning of a teacher's actions (agents.imitation): the mean over branches and the batch of
    -log pi_i(a_i | X) (the ``policy`` term), the critic's squared error to the returns, soft sharing."""
    log_probs = torch.log_softmax(logits, dim=-1)
    policy = -log_probs.gather(2, actions.unsqueeze(-1)).mean()
    entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
    value = ((returns - values) ** 2).mean() if returns.numel() else values.sum() * 0.0
    return LossTerms(policy + value + sharing_coef * sharing_penalty, policy, value, entropy, sharing_penalty)
