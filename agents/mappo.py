"""IPPO and MAPPO for the PettingZoo parallel envs (Yu et al., "The Surprising Effectiveness of PPO in
Cooperative Multi-Agent Games", NeurIPS 2022).

Both share one actor (and one critic) across the agents; each network reads the agent's one-hot id
beside its input, so one set of weights can still act differently per agent. The actor reads the
agent's own observation; the critic reads the same for IPPO (``ippo``: independent learners) and the
env's global state (PettingZoo's ``state()`` and ``state_space``) for MAPPO (``mappo``: a
centralised critic, decentralised actors). Training is clipped PPO with GAE(lambda) on rollouts of
``envs`` env copies stepped in lockstep; a step of every live agent is one env step of the count.

Written here rather than taken from BenchMARL: BenchMARL 1.5.2 pins torchrl < 0.12 (built for an
older torch than the pinned 2.13, plus hydra, torchvision and av) and runs its own experiment loop
and checkpoints, which would not give this project's run folders, resumable content-hashed
checkpoints or policy protocol. RLlib's multi-agent stack stays available as ``rllib-ppo``.

A fresh run can first be warm-started by imitation (``imitation_teacher``, ``imitation_steps``; DAgger as in
agents.imitation): a baseline (e.g. GA on EdgePartition, SPAA on MultiServerFL) labels every live agent's
state, the first round following the teacher and the later ones the actor's own most likely actions; the
actor is fitted to the labels by cross-entropy and the critic to the teacher's discounted returns (the
first round's), so that PPO starts from the teacher's behaviour and a critic that values it.

Both envs end their episodes at a fixed horizon that the observation shows (time left), so a
truncation is the end of the problem and is not bootstrapped; an agent whose episode ends early
(EdgePartition: energy spent) waits, and its waiting steps carry no experience.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import baselines
from agents.checkpoint import CheckpointError, network_fields, restore_network, run_fields
from agents.envs import EpisodeTally, env_spaces, make_env, pettingzoo_module
from agents.imitation import ImitationOptions, check_teacher
from agents.spaces import env_action
from edge_envs.config import check_range

ALGOS = ("ippo", "mappo")


@dataclass(frozen=True)
class MAPPOOptions(ImitationOptions):
    """Options of IPPO and MAPPO (the MAPPO paper's defaults where it gives them); the warm start's
    ``imitation_steps`` count agent-steps, as training's steps do."""

    lr: float = 5e-4
    """Adam step size of the actor and the critic, in (0, 1] (paper: 5e-4)"""
    gamma: float = 0.99
    """discount, in [0, 1]"""
    gae_lambda: float = 0.95
    """GAE lambda, in [0, 1]"""
    clip: float = 0.2
    """PPO's clipping range of the probability ratio, in (0, 1)"""
    epochs: int = 5
    """passes over each rollout, at least 1 (paper: 5-15)"""
    minibatches: int = 2
    """minibatches per pass, at least 1"""
    rollout_steps: int = 64
    """parallel env steps per rollout and env copy, at least 1"""
    envs: int = 4
    """env copies stepped in lockstep, at least 1"""
    entropy_coef: float = 0.01
    """weight of the entropy bonus, >= 0"""
    value_coef: float = 0.5
    """weight of the critic's squared error, > 0"""
    max_grad_norm: float = 10.0
    """clip the gradient to this L2 norm (paper: 10), > 0"""
    hidden: tuple[int, ...] = (64, 64)
    """widths of the actor's and the critic's hidden layers (paper: 64)"""
    reward_scale: float = 1.0
    """rewards are multiplied by this before learning (the critic then predicts scaled returns), > 0"""
    normalize_observations: bool = True
    """standardise the actor's and the critic's inputs by their mean and std over random-action steps (taken
    once, before training; kept in the network)"""

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        for name, low, high, integer in (
            ("lr", 1e-12, 1.0, False),
            ("gamma", 0.0, 1.0, False),
            ("gae_lambda", 0.0, 1.0, False),
            ("clip", 1e-6, 1.0 - 1e-6, False),
            ("epochs", 1, 10**6, True),
            ("minibatches", 1, 10**6, True),
            ("rollout_steps", 1, 10**7, True),
            ("envs", 1, 4096, True),
            ("entropy_coef", 0.0, 1e6, False),
            ("value_coef", 1e-12, 1e6, False),
            ("max_grad_norm", 1e-12, 1e12, False),
            ("reward_scale", 1e-12, 1e12, False),
        ):
            check_range(f"MAPPOOptions.{name} (--{name.replace('_', '-')})", getattr(self, name), low, high, integer)
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"MAPPOOptions.hidden (--hidden) must be at least one width >= 1, got {self.hidden!r}")
        self.check_imitation()


