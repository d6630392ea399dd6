"""Warm start of the A3C actor-critic by imitation of a baseline (deep imitation learning for offloading);
``sb3_warm_start`` does the same for SB3's PPO and A2C on MultiDiscrete envs.

A teacher (a baseline that reads the env's core state, e.g. EdgePartition's ``exact-slot``) labels the
states of ``rounds`` rounds of rollouts: the first round follows the teacher, the later ones the
network's own argmax actions (DAgger, Ross et al., AISTATS 2011: the learner then sees the states its
own mistakes lead to, each labelled with the teacher's choice). The actor's M branches are fitted to
the labels by cross-entropy (a chained network with the labels as the previous choices), the critic to
the discounted return of each rollout from each state (rewards scaled as A3C scales them), and the
trunks stay tied by the soft-sharing penalty; Adam, minibatches, in the calling process, before the
asynchronous workers start. The M branches, the shared trunks and the A3C updates that follow are
those of the TMC 2024 paper; only the starting point changes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

import baselines
from agents.envs import make_env
from agents.losses import imitation_loss
from edge_envs.config import check_range


@dataclass(frozen=True)
class ImitationOptions:
    """The warm start's options (``--imitation-*``), shared by A3COptions and SB3Options."""

    imitation_teacher: str = ""
    """baseline whose choices warm-start the network before learning, e.g. exact-slot ('': none; agents.imitation)"""
    imitation_steps: int = 0
    """env steps of teacher-labelled rollouts for the warm start, split over the rounds (0: no warm start)"""
    imitation_rounds: int = 3
    """rounds of the warm start: the first follows the teacher, the others the network (DAgger)"""
    imitation_envs: int = 8
    """env copies the warm start's rollouts run on"""
    imitation_epochs: int = 30
    """passes over the labelled states after each round"""
    imitation_lr: float = 1e-3
    """Adam learning rate of the warm start"""

    def check_imitation(self) -> None:
        """Raise a ValueError naming the first imitation option out of its range."""
        cls = type(self).__name__
        for name, low, high in (("steps", 0, 10**9), ("rounds", 1, 10**6), ("envs", 1, 1024), ("epochs", 1, 10**6)):
            value = getattr(self, f"imitation_{name}")
            check_range(f"{cls}.imitation_{name} (--imitation-{name})", value, low, high, integer=True)
        check_range(f"{cls}.imitation_lr (--imitation-lr)", self.imitation_lr, 1e-12, 10.0)
        if not isinstance(self.imitation_teacher, str) or (self.imitation_steps and not self.imitation_teacher):
            raise ValueError(
                f"{cls}.imitation_teacher (--imitation-teacher) must name a baseline when imitation_steps > 0, "
                f"got {self.imitation_teacher!r}"
            )


def check_teacher(env_id: str, teacher: str) -> None:
    """Raise a ValueError naming ``teacher`` and the allowed names unless it is a baseline of ``env_id``."""
    names = baselines.available(env_id)
    if teacher.lower() not in names:
        raise ValueError(f"imitation_teacher {teacher!r} is not a baseline of {env_id}; choose from {names}")


