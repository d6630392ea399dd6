"""Server-level aggregation rules of the MS-FL paper (MS-FL) and its two frameworks, as policies for multiserver_fl_v0.

Every rule maps one server's view (accuracy and loss of each model on its validation data, the
model's sample counts) to aggregation weights over its own and its peers' models, in the agent's
own order (k = 0: itself; k: server (s + k) % S), as the env's action expects. The paper gives no
equations; where it is silent the simplest standard form is used (ERRATA, the MS-FL paper):

* ``wa``: plain weighted averaging, weights proportional to each server's samples this round (FedAvg
  across servers, no evaluation).
* ``sa``: sequential aggregation (Algorithm 1): start from the own model; for each peer in turn,
  the candidate ``(1 - beta) current + beta peer`` replaces the current model only if it raises the
  validation accuracy (strictly). It evaluates mixtures, so it calls ``core.mixture_accuracy``.
* ``ba``: binary aggregation: the single model with the best validation accuracy (ties: own first).
* ``dwaa``: weights proportional to validation accuracy.
* ``spaa``: DWAA times the sigmoid penalty ``1 / (1 + exp(max(z, 0)))`` of the z-score z of each
  model's validation loss across the S models the server evaluates (population std): a model with
  a loss at or below the mean keeps the factor 1/2, an outlier with a large loss tends to 0. The
  policy reads z from the observation's ``loss_z``, which the env computes from the unclipped losses
  (the ``loss`` field is clipped at ``core.LOSS_CAP``; ``loss_z``'s clip at ``core.Z_CAP`` never binds for
  S <= 26 servers, since one of S values lies at most sqrt(S - 1) std from their mean), so the rule is
  applied exactly even to a noisy model whose loss is far above the cap.
* ``single-server``: no peer exchange (own model only); pair with ``framework="single-server"``.
* ``cloud``: hierarchical FL: in the cloud's global rounds (every ``cloud_period``-th round,
  ``core.cloud_round``) the cloud's sample-weighted average of every server's model, sent back to all;
  in the rounds between, each server keeps its own model (edge aggregation only). Pair with
  ``framework="cloud"`` so the cloud's round trips are charged.
"""

from __future__ import annotations

import numpy as np

from edge_envs.multiserver_fl import core

REFERENCES: dict = {}
STRONGEST = ("spaa", "dwaa", "wa")
ALIASES = {"cloud": "wa"}
"""At the default cloud_period=1 cloud weighs the models as wa does; only an env made with framework="cloud" charges
its latency apart."""
"""The paper's two rules and plain weighted averaging (benchmarks/results/tables_multiserver_fl.md)."""


def wa(acc, loss, samples) -> np.ndarray:
    samples = np.asarray(samples, dtype=float)
    return samples if samples.sum() > 0 else _own(len(samples))


def ba(acc, loss, samples) -> np.ndarray:
    out = np.zeros(len(acc))
    out[int(np.argmax(acc))] = 1.0
    return out


def dwaa(acc, loss, samples) -> np.ndarray:
    acc = np.asarray(acc, dtype=float)
    return acc if acc.sum() > 0 else _own(len(acc))


def spaa(acc, loss, samples, loss_z=None) -> np.ndarray:
    """``loss_z``: the losses' z-scores where the losses themselves are clipped (the observation's ``loss_z``)."""
    z = core.zscores(loss) if loss_z is None else np.asarray(loss_z, dtype=float)
    weights = np.asarray(acc, dtype=float) / (1.0 + np.exp(np.maximum(z, 0.0)))
    return weights if weights.sum() > 0 else _own(len(weights))


def single_server(acc, loss, samples) -> np.ndarray:
    return _own(len(acc))


def sequential(accuracy_of, num_models: int, beta: float = 0.5) -> np.ndarray:
    """SA's weights: ``accuracy_of(weights)`` scores a mixture (weights over the models, own first)."""
    current = _own(num_models)
    best = accuracy_of(current)
    for k in range(1, num_models):
        candidate = (1.0 - beta) * current + beta * np.eye(num_models)[k]
        score = accuracy_of(candidate)
        if score > best:
            current, best = candidate, score
    return current


def _own(n: int) -> np.ndarray:
    return np.eye(n)[0]


RULES = {"wa": wa, "ba": ba, "dwaa": dwaa, "spaa": spaa, "single-server": single_server, "cloud": wa}


class RulePolicy:
    """Applies one rule to every agent's observation (and, for ``sa``, the env's models)."""

    def __init__(self, env, rule: str, beta: float = 0.5):
        self.env = getattr(env, "unwrapped", env)
        self.cfg = self.env.cfg
        self.rule = rule
        if not 0.0 < beta <= 1.0:
            raise ValueError(f"beta must be in (0, 1], got {beta!r}")
        self.beta = beta
        self.slices = core.observation_slices(self.cfg.num_servers)

    def _weights(self, i: int, obs: np.ndarray, info: dict) -> np.ndarray:
        s = self.cfg.num_servers
        if self.rule == "sa":
            state = self.env.core_state
            order = (i + np.arange(s)) % s

            def accuracy_of(relative_weights):
                absolute = np.zeros(s)
                absolute[order] = relative_weights
                return float(core.mixture_accuracy(state, i, absolute)[0])

            return sequential(accuracy_of, s, self.beta)
        samples = info.get("peer_samples", np.zeros(s))
        acc, loss = obs[self.slices["acc"]], obs[self.slices["loss"]]
        if self.rule == "spaa":
            return spaa(acc, loss, samples, loss_z=obs[self.slices["loss_z"]])
        if self.rule == "cloud" and (info.get("round", 0) + 1) % self.cfg.cloud_period:
            return _own(s)  # an edge round: no cloud aggregation
        return RULES[self.rule](acc, loss, samples)

    def act(self, observations: dict, infos: dict) -> dict:
        actions = {}
        for i, agent in enumerate(self.env.possible_agents):
            if agent not in observations:
                continue
            w = self._weights(i, np.asarray(observations[agent], dtype=float), infos.get(agent, {}))
            w = w / w.max()
            levels = self.cfg.action_levels
            actions[agent] = np.round(w * (levels - 1)).astype(np.int64) if levels else w.astype(np.float32)
        return actions

    def reset(self, seed=None) -> None:
        pass


def _factory(rule: str):
    def make(env, **kwargs):
        return RulePolicy(env, rule, **kwargs)

    make.__doc__ = f"The {rule!r} rule (see the module docstring)."
    return make


POLICIES = {name: _factory(name) for name in ("wa", "sa", "ba", "dwaa", "spaa", "single-server", "cloud")}