def _mlp(inputs: int, hidden: tuple[int, ...], outputs: int) -> nn.Sequential:
    layers, width = [], inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.Tanh()]
        width = h
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


class SharedActorCritic(nn.Module):
    """One actor over (observation, agent id) with a softmax head per action dimension, one critic over
    (observation or global state, agent id); inputs standardised by fixed buffers."""

    def __init__(self, obs_dim: int, critic_dim: int, num_agents: int, nvec, hidden: tuple[int, ...]):
        super().__init__()
        self.num_agents, self.nvec = int(num_agents), [int(n) for n in nvec]
        self.actor = _mlp(obs_dim + num_agents, hidden, sum(self.nvec))
        self.critic = _mlp(critic_dim + num_agents, hidden, 1)
        for name, dim in (("obs", obs_dim), ("critic", critic_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(dim))
            self.register_buffer(f"{name}_std", torch.ones(dim))
        # running moments of the returns: the critic learns them standardised (the MAPPO paper's value
        # normalisation), so costs that swing by orders of magnitude between slots do not swamp its step
        self.register_buffer("return_moments", torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))  # n, mean, var

    def update_returns(self, returns: np.ndarray) -> None:
        """Fold a batch of returns into the running count, mean and variance (Chan et al.'s parallel rule)."""
        n, mean, var = self.return_moments.tolist()
        m, batch_mean, batch_var = len(returns), float(np.mean(returns)), float(np.var(returns))
        total = n + m
        delta = batch_mean - mean
        new_var = (n * var + m * batch_var + delta**2 * n * m / total) / total
        moments = [total, mean + delta * m / total, max(new_var, 1e-8)]
        self.return_moments.copy_(torch.tensor(moments, dtype=torch.float64))

    def return_scale(self) -> tuple[float, float]:
        """(mean, std) of the returns seen so far."""
        _, mean, var = self.return_moments.tolist()
        return mean, float(np.sqrt(var))

    def _ids(self, agent: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(agent, self.num_agents).float()

    def logits(self, obs: torch.Tensor, agent: torch.Tensor) -> list[torch.Tensor]:
        x = torch.cat([(obs - self.obs_mean) / self.obs_std, self._ids(agent)], -1)
        return list(torch.split(self.actor(x), self.nvec, dim=-1))

    def value(self, critic_input: torch.Tensor, agent: torch.Tensor) -> torch.Tensor:
        """The critic's output: the value in units of the returns' running std about their mean."""
        x = torch.cat([(critic_input - self.critic_mean) / self.critic_std, self._ids(agent)], -1)
        return self.critic(x).squeeze(-1)

    def evaluate(self, obs, agent, actions) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability of the joint ``actions`` (N, M) and the summed entropy of the heads."""
        logp, entropy = 0.0, 0.0
        for m, logits in enumerate(self.logits(obs, agent)):
            dist = torch.distributions.Categorical(logits=logits)
            logp = logp + dist.log_prob(actions[:, m])
            entropy = entropy + dist.entropy()
        return logp, entropy

    @torch.no_grad()
    def act(self, obs: np.ndarray, agent: np.ndarray, generator: torch.Generator | None) -> np.ndarray:
        """(N, M) actions: sampled with ``generator``, or each head's most likely choice without one."""
        heads = self.logits(torch.as_tensor(obs, dtype=torch.float32), torch.as_tensor(agent))
        if generator is None:
            return torch.stack([h.argmax(-1) for h in heads], -1).numpy()
        return torch.stack(
            [torch.multinomial(torch.softmax(h, -1), 1, generator=generator)[:, 0] for h in heads], -1
        ).numpy()


def check_env(env_id: str, algo: str, env) -> None:
    """A named error unless ``env`` is a PettingZoo parallel env (with a global state for mappo)."""
    if pettingzoo_module(env_id) is None or not hasattr(env, "possible_agents"):
        raise ValueError(f"{algo} trains PettingZoo parallel envs (edge_partition_multi_v0, multiserver_fl_v0); "
                         f"{env_id} is a Gymnasium env: use ppo, a2c, mtl-a3c or maskable-ppo")  # fmt: skip
    if algo == "mappo" and getattr(env, "state_space", None) is None:
        raise ValueError(
            f"mappo's critic reads the env's global state; {env_id} has no state() / state_space (use ippo)"
        )


class _Copies:
    """``count`` copies of a parallel env as arrays (copy, agent, ...); a copy whose agents are all done
    resets itself (first reset seeded, the next ones continue its generator)."""

    def __init__(self, env_id: str, env_kwargs: dict, count: int, seed: int, centralised: bool):
        self.envs = [make_env(env_id, env_kwargs) for _ in range(count)]
        self.agents = list(self.envs[0].possible_agents)
        self.space = self.envs[0].action_space(self.agents[0])
        self.centralised = centralised
        self.seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(count)]
        self.tally = EpisodeTally(count * len(self.agents))

    def _observe(self, e: int, obs: dict, infos: dict) -> None:
        self.raw[e] = (obs, infos)  # what a baseline's act reads
        for i, agent in enumerate(self.agents):
            if agent in obs:
                self.obs[e, i] = obs[agent]
        if self.centralised:
            self.state[e] = self.envs[e].state()

    def reset(self) -> None:
        A, first = len(self.agents), self.envs[0]
        self.obs = np.zeros((len(self.envs), A, env_spaces(first)[0]), np.float32)
        self.state = np.zeros((len(self.envs), first.state_space.shape[0] if self.centralised else 0), np.float32)
        self.raw = [None] * len(self.envs)
        for e, (env, seed) in enumerate(zip(self.envs, self.seeds)):
            self._observe(e, *env.reset(seed=seed))

    def live(self) -> np.ndarray:
        return np.array([[agent in env.agents for agent in self.agents] for env in self.envs])

    def step(self, actions: np.ndarray):
        """Step every copy; (rewards (E, A), done (E, A), finished episodes)."""
        A = len(self.agents)
        rewards, done, episodes = np.zeros(actions.shape[:2]), np.zeros(actions.shape[:2], bool), []
        for e, env in enumerate(self.envs):
            acting = {a: env_action(self.space, actions[e, i]) for i, a in enumerate(self.agents) if a in env.agents}
            obs, reward, terms, truncs, infos = env.step(acting)
            for i, agent in enumerate(self.agents):
                if agent in reward:
                    rewards[e, i], done[e, i] = reward[agent], terms[agent] or truncs[agent]
                    self.tally.add(e * A + i, float(reward[agent]), infos.get(agent, {}))
                    if done[e, i]:
                        episodes.append(self.tally.close(e * A + i))
            self._observe(e, *(env.reset() if not env.agents else (obs, infos)))
        return rewards, done, episodes


