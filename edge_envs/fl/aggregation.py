"""Server-side model aggregation."""

from __future__ import annotations

import torch


def weighted_average(state_dicts, weights) -> dict:
    """FedAvg (McMahan et al. 2017): parameters averaged with weights proportional to ``weights``.

    ``weights`` are typically the clients' sample counts; they must be non-negative and not all zero.
    """
    state_dicts = list(state_dicts)
    w = torch.as_tensor(weights, dtype=torch.float64)
    if len(state_dicts) == 0 or w.shape != (len(state_dicts),):
        raise ValueError(f"need one weight per state dict, got {len(state_dicts)} dicts and weights {weights!r}")
    if torch.any(w < 0) or not torch.sum(w) > 0:
        raise ValueError(f"weights must be non-negative and not all zero, got {weights!r}")
    w = w / torch.sum(w)
    keys = state_dicts[0].keys()
    if any(sd.keys() != keys for sd in state_dicts):
        raise ValueError("state dicts must have the same keys")
    return {
        key: sum(float(wi) * sd[key].double() for wi, sd in zip(w, state_dicts)).to(state_dicts[0][key].dtype)
        for key in keys
    }
