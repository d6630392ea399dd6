"""Asynchronous advantage actor-critic (the TMC 2024 paper, Section 4), multi-task and single-head.

The multi-task agent (``mtl-a3c``) has one softmax branch per action dimension (per DNN block,
over its N+1 locations) and one critic; the single-head agent (``a3c``, the paper's A3C
baseline) has one softmax over the (N+1)^M joint placements and otherwise the same machinery.

How training runs (Section 4.2; not Algorithm 1's replay memory, see ERRATA): the network's
parameters and the RMSProp statistics live in shared memory; each worker (a
``torch.multiprocessing`` process with one torch thread) copies the shared parameters, collects
``rollout_steps`` on-policy steps from its own env copies, computes k-step returns (Eq. 16),
advantages (Eq. 17) and the joint loss (Eq. 20, with the soft-sharing penalty), and applies its
gradient to the shared parameters without locks (Hogwild). With one worker everything runs in
the calling process, which makes a seeded run reproducible bit for bit.
"""

from __future__ import annotations

import os
import queue as queue_module
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.multiprocessing as mp

from agents.checkpoint import network_fields, restore_network, run_fields
from agents.envs import make_streams, pettingzoo_module
from agents.imitation import ImitationOptions, check_teacher, warm_start
from agents.lifeline import exit_with_parent
from agents.losses import a3c_loss, k_step_returns
from agents.networks import ActorCritic
from agents.optim import SharedRMSprop
from agents.spaces import JointActionCodec