def gae(rewards, values, done, live, last_values, gamma: float, lam: float) -> np.ndarray:
    """GAE(lambda) advantages (T, ...) of per-stream sequences: ``done[t]`` ends a stream's episode at t (no
    bootstrap), a step that is not ``live`` carries nothing, ``last_values`` bootstraps after the last step."""
    advantages = np.zeros_like(rewards)
    next_value, running = last_values, np.zeros_like(last_values)
    for t in range(len(rewards) - 1, -1, -1):
        carry = (~done[t]).astype(rewards.dtype)
        delta = rewards[t] + gamma * next_value * carry - values[t]
        running = np.where(live[t], delta + gamma * lam * carry * running, 0.0)
        advantages[t] = running
        next_value = np.where(live[t], values[t], 0.0)
    return advantages


def input_stats(env_id: str, env_kwargs: dict, nvec, seed: int, centralised: bool, steps: int = 64):
    """Mean and std of the observations and of the critic's input over 4 env copies driven by uniform random
    actions for ``steps`` steps (seeds apart from training's)."""
    copies = _Copies(env_id, env_kwargs, 4, seed + 7919, centralised)
    rng = np.random.default_rng(seed)
    copies.reset()
    obs, critic = [copies.obs.reshape(-1, copies.obs.shape[-1])], [copies.state]
    for _ in range(steps):
        copies.step(rng.integers(0, nvec, size=(*copies.obs.shape[:2], len(nvec))))
        obs.append(copies.obs.reshape(-1, copies.obs.shape[-1]))
        critic.append(copies.state)
    obs = np.concatenate(obs)
    critic = np.concatenate(critic) if centralised else obs
    return [_shift_scale(x) for x in (obs, critic)]


