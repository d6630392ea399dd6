"""RMSProp with statistics in shared memory (seed 002, Eqs. 23-24).

Every A3C worker steps the same optimizer: the running average of squared gradients lives in
shared memory beside the shared parameters, so each worker's update both uses and refreshes the
statistics of all workers (rather than each worker keeping its own).
"""

from __future__ import annotations

import torch


class SharedRMSprop(torch.optim.Optimizer):
    """g <- alpha g + (1 - alpha) grad^2 (Eq. 23); theta <- theta - lr grad / sqrt(g + eps) (Eq. 24)."""

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-5):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format).share_memory_()

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                square_avg = self.state[p]["square_avg"]
                square_avg.mul_(alpha).addcmul_(p.grad, p.grad, value=1 - alpha)  # Eq. (23)
                p.addcdiv_(p.grad, (square_avg + eps).sqrt(), value=-lr)  # Eq. (24), eps under the root
        return None

    def load_state_dict(self, state_dict: dict) -> None:
        """Copy saved statistics into the shared buffers in place (learning rates stay as built)."""
        saved = state_dict["state"]
        params = [p for group in self.param_groups for p in group["params"]]
        if len(saved) != len(params):
            raise ValueError(f"optimizer state has {len(saved)} entries, the model has {len(params)} parameters")
        for index, p in enumerate(params):
            self.state[p]["square_avg"].copy_(saved[index]["square_avg"])