@dataclass(frozen=True)
class A3COptions(ImitationOptions):
    """Options of the A3C agents; defaults from the TMC 2024 paper, Section 5.1 where it gives them."""

    lr_actor: float = 0.01
    """learning rate of the actor trunk and branches (Section 5.1: 0.01)"""
    lr_critic: float = 0.01
    """learning rate of the critic trunk and value head (Section 5.1: 0.01)"""
    gamma: float = 0.95
    """discount factor (Section 5.1: 0.95)"""
    rollout_steps: int = 32
    """t_max, the largest k of the k-step return (Eq. 16): steps per worker update (Section 5.1 batch size 32)"""
    entropy_coef: float = 0.01
    """weight beta of the entropy bonus (Eq. 18)"""
    sharing_coef: float = 0.001
    """weight of the L2 penalty tying the actor and critic trunks (soft parameter sharing)"""
    hidden: tuple[int, ...] = (128, 128)
    """widths of the trunk layers (the actor and critic trunks have the same shape)"""
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    """asynchronous worker processes (default: the number of cores)"""
    envs_per_worker: int = 1
    """env copies each worker steps per slot (experience streams per update)"""
    rmsprop_alpha: float = 0.99
    """decay of the shared squared-gradient average (alpha of Eq. 23)"""
    rmsprop_eps: float = 0.1
    """epsilon under the square root of Eq. (24) (0.1 as in the A3C paper, Mnih et al. 2016; smaller
    collapses the policy early at lr 0.01)"""
    max_grad_norm: float = 40.0
    """clip each worker's gradient to this L2 norm, the actor's and the critic's parameters apart"""
    reward_scale: float = 1.0
    """rewards are multiplied by this before learning (the critic then predicts scaled returns)"""
    normalize_observations: bool = False
    """standardise each observation feature by its mean and std over a sample of random-action steps
    (taken once, before training; kept in the network)"""
    normalize_advantage: bool = False
    """standardise the advantages of each update (zero mean, unit std) in the actor's loss"""
    single_head: bool = False
    """one softmax over the joint (N+1)^M space instead of one branch per block (the TMC 2024 paper's A3C baseline)"""
    chain_branches: bool = False
    """each branch also sees the previous branch's choice (a learned logit offset), so a chain of blocks
    can move between servers together (our extension; agents.networks)"""
    chain_prior: float = 10.0
    """initial logit bonus of a chained branch for repeating the previous branch's choice (learned from there on)"""
    branch_context: bool = False
    """each branch also reads all earlier branches' choices through learned vectors added to its features
    (our extension; agents.networks), so a branch can see how much work the earlier blocks put where"""

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        checks = [
            ("lr_actor", self.lr_actor > 0, "> 0"),
            ("lr_critic", self.lr_critic > 0, "> 0"),
            ("gamma", 0 <= self.gamma <= 1, "in [0, 1]"),
            ("rollout_steps", self.rollout_steps >= 1, ">= 1"),
            ("entropy_coef", self.entropy_coef >= 0, ">= 0"),
            ("sharing_coef", self.sharing_coef >= 0, ">= 0"),
            ("hidden", len(self.hidden) >= 1 and min(self.hidden) >= 1, "at least one layer, widths >= 1"),
            ("workers", self.workers >= 1, ">= 1"),
            ("envs_per_worker", self.envs_per_worker >= 1, ">= 1"),
            ("rmsprop_alpha", 0 <= self.rmsprop_alpha < 1, "in [0, 1)"),
            ("rmsprop_eps", self.rmsprop_eps > 0, "> 0"),
            ("max_grad_norm", self.max_grad_norm > 0, "> 0"),
            ("reward_scale", self.reward_scale > 0, "> 0"),
            ("chain_prior", np.isfinite(self.chain_prior), "a finite number"),
            ("branch_context", isinstance(self.branch_context, bool), "True or False"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"A3COptions.{name} must be {allowed}, got {getattr(self, name)!r}")
        self.check_imitation()


def build_network(obs_dim: int, nvec, options: A3COptions) -> tuple[ActorCritic, JointActionCodec | None]:
    """The actor-critic for an env's spaces: M branches, or one joint branch (with its codec)."""
    if options.single_head:
        codec = JointActionCodec(nvec)
        return ActorCritic(obs_dim, [codec.size], options.hidden), codec
    return ActorCritic(
        obs_dim,
        [int(n) for n in nvec],
        options.hidden,
        options.chain_branches,
        options.chain_prior,
        options.branch_context,
    ), None


def observation_stats(
    env_id: str, env_kwargs: dict, nvec, seed: int, episodes: int = 32, steps: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each observation feature over ``episodes`` env copies stepped ``steps`` times with
    uniform random actions."""
    streams = make_streams(env_id, env_kwargs, episodes, seed + 7919)
    rng = np.random.default_rng(seed)
    seen = [streams.reset()]
    for _ in range(steps):
        seen.append(streams.step(rng.integers(0, nvec, size=(streams.num_streams, len(nvec)))).obs)
    sample = np.concatenate(seen)
    return sample.mean(0), sample.std(0)


def _seeds(seed: int, rank: int) -> tuple[int, int]:
    """Independent (env, action sampling) seeds of worker ``rank``."""
    env_seed, action_seed = np.random.SeedSequence([seed, rank]).generate_state(2)
    return int(env_seed), int(action_seed)


@dataclass(frozen=True)
class _Job:
    """What every worker needs to know (picklable, sent to each process)."""

    env_id: str
    env_kwargs: dict
    options: A3COptions
    seed: int
    total_steps: int


class _Counters:
    """Shared step and update counts, and a stop flag, visible to every worker."""

    def __init__(self, ctx, steps: int = 0, updates: int = 0):
        self.steps = ctx.Value("q", steps, lock=False)
        self.updates = ctx.Value("q", updates, lock=False)
        self.lock = ctx.Lock()
        self.stop = ctx.Event()


def _run_worker(
    rank: int, job: _Job, model: ActorCritic, optimizer: SharedRMSprop, counters: _Counters, report
) -> None:
    """One worker: copy the shared parameters, roll out k steps, push the gradient (Algorithm 1, lines 3-15)."""
    torch.set_num_threads(1)
    options = job.options
    env_seed, action_seed = _seeds(job.seed, rank)
    streams = make_streams(job.env_id, job.env_kwargs, options.envs_per_worker, env_seed)
    local, codec = build_network(streams.obs_dim, streams.nvec, options)
    rng = np.random.default_rng(action_seed)
    steps, streams_n, obs_dim, heads = (
        options.rollout_steps,
        streams.num_streams,
        streams.obs_dim,
        len(local.branch_sizes),
    )
    obs_buf = np.empty((steps, streams_n, obs_dim), np.float32)
    final_buf = np.zeros((steps, streams_n, obs_dim), np.float32)
    act_buf = np.empty((steps, streams_n, heads), np.int64)
    rewards = np.empty((steps, streams_n))
    terminated = np.zeros((steps, streams_n), bool)
    truncated = np.zeros((steps, streams_n), bool)
    active = np.ones((steps, streams_n), bool)
    obs = streams.reset()
    with torch.no_grad():  # the observation statistics (buffers) are fixed for the run
        for own, shared in zip(local.buffers(), model.buffers(), strict=True):
            own.copy_(shared)
    while counters.steps.value < job.total_steps and not counters.stop.is_set():
        with torch.no_grad():  # Algorithm 1, line 5: theta' = theta
            for own, shared in zip(local.parameters(), model.parameters(), strict=True):
                own.copy_(shared)
        base = counters.steps.value
        for t in range(steps):
            obs_buf[t] = obs
            action = local.act(obs, rng)
            act_buf[t] = action
            batch = streams.step(codec.decode(action[:, 0]) if codec else action)
            rewards[t], terminated[t], truncated[t] = (
                batch.reward * options.reward_scale,
                batch.terminated,
                batch.truncated,
            )
            final_buf[t], active[t] = batch.final_obs, batch.active
            for episode in batch.episodes:
                report(("episode", base + (t + 1) * streams_n, episode))
            obs = batch.obs
        with torch.no_grad():
            bootstrap = local.value(torch.from_numpy(obs)).numpy()
            cut_values = np.zeros((steps, streams_n))
            if truncated.any():
                cut_values[truncated] = local.value(torch.from_numpy(final_buf[truncated])).numpy()
        returns = k_step_returns(rewards, terminated, truncated, cut_values, bootstrap, options.gamma)
        taken = torch.from_numpy(act_buf[active])
        logits, values = local(torch.from_numpy(obs_buf[active]), taken)  # steps of waiting agents carry nothing
        terms = a3c_loss(
            logits,
            values,
            taken,
            torch.from_numpy(returns[active]).float(),
            options.entropy_coef,
            local.sharing_penalty(),
            options.sharing_coef,
            options.normalize_advantage,
        )
        local.zero_grad()
        terms.total.backward()
        for (
            group
        ) in local.parameter_groups():  # actor and critic apart: a huge value loss must not shrink the actor's step
            torch.nn.utils.clip_grad_norm_(group, options.max_grad_norm)
        for shared, own in zip(model.parameters(), local.parameters(), strict=True):
            shared.grad = own.grad
        optimizer.step()  # Eqs. (23)-(24) on the shared parameters and statistics
        with counters.lock:
            counters.steps.value += int(active.sum())
            counters.updates.value += 1
            done_steps, done_updates = counters.steps.value, counters.updates.value
        losses = {
            "value_loss": terms.value.item(),
            "policy_loss": terms.policy.item(),
            "entropy": terms.entropy.item(),
            "sharing_penalty": terms.sharing.item(),
        }
        report(("update", done_steps, done_updates, losses))


def _worker_process(rank, job, model, optimizer, counters, channel) -> None:
    """Entry point of a worker process: runs the worker, reports errors, always says when it is done."""
    exit_with_parent()  # a SIGKILLed trainer must not leave its workers running
    try:
        _run_worker(rank, job, model, optimizer, counters, channel.put)
    except BaseException:
        counters.stop.set()
        channel.put(("error", rank, traceback.format_exc()))
    finally:
        channel.put(("done", rank, None))


class A3CTrainer:
    """Shared network, shared RMSProp and counters of one A3C run; ``train`` runs the workers."""

    def __init__(
        self, algo: str, env_id: str, env_kwargs: dict | None, options: A3COptions, seed: int, obs_dim: int, nvec
    ):
        self.algo, self.env_id, self.env_kwargs = algo, env_id, dict(env_kwargs or {})
        self.options, self.seed = options, int(seed)
        self.obs_dim, self.nvec = int(obs_dim), np.asarray(nvec, dtype=np.int64)
        if options.imitation_steps:
            if pettingzoo_module(env_id) is not None:  # agents.imitation labels Gymnasium envs' slots
                raise ValueError(
                    f"imitation_steps: {algo}'s warm start imitates a teacher in Gymnasium envs only, not in the "
                    f"PettingZoo env {env_id}; use 0 there (or --algo ippo/mappo --preset warm-start, whose warm "
                    "start imitates a teacher per agent)"
                )
            check_teacher(env_id, options.imitation_teacher)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model, self.codec = build_network(self.obs_dim, self.nvec, options)
        if options.normalize_observations:
            self.model.set_observation_stats(*observation_stats(env_id, self.env_kwargs, self.nvec, self.seed))
        self.model.share_memory()
        actor, critic = self.model.parameter_groups()
        self.optimizer = SharedRMSprop(
            [(actor, options.lr_actor), (critic, options.lr_critic)], options.rmsprop_alpha, options.rmsprop_eps
        )
        self.steps = self.updates = 0
        self.imitation = None  # the warm start's report (agents.imitation), once it has run

    def restore(self, payload: dict) -> None:
        """Continue from a checkpoint: parameters, RMSProp statistics, step and update counts."""
        restore_network(self, payload)

    def payload(self) -> dict:
        """Everything a checkpoint holds (plain tensors and primitives)."""
        return {
            **run_fields(self),
            **network_fields(self),
        }

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Run the workers until ``total_steps`` env steps in all; ``checkpoint(payload)`` every K updates.
        A fresh run with ``imitation_steps`` first warm-starts the network (agents.imitation; its teacher's
        slots are not counted in the env steps)."""
        if self.options.imitation_steps > 0 and self.steps == 0 and self.updates == 0:
            with torch.random.fork_rng(devices=[]):
                self.imitation = warm_start(self.model, self.env_id, self.env_kwargs, self.options, self.seed, monitor)
            monitor.losses(0, {f"imitation_{key}": value for key, value in self.imitation.items()})
        ctx = mp.get_context("spawn")
        counters = _Counters(ctx, self.steps, self.updates)
        job = _Job(self.env_id, self.env_kwargs, self.options, self.seed, int(total_steps))

        def handle(message) -> None:
            kind = message[0]
            if kind == "episode":
                monitor.episode(message[1], message[2])
            elif kind == "update":
                _, steps, updates, losses = message
                self.steps, self.updates = max(self.steps, steps), max(self.updates, updates)
                monitor.advance(steps)
                monitor.losses(steps, losses)
                if checkpoint is not None and checkpoint_every > 0 and updates % checkpoint_every == 0:
                    checkpoint(self.payload())

        if self.options.workers == 1:
            _run_worker(0, job, self.model, self.optimizer, counters, handle)
            return
        channel = ctx.Queue()
        processes = [
            ctx.Process(
                target=_worker_process, args=(rank, job, self.model, self.optimizer, counters, channel), daemon=True
            )
            for rank in range(self.options.workers)
        ]
        for process in processes:
            process.start()
        running, error = len(processes), None
        try:
            while running:
                try:
                    message = channel.get(timeout=5.0)
                except queue_module.Empty:
                    if all(not p.is_alive() for p in processes):
                        raise RuntimeError("A3C workers exited without reporting (killed?)") from None
                    continue
                if message[0] == "done":
                    running -= 1
                elif message[0] == "error":
                    error = error or f"A3C worker {message[1]} failed:\n{message[2]}"
                else:
                    handle(message)
        finally:
            counters.stop.set()
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.terminate()
        if error:
            raise RuntimeError(error)