def _shift_scale(sample: np.ndarray, min_std: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each feature of ``sample``; a feature that never moved there is left as it is (0, 1) and
    the std is floored at ``min_std``, so a feature that moves only later in an episode is not blown up."""
    mean, std = sample.mean(0), sample.std(0)
    constant = std < 1e-6
    return np.where(constant, 0.0, mean), np.where(constant, 1.0, np.maximum(std, min_std))


class MAPPOTrainer:
    """One IPPO or MAPPO run for ``edge-envs train``: network, Adam, step and update counts, checkpoints."""

    def __init__(self, algo: str, env_id: str, env_kwargs: dict | None, options: MAPPOOptions, seed: int):
        if algo not in ALGOS:
            raise ValueError(f"unknown algo {algo!r}; agents.mappo trains {list(ALGOS)}")
        self.algo, self.env_id, self.env_kwargs = algo, env_id, dict(env_kwargs or {})
        self.options, self.seed = options, int(seed)
        env = make_env(env_id, self.env_kwargs)
        check_env(env_id, algo, env)
        if options.imitation_steps:
            check_teacher(env_id, options.imitation_teacher)
        self.centralised = algo == "mappo"
        self.obs_dim, self.nvec = env_spaces(env)
        self.num_agents = len(env.possible_agents)
        self.critic_dim = env.state_space.shape[0] if self.centralised else self.obs_dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = build(self.obs_dim, self.critic_dim, self.num_agents, self.nvec, options)
        if options.normalize_observations:
            stats = input_stats(env_id, self.env_kwargs, self.nvec, self.seed, self.centralised)
            with torch.no_grad():
                for (mean, std), name in zip(stats, ("obs", "critic"), strict=True):
                    getattr(self.model, f"{name}_mean").copy_(torch.from_numpy(mean))
                    getattr(self.model, f"{name}_std").copy_(torch.from_numpy(std))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=options.lr, eps=1e-5)
        self.steps = self.updates = 0
        self.imitation = None  # the warm start's report, once it has run

    def warm_start(self, monitor) -> dict | None:
        """On a fresh run with ``imitation_steps``, fit the network to the teacher's choices (once); the report:
        the fit's last losses, the share of labelled blocks (and of whole placements) the actor's most likely
        actions repeat, and the samples. The labelled steps do not count as training steps."""
        o = self.options
        if not o.imitation_steps or self.steps or self.updates or self.imitation is not None:
            return self.imitation
        E, A = o.imitation_envs, self.num_agents
        copies = _Copies(self.env_id, self.env_kwargs, E, self.seed + 4242, self.centralised)  # apart from training's
        teachers = [baselines.make_policy(o.imitation_teacher, env) for env in copies.envs]
        for e, teacher in enumerate(teachers):  # a searching teacher (GA, PSO) draws from its own seeded stream
            if callable(getattr(teacher, "reset", None)):
                teacher.reset(seed=self.seed + e)
        copies.reset()
        agent_ids = np.broadcast_to(np.arange(A), (E, A))
        T = max(1, o.imitation_steps // (o.imitation_rounds * E * A))
        data = {"obs": [], "critic": [], "agent": [], "actions": [], "returns": []}
        generator = torch.Generator().manual_seed(self.seed)
        with monitor.phase(T * E * A * o.imitation_rounds, f"imitation of {o.imitation_teacher}", "agent-step") as bar:
            for r in range(o.imitation_rounds):
                labels, live = np.zeros((T, E, A, len(self.nvec)), np.int64), np.zeros((T, E, A), bool)
                obs, critic_in = (
                    np.zeros((T, E, A, self.obs_dim), np.float32),
                    np.zeros((T, E, A, self.critic_dim), np.float32),
                )
                rewards, done = np.zeros((T, E, A)), np.zeros((T, E, A), bool)
                for t in range(T):
                    live[t], obs[t] = copies.live(), copies.obs
                    critic_in[t] = np.repeat(copies.state[:, None], A, 1) if self.centralised else copies.obs
                    for e, (teacher, (raw_obs, raw_info)) in enumerate(zip(teachers, copies.raw)):
                        chosen = teacher.act(raw_obs, raw_info)
                        for i, agent in enumerate(copies.agents):
                            if live[t, e, i]:
                                labels[t, e, i] = chosen[agent]
                    acting = (
                        labels[t] if r == 0 else self.model.act(obs[t].reshape(E * A, -1), agent_ids.reshape(-1), None)
                    )
                    rewards[t], done[t], _ = copies.step(acting.reshape(E, A, -1))
                    bar.update(int(live[t].sum()))
                # the critic learns the teacher's values (first round): returns to the rollout's end, no bootstrap
                returns = gae(rewards, np.zeros_like(rewards), done, live, np.zeros((E, A)), o.gamma, 1.0)
                if r > 0:
                    returns[:] = np.nan
                for key, value in zip(data, (obs, critic_in, np.broadcast_to(agent_ids, live.shape), labels, returns)):
                    data[key].append(value[live])
                if r == 0:
                    self.model.update_returns(returns[live])
                terms = self._fit_labels({k: np.concatenate(v) for k, v in data.items()}, generator)
        obs, agent, actions = (torch.from_numpy(np.concatenate(data[k])) for k in ("obs", "agent", "actions"))
        chosen = torch.stack([h.argmax(-1) for h in self.model.logits(obs, agent)], -1)
        self.imitation = {
            **terms,
            "block_agreement": float((chosen == actions).float().mean()),
            "placement_agreement": float((chosen == actions).all(-1).float().mean()),
            "samples": len(actions),
        }
        monitor.losses(0, {f"imitation_{key}": value for key, value in self.imitation.items()})
        return self.imitation

    def _fit_labels(self, data: dict, generator: torch.Generator) -> dict:
        """Adam over ``imitation_epochs`` passes of minibatches of 256: the heads' cross-entropy against the
        labels, plus the critic's squared error against the standardised returns where they are known."""
        o = self.options
        mean, std = self.model.return_scale()
        batch = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in data.items()}
        targets = ((batch["returns"] - mean) / std).float()
        optimizer = torch.optim.Adam(self.model.parameters(), lr=o.imitation_lr)
        for _ in range(o.imitation_epochs):
            for index in torch.randperm(len(targets), generator=generator).split(256):
                heads = self.model.logits(batch["obs"][index], batch["agent"][index])
                clone = sum(nn.functional.cross_entropy(h, batch["actions"][index, m]) for m, h in enumerate(heads))
                known = ~torch.isnan(targets[index])
                value = self.model.value(batch["critic"][index][known], batch["agent"][index][known])
                value_loss = ((value - targets[index][known]) ** 2).mean() if known.any() else torch.zeros(())
                optimizer.zero_grad()
                (clone + o.value_coef * value_loss).backward()
                optimizer.step()
        return {"clone_loss": clone.item(), "value_loss": value_loss.item()}

    def restore(self, payload: dict) -> None:
        """Continue from a checkpoint: network, Adam's state, step and update counts."""
        try:
            restore_network(self, payload)
        except (RuntimeError, ValueError, KeyError) as error:
            raise CheckpointError(f"the checkpoint does not fit a {self.algo} network on this env: {error}") from None

    def payload(self) -> dict:
        """Everything a checkpoint holds (plain tensors and primitives; loads with ``weights_only=True``)."""
        return {
            **run_fields(self),
            "num_agents": self.num_agents,
            "critic_dim": self.critic_dim,
            **network_fields(self),
        }

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Roll out and update until ``total_steps`` env steps in all; ``checkpoint(payload)`` every K updates.
        Rollouts and minibatches draw from generators seeded by (seed, updates so far): a run is reproducible,
        and a resumed one continues with fresh draws."""
        torch.set_num_threads(1)
        self.warm_start(monitor)
        o = self.options
        copies = _Copies(
            self.env_id,
            self.env_kwargs,
            o.envs,
            int(np.random.SeedSequence([self.seed, self.updates]).generate_state(1)[0]),
            self.centralised,
        )
        copies.reset()
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.updates)
        rng = np.random.default_rng([self.seed, self.updates])
        E, A, T = o.envs, self.num_agents, o.rollout_steps
        agent_ids = np.broadcast_to(np.arange(A), (E, A))
        while self.steps < total_steps:
            obs = np.zeros((T, E, A, self.obs_dim), np.float32)
            critic_in = np.zeros((T, E, A, self.critic_dim), np.float32)
            actions = np.zeros((T, E, A, len(self.nvec)), np.int64)
            rewards, values = np.zeros((T, E, A)), np.zeros((T, E, A))
            done, live = np.zeros((T, E, A), bool), np.zeros((T, E, A), bool)
            for t in range(T):
                live[t], obs[t] = copies.live(), copies.obs
                critic_in[t] = np.repeat(copies.state[:, None], A, 1) if self.centralised else copies.obs
                actions[t] = self.model.act(obs[t].reshape(E * A, -1), agent_ids.reshape(-1), generator).reshape(
                    E, A, -1
                )
                with torch.no_grad():
                    values[t] = self._values(critic_in[t], agent_ids)
                rewards[t], done[t], episodes = copies.step(actions[t])
                done_steps = self.steps + int(live[: t + 1].sum())
                for episode in episodes:
                    monitor.episode(done_steps, episode)
            last_in = np.repeat(copies.state[:, None], A, 1) if self.centralised else copies.obs
            with torch.no_grad():
                last_values = np.where(copies.live(), self._values(last_in, agent_ids), 0.0)
            advantages = gae(rewards * o.reward_scale, values, done, live, last_values, o.gamma, o.gae_lambda)
            losses = self._update(obs, critic_in, actions, values, advantages, live, agent_ids, rng)
            self.steps += int(live.sum())
            self.updates += 1
            monitor.advance(self.steps)
            monitor.losses(self.steps, losses)
            if (
                checkpoint is not None
                and checkpoint_every > 0
                and (self.updates == 1 or self.updates % checkpoint_every == 0)
            ):
                checkpoint(self.payload())

    def _values(self, critic_in: np.ndarray, agent_ids: np.ndarray) -> np.ndarray:
        """The critic's values in the returns' units."""
        flat = torch.from_numpy(np.ascontiguousarray(critic_in).reshape(-1, self.critic_dim))
        ids = torch.from_numpy(np.ascontiguousarray(agent_ids).reshape(-1))
        mean, std = self.model.return_scale()
        return (self.model.value(flat, ids).numpy() * std + mean).reshape(agent_ids.shape)

    def _update(self, obs, critic_in, actions, values, advantages, live, agent_ids, rng) -> dict:
        """PPO's clipped surrogate, the critic's squared error and the entropy bonus over the live steps."""
        o = self.options
        ids = np.broadcast_to(agent_ids, live.shape)[live]
        self.model.update_returns(advantages[live] + values[live])
        mean, std = self.model.return_scale()
        batch = {
            "obs": torch.from_numpy(obs[live]),
            "critic": torch.from_numpy(critic_in[live]),
            "agent": torch.from_numpy(np.ascontiguousarray(ids)),
            "actions": torch.from_numpy(actions[live]),
            "returns": torch.from_numpy((advantages[live] + values[live] - mean) / std).float(),
            "advantages": torch.from_numpy(advantages[live]).float(),
        }
        with torch.no_grad():
            old_logp, _ = self.model.evaluate(batch["obs"], batch["agent"], batch["actions"])
        n = len(ids)
        terms = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "clip_fraction": 0.0}
        count = 0
        for _ in range(o.epochs):
            for chunk in np.array_split(rng.permutation(n), min(o.minibatches, n)):
                index = torch.from_numpy(chunk)
                adv = batch["advantages"][index]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8) if len(chunk) > 1 else adv
                logp, entropy = self.model.evaluate(batch["obs"][index], batch["agent"][index], batch["actions"][index])
                ratio = torch.exp(logp - old_logp[index])
                policy = -torch.min(ratio * adv, ratio.clamp(1 - o.clip, 1 + o.clip) * adv).mean()
                value = self.model.value(batch["critic"][index], batch["agent"][index]) - batch["returns"][index]
                value_loss = nn.functional.huber_loss(value, torch.zeros_like(value), delta=10.0)  # the paper's
                loss = policy + o.value_coef * value_loss - o.entropy_coef * entropy.mean()
                self.optimizer.zero_grad()
                loss.backward()
                for part in (
                    self.model.actor,
                    self.model.critic,
                ):  # apart: a large critic step must not shrink the actor's
                    nn.utils.clip_grad_norm_(part.parameters(), o.max_grad_norm)
                self.optimizer.step()
                terms["policy_loss"] += policy.item()
                terms["value_loss"] += value_loss.item()
                terms["entropy"] += entropy.mean().item()
                terms["clip_fraction"] += ((ratio - 1).abs() > o.clip).float().mean().item()
                count += 1
        return {key: value / count for key, value in terms.items()}


def build(obs_dim: int, critic_dim: int, num_agents: int, nvec, options: MAPPOOptions) -> SharedActorCritic:
    return SharedActorCritic(obs_dim, critic_dim, num_agents, nvec, options.hidden)


class MAPPOPolicy:
    """The shared actor of a trained IPPO or MAPPO as a policy: ``act`` maps the live agents' observations to
    their actions (each head's most likely choice, or a sample with ``deterministic=False``)."""

    def __init__(self, model: SharedActorCritic, agents: list[str], action_space, deterministic: bool = True):
        self.model, self.agents, self.action_space = model.eval(), list(agents), action_space
        self.deterministic = deterministic
        # the greedy actor in numpy: at a handful of rows torch's per-call overhead costs ten times the arithmetic.
        # The input standardisation and the one-hot agent id fold into the first layer: a weight over the raw
        # observation and one bias row per agent.
        linear = [m for m in model.actor if isinstance(m, nn.Linear)]
        layers = [(m.weight.detach().double().numpy().T, m.bias.detach().double().numpy()) for m in linear]
        shift, scale = model.obs_mean.double().numpy(), model.obs_std.double().numpy()
        first, bias = layers[0]
        obs_weight, id_weight = first[: len(shift)], first[len(shift) :]
        self._first = (obs_weight / scale[:, None]).astype(np.float32)
        self._agent_bias = (bias - (shift / scale) @ obs_weight + id_weight).astype(np.float32)  # (agents, width)
        self._layers = [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers[1:]]
        self._index = {agent: i for i, agent in enumerate(self.agents)}
        self._heads = model.nvec[0] if len(set(model.nvec)) == 1 else None  # equal heads: one argmax
        self._splits = np.cumsum(model.nvec)[:-1]
        self._multi = not isinstance(action_space, gym.spaces.Discrete)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        self._generator = None if self.deterministic else torch.Generator().manual_seed(int(seed or 0))

    def _greedy(self, obs: np.ndarray, ids: list[int]) -> np.ndarray:
        """(N, M) each head's most likely choice for the rows ``obs`` (N, D) of agents ``ids``."""
        x = obs @ self._first + self._agent_bias[ids]
        for weight, bias in self._layers:
            x = np.tanh(x, out=x) @ weight + bias
        if self._heads is not None:
            return x.reshape(len(x), -1, self._heads).argmax(-1)
        return np.stack([head.argmax(1) for head in np.split(x, self._splits, axis=1)], 1)

    def act(self, observation: dict, info=None) -> dict:
        agents = list(observation)
        obs = np.array([observation[a] for a in agents], dtype=np.float32)
        ids = [self._index[a] for a in agents]
        if self.deterministic:
            actions = self._greedy(obs, ids)
        else:
            actions = self.model.act(obs, np.array(ids), self._generator)
        if self._multi:
            actions = actions.astype(self.action_space.dtype)
            return {a: actions[i] for i, a in enumerate(agents)}
        return {a: env_action(self.action_space, actions[i]) for i, a in enumerate(agents)}


def policy_from_payload(payload: dict, env, deterministic: bool = True) -> MAPPOPolicy:
    """The policy of an ippo or mappo checkpoint, acting in ``env`` (whose agents it was trained with)."""
    if env is None or not hasattr(env, "possible_agents"):
        raise ValueError(f"a {payload['algo']} checkpoint needs the PettingZoo env it acts in (for its agents' ids)")
    try:
        options = MAPPOOptions(**payload["options"])
    except TypeError as error:
        raise CheckpointError(
            f"a {payload['algo']} checkpoint holds options that are not MAPPOOptions: {error}"
        ) from None
    agents = list(env.possible_agents)
    if len(agents) != payload.get("num_agents"):
        raise ValueError(
            f"the {payload['algo']} checkpoint was trained with {payload.get('num_agents')} agents; the env has "
            f"{len(agents)} ({agents})"
        )
    model = build(payload["obs_dim"], payload["critic_dim"], payload["num_agents"], payload["nvec"], options)
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(
            f"the network of the checkpoint does not fit a {payload['algo']} model: {error}"
        ) from None
    return MAPPOPolicy(model, agents, env.action_space(agents[0]), deterministic)
