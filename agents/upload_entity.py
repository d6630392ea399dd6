"""An upload-order network for EdgeUpload whose parameters do not depend on L (layers) or S (servers).

The network scores the legal actions of the deciding client, each a candidate (run of layers, server), from
features priced by the env's core (the same functions the baselines call; nothing is re-derived):

| feature | meaning |
| --- | --- |
| gain | (latency now - latency once the run is up) / latency now, summed over clients |
| seconds | the run's transmission time / the time to send every layer still to go over the fastest link |
| efficiency | gain / seconds, over the largest among the candidates (the ``efficiency`` baseline's ratio) |
| best | 1 for the candidates of the largest efficiency |
| area | seconds + (latency once up / latency now) (1 - seconds): the area if nothing else were sent |
| after, now | latency once the run is up, and now, over the local-only latency |
| length, start, stop | the run's layers over L |
| left, right | 1 where the run starts at layer 0 or after an uploaded layer; ends at L or before one |
| inside | 1 where the run lies within the best candidate's run, on its server |
| split | for a piece of the best candidate's run: the share of that run's area (latency now x its time) that sending |
| | the piece first, then the rest of the run at the latency the piece leaves, saves (``recursive-efficiency`` |
| | compares this for prefixes and suffixes); 0 outside the best run |
| speed, link | the server's clock over the fastest server's; the fastest link's seconds per byte over the server's |
| to go, 1 | the share of the client's layers not uploaded yet; a constant |

One shared encoder embeds every candidate; the mean and max over the candidates form a context fed back to
each (DeepSets, Zaheer et al. 2017), and one shared scorer gives each candidate a logit. Every weight is shared
over candidates, so one checkpoint plays any L and S; the network picks among legal actions only.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from baselines.edge_upload import cost_of
from edge_envs.edge_upload import core

FEATURES = 18
TINY_S = 1e-6  # floor of a transmission's seconds in the features


def candidates(state: core.State) -> tuple[np.ndarray, np.ndarray]:
    """(legal actions (n,), their features (n, FEATURES) float32) of the deciding client in ``state``."""
    inst, cfg, c = state.inst, state.cfg, state.deciding
    L, S = inst.num_layers, inst.num_servers
    actions = np.flatnonzero(core.action_mask(state))
    run, server = actions // S, actions % S
    start, stop = core.runs(L)[run].T
    layer = np.arange(L)
    inside_run = (layer >= start[:, None]) & (layer < stop[:, None])
    rows = np.repeat(state.where[None], len(actions), axis=0)
    rows[:, c] = np.where(inside_run, server[:, None], state.where[c])
    after = cost_of(inst, rows)
    now, local = float(state.latency.sum()), float(core.local_latency(inst).sum())
    free = state.where[c] < 0
    per_byte = inst.client_server_s_per_byte
    rest = max(float(inst.param_bytes[free].sum() * per_byte.min() + cfg.confirmation_s), TINY_S)
    # runs of layers without parameters take no time when confirmations are instant: a floor keeps ratios finite
    seconds = np.maximum(core.run_transmission_seconds(cfg, inst, run, server), TINY_S)
    bytes_ = core.run_bytes(inst.param_bytes)[run]
    gain = (now - after) / now
    ratio = gain / seconds
    best = int(np.argmax(ratio))
    efficiency = np.clip(ratio / ratio[best], -1.0, 1.0) if ratio[best] > 0 else np.zeros_like(ratio)
    share = seconds / rest
    f = np.zeros((len(actions), FEATURES), np.float32)
    f[:, 0] = gain
    f[:, 1] = share
    f[:, 2] = efficiency
    f[:, 3] = ratio >= ratio[best]
    f[:, 4] = share + (after / now) * (1.0 - share)
    f[:, 5] = after / local
    f[:, 6] = now / local
    f[:, 7] = (stop - start) / L
    f[:, 8] = start / L
    f[:, 9] = stop / L
    taken = np.concatenate([[True], ~free, [True]])  # layer -1 and layer L count as taken
    f[:, 10] = taken[start]  # layer start - 1, shifted by one
    f[:, 11] = taken[stop + 1]  # layer stop, shifted by one
    b_start, b_stop, b_server = start[best], stop[best], server[best]
    inside = (start >= b_start) & (stop <= b_stop) & (server == b_server)
    f[:, 12] = inside
    # a piece of the best run sent first, then the rest of that run (one or two runs) at the latency it leaves
    rest_runs = (start > b_start).astype(int) + (stop < b_stop)
    rest_s = (bytes_[best] - bytes_) * per_byte[b_server] + cfg.confirmation_s * rest_runs
    whole = now * seconds[best]
    f[:, 13] = np.where(inside, (whole - now * seconds - after * rest_s) / whole, 0.0)
    speed = inst.server_speed / inst.server_speed.max()
    f[:, 14] = speed[server]
    f[:, 15] = per_byte.min() / per_byte[server]
    f[:, 16] = free.mean()
    f[:, 17] = 1.0
    return actions, f


class UploadNet(nn.Module):
    """Logits of padded candidate sets (B, n, FEATURES) with a validity mask (B, n); ``width``: hidden size."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.width = int(width)
        d = self.width
        self.encode = nn.Linear(FEATURES, d)
        self.mix = nn.Linear(d, d)
        self.context = nn.Linear(2 * d, d, bias=False)
        self.hidden = nn.Linear(d, d)
        self.score = nn.Linear(d, 1)

    def forward(self, features: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, n) logits; -inf where ``valid`` is False (padding)."""
        h = torch.tanh(self.encode(features))
        weights = valid.unsqueeze(-1).to(h.dtype)
        mean = (h * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        top = h.masked_fill(~valid.unsqueeze(-1), -2.0).amax(1)  # tanh > -1, so padding never wins
        h = torch.tanh(self.mix(h) + self.context(torch.cat([mean, top], -1)).unsqueeze(1))
        logits = self.score(torch.tanh(self.hidden(h))).squeeze(-1)
        return logits.masked_fill(~valid, float("-inf"))

    @torch.no_grad()
    def choose(self, features: np.ndarray) -> int:
        """Index of the best-scored candidate among ``features`` (n, FEATURES) of one state."""
        x = torch.from_numpy(features)[None]
        return int(self(x, torch.ones(x.shape[:2], dtype=torch.bool)).argmax())


def padded(sets: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (B, n_max, FEATURES), valid (B, n_max)) of candidate sets of different sizes."""
    n = max(len(s) for s in sets)
    features = np.zeros((len(sets), n, FEATURES), np.float32)
    valid = np.zeros((len(sets), n), bool)
    for i, s in enumerate(sets):
        features[i, : len(s)], valid[i, : len(s)] = s, True
    return torch.from_numpy(features), torch.from_numpy(valid)


class UploadPolicy:
    """The trained network as a policy of EdgeUpload-v0 of any size: it reads the env's state (as the baselines
    do) to price the deciding client's legal actions; ``on(env)`` moves it to another env."""

    def __init__(self, model: UploadNet, env=None):
        self.model = model.eval()
        self.env = env

    def on(self, env) -> UploadPolicy:
        """The same network acting on ``env``."""
        return UploadPolicy(self.model, env)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation, info=None) -> int:
        state = getattr(getattr(self.env, "unwrapped", self.env), "state", None)
        if not isinstance(state, core.State):
            raise ValueError("the upload generalist reads its env's state: use policy.on(env) and reset the env first")
        actions, features = candidates(state)
        return int(actions[self.model.choose(features)])
