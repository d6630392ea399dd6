"""``priced``: an EdgePartition agent that learns the prices of what a slot leaves behind, by evolution strategies.

Each slot the agent plays exact-slot-queue's rule (``baselines.edge_partition.foresight.paced_choice``): the
placement that minimises the slot's cost plus ``queue_weight`` x the wait its backlog imposes next slot, with
an energy price that keeps the slot's energy within ``burst`` x the budget left per slot left. The two knobs
are not constants but a linear function of the state's features (:func:`features`: budget left per slot left,
slots left, backlog, the slot's load), learned:

* candidates (the warm start): the placements the rule may play are exact-slot's own (branch and bound,
  ``exact.solve``) and the ``candidates`` placements exact-slot-queue's priced optima and hull points used
  most often on ``warm_episodes`` training episodes. Listing 15,625 placements per slot takes ~40 ms; the
  short list ~0.3 ms, so the agent decides in about exact-slot's time. With the knobs at the teacher's
  constants (``burst`` 10, ``queue_weight`` 1: the warm start) it is exact-slot-queue restricted to them.
* RL: the knobs' weights are trained on episode return by evolution strategies (Salimans et al. 2017):
  each iteration draws ``pairs`` antithetic perturbations of scale ``sigma``, plays each on the same
  ``episodes`` training episodes (seeds clear of the evaluation seeds), and moves the weights by ``lr`` along
  the rank-weighted perturbations. The policy is deterministic; only the training explores.

``edge-envs train --env EdgePartition-v0 --algo priced --steps 40000 --env-kwargs '{"task_rate": 110,
"poisson_tasks": true}'``. Steps count env steps (the warm start's included); a checkpoint after each
iteration, ``--resume`` continues with the next. Single-device EdgePartition-v0 only.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import rankdata

import baselines
from agents.checkpoint import CheckpointError, run_fields
from agents.envs import Episode, make_env
from baselines.edge_partition import exact, placements
from baselines.edge_partition.foresight import paced_choice
from edge_envs.config import check_range
from edge_envs.edge_partition import core

PRICED = "priced"
ENV_ID = "EdgePartition-v0"
TRAIN_SEEDS = (2**20, 2**31)  # training episode seeds: clear of the evaluation seeds (900000.., 10000..59999)
FEATURES = ("bias", "pace", "slots_left", "backlog", "load")
"""What the knobs read (:func:`features`)."""
KNOBS = ("log_burst", "queue_weight")
TEACHER = (math.log(10.0), 1.0)
"""The knobs of exact-slot-queue (burst 10, queue weight 1): the warm start's constant knobs."""
WARM_QUEUE_WEIGHTS = (0.0, 1.0, 4.0)
"""Queue weights whose priced optima and hull points the warm start lists (exact-slot's, the teacher's, 4x)."""


@dataclass(frozen=True)
class PricedOptions:
    """Options of the priced agent (knobs of exact-slot-queue's rule learned by evolution strategies)."""

    candidates: int = 128
    """placements listed beside exact-slot's (the warm start's most used)"""
    warm_episodes: int = 1
    """training episodes exact-slot-queue plays to list the candidates"""
    pairs: int = 4
    """antithetic perturbation pairs per iteration"""
    episodes: int = 2
    """training episodes every perturbation plays per iteration (the same for all)"""
    sigma: float = 0.3
    """scale of the perturbations of the knobs' weights"""
    lr: float = 0.2
    """step along the rank-weighted perturbations"""

    def __post_init__(self):
        for name, low, high in (("candidates", 0, 4096), ("warm_episodes", 1, 100), ("pairs", 1, 256)):
            check_range(f"PricedOptions.{name} (--{name.replace('_', '-')})", getattr(self, name), low, high, True)
        check_range("PricedOptions.episodes (--episodes)", self.episodes, 1, 100, integer=True)
        check_range("PricedOptions.sigma (--sigma)", self.sigma, 1e-6, 10.0)
        check_range("PricedOptions.lr (--lr)", self.lr, 1e-6, 10.0)


def features(state: core.State, b: int = 0) -> np.ndarray:
    """The FEATURES of row b's slot: 1; log of the budget left per slot left over the budget per slot (0 for an
    unbounded budget, clipped to [-3, 3]); the share of slots left; log(1 + backlog / slot); tasks this slot over
    the mean less 1 (clipped to [-1, 3])."""
    cfg = state.cfg
    slots_left = max(cfg.episode_slots - int(state.slot[b]), 1)
    pace = 0.0
    if math.isfinite(cfg.energy_budget_j):
        per_slot = max(float(state.energy_left[b, 0]), 1e-9) / slots_left
        pace = float(np.clip(math.log(per_slot / (cfg.energy_budget_j / cfg.episode_slots)), -3.0, 3.0))
    backlog = (float(state.queue[b].sum()) + float(state.device_queue[b].sum())) / cfg.slot_s
    load = float(state.tasks_now[b].sum()) / (cfg.task_rate * cfg.slot_s) - 1.0
    return np.array([1.0, pace, slots_left / cfg.episode_slots, math.log1p(backlog), float(np.clip(load, -1.0, 3.0))])


