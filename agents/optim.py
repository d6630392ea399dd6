"""RMSProp with statistics in shared memory (Eqs. 23-24 of "Distributed DNN Inference with Fine-grained Model
Partitioning in Mobile Edge Computing Networks", IEEE TMC 2024).

Every A3C worker steps the same optimizer: the running average of squared gradients lives in
shared memory beside the shared parameters, so each worker's update both uses and refreshes the
statistics of all workers (rather than each worker keeping its own). A plain class rather than a
``torch.optim.Optimizer``: it pickles to worker processes as tensors only, and building one
does not pull in torch's compiler stack (seconds per worker process).
"""

from __future__ import annotations

import torch


class SharedRMSprop:
    """g <- alpha g + (1 - alpha) grad^2 (Eq. 23); theta <- theta - lr grad / sqrt(g + eps) (Eq. 24).

    ``param_groups``: list of (parameters, learning rate), e.g. the actor's and the critic's.
    """

    def __init__(self, param_groups, alpha: float = 0.99, eps: float = 1e-5):
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.alpha, self.eps = float(alpha), float(eps)
        self.groups = []
        for params, lr in param_groups:
            if not lr > 0:
                raise ValueError(f"learning rate must be > 0, got {lr}")
            self.groups.append((list(params), float(lr)))
        self.params = [p for params, _ in self.groups for p in params]
        self.square_avg = [torch.zeros_like(p).share_memory_() for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        """Apply each parameter's ``.grad`` (parameters without one are left alone)."""
        index = 0
        for params, lr in self.groups:
            for p in params:
                g = self.square_avg[index]
                index += 1
                if p.grad is None:
                    continue
                g.mul_(self.alpha).addcmul_(p.grad, p.grad, value=1 - self.alpha)  # Eq. (23)
                p.addcdiv_(p.grad, (g + self.eps).sqrt(), value=-lr)  # Eq. (24), eps under the root

    def state_dict(self) -> dict:
        return {"square_avg": [g.clone() for g in self.square_avg]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Copy saved statistics into the shared buffers in place (learning rates stay as built)."""
        saved = state_dict["square_avg"]
        if len(saved) != len(self.square_avg) or any(s.shape != g.shape for s, g in zip(saved, self.square_avg)):
            raise ValueError("optimizer state does not match the model's parameters (different network?)")
        for g, s in zip(self.square_avg, saved):
            g.copy_(s)
