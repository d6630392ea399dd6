"""Warm start of the A3C actor-critic by imitation of a baseline (deep imitation learning for offloading).

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

import numpy as np
import torch

import baselines
from agents.envs import make_env
from agents.losses import imitation_loss


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
):
    """(observations (S, D), teacher actions (S, M), returns (S,)) over ``rounds`` rounds of ``slots`` slots
    each, on ``envs`` env copies; after each round ``fit(obs, actions, returns)`` refits the model."""
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
        data[0].append(np.concatenate(obs_buf))
        data[1].append(np.concatenate(act_buf))
        # the critic learns the teacher's values: later rounds (the network acting) carry no return targets
        data[2].append(_discounted(rewards, gamma).ravel() if r == 0 else np.full(rewards.size, np.nan))
        if fit is not None:
            fit(*(np.concatenate(part) for part in data), first=r == 0)
    return tuple(np.concatenate(part) for part in data)


def warm_start(model, env_id: str, env_kwargs: dict, options, seed: int) -> dict:
    """Fit ``model`` (an agents.networks.ActorCritic) to ``options.imitation_teacher``'s choices; returns the
    final losses and the fraction of teacher choices the argmax actions repeat (per branch and whole)."""
    generator = torch.Generator().manual_seed(seed)
    report = {}

    def fit(obs, actions, returns, first):
        # the observation statistics stay those of random actions (A3CTrainer): the teacher's states alone
        # hardly move the queue and energy features, and the network must also read the states it errs into
        optimizer = torch.optim.Adam(model.parameters(), lr=options.imitation_lr)
        x, a, g = torch.from_numpy(obs), torch.from_numpy(actions).long(), torch.from_numpy(returns).float()
        for _ in range(options.imitation_epochs):
            for batch in torch.randperm(len(x), generator=generator).split(256):
                logits, values = model(x[batch], a[batch])
                known = ~torch.isnan(g[batch])
                terms = imitation_loss(
                    logits, values[known], a[batch], g[batch][known], model.sharing_penalty(), options.sharing_coef
                )
                optimizer.zero_grad()
                terms.total.backward()
                optimizer.step()
        with torch.no_grad():
            chosen = model.act(obs, deterministic=True)
        report.update(
            clone_loss=terms.policy.item(),
            value_loss=terms.value.item(),
            branch_agreement=float((chosen == actions).mean()),
            placement_agreement=float((chosen == actions).all(1).mean()),
            samples=len(obs),
        )

    demonstrations(
        model,
        env_id,
        env_kwargs,
        options.imitation_teacher,
        options.imitation_steps // options.imitation_rounds,
        options.imitation_envs,
        options.imitation_rounds,
        seed,
        options.gamma,
        options.reward_scale,
        fit,
    )
    return report