def knobs(weights: np.ndarray, phi: np.ndarray) -> tuple[float, float]:
    """(burst >= 1, queue_weight >= 0) of the weights (len(KNOBS), len(FEATURES)) at features ``phi``: the
    teacher's constants plus the weights' linear function (log burst clipped to [0, 7])."""
    z = np.asarray(TEACHER) + weights @ phi
    return math.exp(float(np.clip(z[0], 0.0, 7.0))), max(float(z[1]), 0.0)


class PricedPolicy:
    """exact-slot-queue's rule over exact-slot's placement and the listed candidates, its knobs from the
    weights (module docstring). Reads the env's core state, as the baselines do."""

    def __init__(self, weights: np.ndarray, candidates: np.ndarray, env=None):
        self.weights = np.asarray(weights, dtype=np.float64).reshape(len(KNOBS), len(FEATURES))
        self.candidates = np.asarray(candidates, dtype=np.int64)
        self.env = env

    def on(self, env) -> PricedPolicy:
        return PricedPolicy(self.weights, self.candidates, env)

    def reset(self, seed: int | None = None) -> None:
        """Nothing to restart: the policy is deterministic."""

    def place(self, state: core.State, b: int = 0) -> np.ndarray:
        """The placement (M,) of row b's slot."""
        if state.num_devices != 1:
            raise ValueError(f"{PRICED}: single-device EdgePartition envs only, got {state.num_devices} devices")
        own = exact.solve(state.rows(np.array([b]))).placement  # (1, M): exact-slot's
        listed = self.candidates if self.candidates.shape[1:] == own.shape[1:] else own[:0]  # another size: none
        pool = np.concatenate([own, listed])
        terms = placements.listed_terms(state, pool, b)
        burst, queue_weight = knobs(self.weights, features(state, b))
        return pool[paced_choice(state, b, terms, queue_weight, burst)[1]].copy()

    def act(self, observation, info=None):
        if self.env is None:
            raise ValueError(f"{PRICED}: the policy reads the env's core state; build it with an env (or .on(env))")
        state = self.env.unwrapped.state
        if not isinstance(state, core.State):
            raise RuntimeError("the env has no core state yet: call env.reset() before policy.act()")
        return self.place(state)


def warm_candidates(env, seeds, count: int) -> np.ndarray:
    """(count or fewer, M): the placements exact-slot-queue's rule picks at WARM_QUEUE_WEIGHTS, and the
    (energy, priced cost) hull points, most often on the episodes ``seeds`` that exact-slot-queue plays."""
    teacher = baselines.make_policy("exact-slot-queue", env)
    used: Counter = Counter()
    for seed in seeds:
        obs, info = env.reset(seed=int(seed))
        done = False
        while not done:
            state = env.unwrapped.state
            if placements.count(state.cfg) <= placements.MAX_PLACEMENTS:
                terms = placements.slot_terms(state)
                for w in WARM_QUEUE_WEIGHTS:
                    cost, index, _, _ = paced_choice(state, 0, terms, w, math.exp(TEACHER[0]))
                    used.update([int(index)] + [int(k) for k in placements.lower_hull(terms.energy, cost)])
            action = teacher.act(obs, info)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
    chosen = [k for k, _ in sorted(used.items(), key=lambda item: (-item[1], item[0]))[:count]]
    cfg = env.unwrapped.cfg
    return placements.placement_of(np.array(chosen, dtype=np.int64), cfg).reshape(-1, cfg.num_blocks)


def play(policy: PricedPolicy, env, seed: int) -> tuple[float, int]:
    """(return, slots) of one episode ``env.reset(seed=seed)`` starts."""
    env.reset(seed=int(seed))
    state, total, slots, done = env.unwrapped.state, 0.0, 0, False
    while not done:
        _, reward, terminated, truncated, _ = env.step(policy.place(state))
        state, total, slots, done = env.unwrapped.state, total + float(reward), slots + 1, terminated or truncated
    return total, slots


