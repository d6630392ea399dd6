import math

import numpy as np
import pytest
import torch

from agents.losses import a3c_loss, k_step_returns


def test_k_step_returns__eq16_with_bootstrap_termination_and_truncation():
    g = 0.9
    rewards = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]])  # (T=3, B=3)
    terminated = np.zeros((3, 3), bool)
    truncated = np.zeros((3, 3), bool)
    terminated[1, 1] = True  # stream 1 ends at t=1 (terminal: nothing after r^1)
    truncated[0, 2] = True  # stream 2 is cut at t=0 (bootstrap from V(final X^1) = 10)
    cut_values = np.zeros((3, 3))
    cut_values[0, 2] = 10.0
    bootstrap = np.array([5.0, 7.0, 20.0])  # V(X^3)
    returns = k_step_returns(rewards, terminated, truncated, cut_values, bootstrap, g)
    # stream 0: 3-step, 2-step and 1-step returns bootstrapped from V(X^3)
    assert returns[:, 0] == pytest.approx([1 + g * 2 + g**2 * 3 + g**3 * 5, 2 + g * 3 + g**2 * 5, 3 + g * 5])
    # stream 1: the first episode ends at t=1, a new one starts at t=2
    assert returns[:, 1] == pytest.approx([1 + g * 2, 2, 3 + g * 7])
    # stream 2: cut after t=0 (bootstrap 10), then a new episode
    assert returns[:, 2] == pytest.approx([1 + g * 10, 2 + g * 3 + g**2 * 20, 3 + g * 20])


def _by_hand(logits, values, actions, returns, beta, penalty, coef):
    """Eq. (20) written out term by term with Python floats."""
    batch, branches, _ = logits.shape
    f_pi = []
    for i in range(branches):
        total = 0.0
        for b in range(batch):
            z = logits[b, i]
            p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            advantage = returns[b] - values[b]  # Eq. (17), V(X^t) (ERRATA: not V(A^t))
            entropy = -sum(q * math.log(q) for q in p)
            total += -(math.log(p[actions[b, i]]) * advantage + beta * entropy)  # minus Eq. (18)
        f_pi.append(total / batch)
    f_v = sum((returns[b] - values[b]) ** 2 for b in range(batch)) / batch  # Eq. (19)
    return sum(f_pi) / branches + f_v + coef * penalty  # Eq. (20) + soft sharing


def test_a3c_loss__equals_eq20_computed_by_hand():
    logits = np.array([[[0.1, 0.5, -0.3], [1.0, 0.0, 0.2]], [[-0.4, 0.3, 0.9], [0.0, 0.0, 0.0]]])
    values = np.array([0.3, -1.2])
    actions = np.array([[1, 0], [2, 1]])
    returns = np.array([1.0, -0.5])
    beta, penalty, coef = 0.05, 2.5, 0.01
    terms = a3c_loss(
        torch.tensor(logits),
        torch.tensor(values),
        torch.tensor(actions),
        torch.tensor(returns),
        beta,
        torch.tensor(penalty, dtype=torch.float64),
        coef,
    )
    assert terms.total.item() == pytest.approx(
        _by_hand(logits, values, actions, returns, beta, penalty, coef), rel=1e-12
    )
    assert terms.value.item() == pytest.approx(((returns - values) ** 2).mean())


def test_a3c_loss__gradients_follow_eqs_21_and_22():
    logits = torch.tensor([[[0.2, -0.1, 0.4]], [[0.0, 0.3, -0.2]]], dtype=torch.float64, requires_grad=True)
    values = torch.tensor([0.5, -0.5], dtype=torch.float64, requires_grad=True)
    actions = torch.tensor([[2], [0]])
    returns = torch.tensor([1.0, 0.0], dtype=torch.float64)
    terms = a3c_loss(logits, values, actions, returns, 0.0, torch.tensor(0.0), 0.0)
    terms.total.backward()
    advantage = (returns - values).detach()
    # Eq. (22): d f_v / dV = -2 (R - V) (mean over a batch of 2); the actor term adds nothing to V
    torch.testing.assert_close(values.grad, -2 * advantage / 2)
    # Eq. (21): d(-log pi(a) A) / d logits = -(onehot(a) - pi) A, averaged over the batch
    probs = torch.softmax(logits.detach(), -1)
    onehot = torch.nn.functional.one_hot(actions, 3).double()
    torch.testing.assert_close(logits.grad, -(onehot - probs) * advantage[:, None, None] / 2)


def test_a3c_loss__entropy_bonus_lowers_the_loss_of_a_flatter_policy():
    values, returns, actions = torch.zeros(1), torch.zeros(1), torch.tensor([[0]])
    flat = a3c_loss(torch.zeros(1, 1, 4), values, actions, returns, 0.1, torch.tensor(0.0), 0.0)
    peaked = a3c_loss(torch.tensor([[[5.0, 0, 0, 0]]]), values, actions, returns, 0.1, torch.tensor(0.0), 0.0)
    assert flat.entropy.item() == pytest.approx(math.log(4))
    assert flat.total.item() == pytest.approx(-0.1 * math.log(4))
    assert flat.total < peaked.total


def test_a3c_loss__normalized_advantage_makes_the_actor_step_scale_free():
    logits = torch.tensor([[[0.2, -0.1, 0.4]], [[0.0, 0.3, -0.2]], [[0.1, 0.1, 0.5]]], dtype=torch.float64)
    actions, values = torch.tensor([[2], [0], [1]]), torch.zeros(3, dtype=torch.float64)
    returns = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    grads = []
    for scale in (1.0, 1000.0):
        leaf = logits.clone().requires_grad_(True)
        a3c_loss(
            leaf, values * scale, actions, returns * scale, 0.0, torch.tensor(0.0), 0.0, normalize_advantage=True
        ).policy.backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1])  # the reward's scale no longer sets the actor's step
    weight = (returns - returns.mean()) / (returns.std() + 1e-8)
    plain = a3c_loss(logits, values, actions, weight, 0.0, torch.tensor(0.0), 0.0)
    normalized = a3c_loss(logits, values, actions, returns, 0.0, torch.tensor(0.0), 0.0, normalize_advantage=True)
    assert normalized.policy.item() == pytest.approx(plain.policy.item())
    assert normalized.value.item() == pytest.approx(((returns - values) ** 2).mean().item())  # Eq. (19) unchanged