def _discounted(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """(T, E) rewards -> returns from each step to the end of the rollout (no bootstrap past it)."""
    out, running = np.empty_like(rewards), np.zeros(rewards.shape[1])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def demonstrations(
    model,
    env_id: str,
    env_kwargs: dict,
    teacher: str,
    slots: int,
    envs: int,
    rounds: int,
    seed: int,
    gamma: float,
    reward_scale: float,
    fit=None,
    bar=None,
):
    """(observations (S, D), teacher actions (S, M), returns (S,)) over ``rounds`` rounds of ``slots`` slots
    each, on ``envs`` env copies; after each round ``fit(obs, actions, returns)`` refits the model. ``bar``
    (a tqdm, optional) advances by the slots labelled."""
    copies = [make_env(env_id, env_kwargs) for _ in range(envs)]
    teachers = [baselines.make_policy(teacher, env) for env in copies]
    seeds = np.random.SeedSequence([seed, 4242]).generate_state(envs * rounds)
    steps = max(1, slots // envs)
    data = ([], [], [])
    for r in range(rounds):
        obs_buf, act_buf, rewards = [], [], np.zeros((steps, envs))
        current = [env.reset(seed=int(seeds[r * envs + i])) for i, env in enumerate(copies)]
        for t in range(steps):
            obs = np.stack([np.asarray(o, dtype=np.float32) for o, _ in current])
            labels = np.stack([np.asarray(pol.act(o, info)) for pol, (o, info) in zip(teachers, current)])
            actions = labels if r == 0 else model.act(obs, deterministic=True)
            obs_buf.append(obs)
            act_buf.append(labels)
            for i, env in enumerate(copies):
                o, reward, terminated, truncated, info = env.step(actions[i].astype(env.action_space.dtype))
                rewards[t, i] = reward * reward_scale
                current[i] = env.reset() if terminated or truncated else (o, info)
            if bar is not None:
                bar.update(envs)
        data[0].append(np.concatenate(obs_buf))
        data[1].append(np.concatenate(act_buf))
        # the critic learns the teacher's values: later rounds (the network acting) carry no return targets
        data[2].append(_discounted(rewards, gamma).ravel() if r == 0 else np.full(rewards.size, np.nan))
        if fit is not None:
            fit(*(np.concatenate(part) for part in data), first=r == 0)
    return tuple(np.concatenate(part) for part in data)


def _fit_epochs(loss_of, parameters, size: int, epochs: int, lr: float, generator):
    """Adam over ``epochs`` passes of shuffled minibatches of 256 of ``size`` samples; ``loss_of(batch)`` returns
    LossTerms; the last batch's terms are returned."""
    optimizer = torch.optim.Adam(parameters, lr=lr)
    for _ in range(epochs):
        for batch in torch.randperm(size, generator=generator).split(256):
            terms = loss_of(batch)
            optimizer.zero_grad()
            terms.total.backward()
            optimizer.step()
    return terms


def _report(terms, chosen: np.ndarray, actions: np.ndarray) -> dict:
    """Final losses and the fraction of teacher choices the argmax actions repeat (per branch and whole)."""
    return {
        "clone_loss": terms.policy.item(),
        "value_loss": terms.value.item(),
        "branch_agreement": float((chosen == actions).mean()),
        "placement_agreement": float((chosen == actions).all(1).mean()),
        "samples": len(actions),
    }


def _demonstrate(model, env_id: str, env_kwargs: dict, options, seed: int, reward_scale: float, fit, monitor) -> None:
    """``demonstrations`` with the options' sizes, behind the monitor's progress bar (none without a monitor)."""
    rounds, envs = options.imitation_rounds, options.imitation_envs
    total = rounds * envs * max(1, options.imitation_steps // rounds // envs)
    description = f"warm start ({options.imitation_teacher} labels)"
    with monitor.phase(total, description) if monitor is not None else contextlib.nullcontext() as bar:
        demonstrations(
            model,
            env_id,
            env_kwargs,
            options.imitation_teacher,
            options.imitation_steps // rounds,
            envs,
            rounds,
            seed,
            options.gamma,
            reward_scale,
            fit,
            bar,
        )


def warm_start(model, env_id: str, env_kwargs: dict, options, seed: int, monitor=None) -> dict:
    """Fit ``model`` (an agents.networks.ActorCritic) to ``options.imitation_teacher``'s choices; returns the
    final losses and the fraction of teacher choices the argmax actions repeat (per branch and whole)."""
    generator = torch.Generator().manual_seed(seed)
    report = {}

    def fit(obs, actions, returns, first):
        # the observation statistics stay those of random actions (A3CTrainer): the teacher's states alone
        # hardly move the queue and energy features, and the network must also read the states it errs into
        x, a, g = torch.from_numpy(obs), torch.from_numpy(actions).long(), torch.from_numpy(returns).float()

        def loss_of(batch):
            logits, values = model(x[batch], a[batch])
            known = ~torch.isnan(g[batch])
            return imitation_loss(
                logits, values[known], a[batch], g[batch][known], model.sharing_penalty(), options.sharing_coef
            )

        terms = _fit_epochs(
            loss_of, model.parameters(), len(x), options.imitation_epochs, options.imitation_lr, generator
        )
        with torch.no_grad():
            report.update(_report(terms, model.act(obs, deterministic=True), actions))

    _demonstrate(model, env_id, env_kwargs, options, seed, options.reward_scale, fit, monitor)
    return report


class _SB3Actor:
    """An SB3 model's argmax actions for a batch of observations (the learner of the DAgger rounds)."""

    def __init__(self, model):
        self.model = model

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        action, _ = self.model.predict(np.asarray(obs, dtype=np.float32), deterministic=deterministic)
        return np.asarray(action).reshape(len(obs), -1)


def sb3_warm_start(model, env_id: str, env_kwargs: dict, options, seed: int, monitor=None) -> dict:
    """Behaviour cloning of ``options.imitation_teacher`` into an SB3 model on a MultiDiscrete env (PPO, A2C):
    the same DAgger rounds as ``warm_start``, each branch's categorical fitted by cross-entropy
    (``imitation_loss`` on the distribution's logits), the value head to the teacher's discounted returns."""
    policy = model.policy
    generator = torch.Generator().manual_seed(seed)
    report = {}

    def logits_of(obs):
        branches = policy.get_distribution(obs).distribution
        width = max(branch.logits.shape[-1] for branch in branches)
        return torch.stack([F.pad(b.logits, (0, width - b.logits.shape[-1]), value=-1e9) for b in branches], 1)

    def fit(obs, actions, returns, first):
        x, a, g = torch.from_numpy(obs), torch.from_numpy(actions).long(), torch.from_numpy(returns).float()
        policy.set_training_mode(True)

        def loss_of(batch):
            known = ~torch.isnan(g[batch])
            values = policy.predict_values(x[batch][known]).squeeze(-1)
            return imitation_loss(logits_of(x[batch]), values, a[batch], g[batch][known], torch.zeros(()), 0.0)

        terms = _fit_epochs(
            loss_of, policy.parameters(), len(x), options.imitation_epochs, options.imitation_lr, generator
        )
        policy.set_training_mode(False)
        report.update(_report(terms, _SB3Actor(model).act(obs), actions))

    _demonstrate(_SB3Actor(model), env_id, env_kwargs, options, seed, 1.0, fit, monitor)
    return report