def centred_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` scaled to [-0.5, 0.5] (ties share their mean rank, so equal returns move nothing): the
    fitness shaping of evolution strategies."""
    return (rankdata(values) - 1.0) / max(len(values) - 1, 1) - 0.5


class PricedTrainer:
    """The knobs' weights, the candidates and the iteration count of one priced run."""

    def __init__(self, env_id: str, env_kwargs: dict | None, options: PricedOptions, seed: int):
        if env_id != ENV_ID:
            raise ValueError(f"--algo {PRICED} trains on {ENV_ID} only (it plays exact-slot's kernel), got {env_id!r}")
        self.algo, self.env_id, self.env_kwargs = PRICED, env_id, dict(env_kwargs or {})
        self.options, self.seed = options, int(seed)
        self.env = make_env(env_id, self.env_kwargs)
        cfg = self.env.unwrapped.cfg
        if getattr(cfg, "num_devices", 1) != 1:
            raise ValueError(f"--algo {PRICED}: single-device EdgePartition only, got num_devices={cfg.num_devices}")
        self.obs_dim, self.nvec = 0, [cfg.num_servers + 1] * cfg.num_blocks
        self.weights = np.zeros((len(KNOBS), len(FEATURES)))
        self.candidates = np.zeros((0, cfg.num_blocks), np.int64)
        self.steps = self.updates = 0  # updates: 1 for the warm start, then one per iteration

    def restore(self, payload: dict) -> None:
        self.weights = payload["model"]["weights"].numpy().astype(np.float64)
        self.candidates = payload["model"]["candidates"].numpy().astype(np.int64)
        self.steps, self.updates = int(payload["steps"]), int(payload["updates"])

    def payload(self) -> dict:
        model = {"weights": torch.from_numpy(self.weights.copy()), "candidates": torch.from_numpy(self.candidates)}
        return {**run_fields(self), "model": model, "optimizer": {}}

    def policy(self, weights: np.ndarray | None = None) -> PricedPolicy:
        return PricedPolicy(self.weights if weights is None else weights, self.candidates, self.env)

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """The warm start (if not done), then iterations until ``total_steps`` env steps; a checkpoint after each."""
        o = self.options
        if self.updates == 0:
            seeds = np.random.default_rng([self.seed, 0]).integers(*TRAIN_SEEDS, size=o.warm_episodes)
            self.candidates = warm_candidates(self.env, seeds, o.candidates)
            self.steps += o.warm_episodes * self.env.unwrapped.cfg.episode_slots
            self.updates = 1
            monitor.losses(self.steps, {"candidates": len(self.candidates)})
            monitor.advance(self.steps)
            if checkpoint is not None:
                checkpoint(self.payload())
        while self.steps < total_steps:
            rng = np.random.default_rng([self.seed, self.updates])
            noise = rng.standard_normal((o.pairs, *self.weights.shape))
            seeds = rng.integers(*TRAIN_SEEDS, size=o.episodes)
            returns = np.empty(2 * o.pairs)
            for i, weights in enumerate(
                w for e in noise for w in (self.weights + o.sigma * e, self.weights - o.sigma * e)
            ):
                played = [play(self.policy(weights), self.env, seed) for seed in seeds]
                returns[i] = np.mean([r for r, _ in played])
                self.steps += sum(slots for _, slots in played)
                monitor.episode(self.steps, Episode(float(returns[i]), played[0][1]))
            shaped = centred_ranks(returns).reshape(o.pairs, 2)
            step = np.tensordot(shaped[:, 0] - shaped[:, 1], noise, axes=1) / (o.pairs * o.sigma)
            self.weights = self.weights + o.lr * step
            self.updates += 1
            monitor.losses(self.steps, {"es_mean_return": float(returns.mean()), "es_step": float(np.abs(step).max())})
            monitor.advance(self.steps)
            if checkpoint is not None:
                checkpoint(self.payload())


def policy_from_payload(payload: dict, env=None) -> PricedPolicy:
    """The priced policy of a checkpoint (``env``: the env whose core state it reads; or ``.on(env)`` later)."""
    try:
        PricedOptions(**payload["options"])
        weights, candidates = payload["model"]["weights"], payload["model"]["candidates"]
    except (TypeError, KeyError) as error:
        raise CheckpointError(f"a {PRICED} checkpoint lacks its options, weights or candidates: {error}") from None
    if tuple(weights.shape) != (len(KNOBS), len(FEATURES)) or candidates.dim() != 2:
        raise CheckpointError(
            f"a {PRICED} checkpoint holds weights of shape {tuple(weights.shape)} (expected "
            f"{(len(KNOBS), len(FEATURES))}) and candidates of shape {tuple(candidates.shape)} (expected (K, M))"
        )
    return PricedPolicy(weights.numpy(), candidates.numpy(), env)
