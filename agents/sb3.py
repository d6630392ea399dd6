"""Stable-Baselines3 agents trained by the same script: PPO and A2C on the MultiDiscrete action
space, and DQN (the distributed-DQN baseline of the fine-grained partitioning paper, here
single-process) over the flattened joint space through ``FlattenMultiDiscrete``, which refuses
joint spaces too large to enumerate.

``SB3Options`` holds what ``edge-envs train`` sets (the discount, the env copies, and an optional
warm start of PPO or A2C by behaviour cloning of a baseline, ``agents.imitation.sb3_warm_start``); the SB3
constructor's keyword arguments follow from it and the run's length (``hyperparameters``): SB3's
defaults except the discount (0.95, as Section 5.1 of "Distributed DNN Inference with
Fine-grained Model Partitioning in MEC Networks" sets for the A3C agents); PPO's rollout shortened
for budgets under one default rollout and, with ``envs`` env copies stepped in lockstep (SB3's
DummyVecEnv), split over the copies so an update still learns from 2048 steps;
DQN's exploration decaying from 1 to 0.01 over the first half of training (Section 5.1), a
replay buffer and target-update interval sized for runs of 10^4-10^6 steps. A checkpoint holds
the policy and optimizer state (loadable with ``weights_only=True``); the DQN replay buffer is
not saved, so a resumed DQN refills it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.checkpoint import CheckpointError, run_fields
from agents.envs import EpisodeTally, env_spaces, make_env, pettingzoo_module
from agents.imitation import ImitationOptions, check_teacher, sb3_warm_start
from agents.spaces import FlattenMultiDiscrete, JointActionCodec, env_action
from edge_envs.config import check_range

ALGORITHMS = {"ppo": PPO, "a2c": A2C, "dqn": DQN}
CONTINUOUS = ("ppo", "a2c")  # also act on a flat Box action space (SB3's Gaussian policy)

# SB3 log key -> (our losses/<name>, sign)
_LOSS_KEYS = {
    "train/value_loss": ("value_loss", 1.0),
    "train/policy_gradient_loss": ("policy_loss", 1.0),  # PPO
    "train/policy_loss": ("policy_loss", 1.0),  # A2C
    "train/entropy_loss": ("entropy", -1.0),  # SB3 logs minus the entropy
    "train/loss": ("td_loss", 1.0),  # DQN (PPO's total loss is dropped below)
}


@dataclass(frozen=True)
class SB3Options(ImitationOptions):
    """Options of the SB3 agents (ppo, a2c, dqn) that ``edge-envs train`` sets; the rest are SB3's defaults."""

    gamma: float = 0.95
    """discount factor, in [0, 1] (Section 5.1 of the fine-grained partitioning paper: 0.95, as for the A3C agents)"""
    envs: int = 1
    """env copies stepped in lockstep, in [1, 1024] (SB3's DummyVecEnv; PPO splits its 2048-step rollout over them)"""

    def __post_init__(self):
        check_range("SB3Options.gamma (--gamma)", self.gamma, 0.0, 1.0)
        check_range("SB3Options.envs (--envs)", self.envs, 1, 1024, integer=True)
        self.check_imitation()


def hyperparameters(algo: str, total_steps: int, options: SB3Options) -> dict:
    """Keyword arguments of the SB3 constructor for ``algo`` (fixed for the run, saved in checkpoints)."""
    gamma, n_envs = float(options.gamma), int(options.envs)
    if algo == "ppo":
        rollout = int(min(2048, max(64, total_steps)))
        n_steps = max(8, rollout // n_envs)
        return {"gamma": gamma, "n_steps": n_steps, "batch_size": min(64, n_steps * n_envs)}
    if algo == "a2c":
        return {"gamma": gamma}
    if algo == "dqn":
        return {
            "gamma": gamma,
            "buffer_size": int(min(100_000, max(1_000, total_steps))),
            "learning_starts": int(min(1_000, total_steps // 10)),
            "exploration_initial_eps": 1.0,
            "exploration_final_eps": 0.01,
            "exploration_fraction": 0.5,
            "target_update_interval": 1_000,
        }
    raise ValueError(f"unknown SB3 algorithm {algo!r}; choose from {sorted(ALGORITHMS)}")


def make_sb3_env(algo: str, env_id: str, env_kwargs: dict | None, n_envs: int = 1):
    """The Gymnasium env SB3 trains on (flattened to Discrete for DQN), or ``n_envs`` copies of it
    in a DummyVecEnv (SB3 seeds copy i with the run's seed + i)."""
    if pettingzoo_module(env_id) is not None:
        raise ValueError(f"{algo} trains on Gymnasium envs only; {env_id} is a PettingZoo env (use mtl-a3c or a3c)")

    def one():
        env = make_env(env_id, env_kwargs)
        return FlattenMultiDiscrete(env) if algo == "dqn" else env

    return one() if n_envs == 1 else DummyVecEnv([one] * n_envs)


def build_model(algo: str, env, seed: int, options: dict):
    """An SB3 model of ``algo`` on ``env`` (CPU, quiet)."""
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown SB3 algorithm {algo!r}; choose from {sorted(ALGORITHMS)}")
    return ALGORITHMS[algo]("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **options)


class _LossWriter(KVWriter):
    """Routes SB3's ``train/*`` records to the run's ``losses/*`` TensorBoard keys."""

    def __init__(self, monitor):
        self.monitor = monitor

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        losses = {}
        for key, value in key_values.items():
            if key in _LOSS_KEYS and not (key == "train/loss" and "train/value_loss" in key_values):
                name, sign = _LOSS_KEYS[key]
                losses[name] = sign * float(value)
        if losses:
            self.monitor.losses(step, losses)

    def close(self) -> None:
        pass


def monitor_logger(monitor) -> Logger:
    """An SB3 logger that sends the ``train/*`` losses to the run's monitor (``losses/*``)."""
    return Logger(folder=None, output_formats=[_LossWriter(monitor)])


class RunCallback(BaseCallback):
    """Episode records and progress for the monitor, and a checkpoint after the first update and
    every K updates from there (a kill loses at most K updates). Episode returns are the env's own
    (rewards divided by the ``reward_scale`` a trainer applied to them).

    An update is one collect-then-train iteration (PPO, A2C; DQN: one train call every
    ``train_freq`` steps). The checkpoint is written when the next rollout starts, after the
    update's training, so it holds the trained parameters.
    """

    def __init__(self, trainer, monitor, checkpoint, checkpoint_every: int, reward_scale: float = 1.0):
        super().__init__()
        self.trainer, self.monitor, self.reward_scale = trainer, monitor, reward_scale
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.tally = None
        self._start = self._saved_at = trainer.updates

    def _on_training_start(self) -> None:
        self.tally = EpisodeTally(self.training_env.num_envs)

    def _on_rollout_end(self) -> None:
        self.trainer.updates += 1

    def _on_rollout_start(self) -> None:
        updates = self.trainer.updates
        due = updates == self._start + 1 or updates - self._saved_at >= self.checkpoint_every
        if self.checkpoint is not None and self.checkpoint_every > 0 and updates > self._saved_at and due:
            self.trainer.steps = int(self.model.num_timesteps)
            self.checkpoint(self.trainer.payload())
            self._saved_at = updates

    def _on_step(self) -> bool:
        rewards, dones, infos = self.locals["rewards"], self.locals["dones"], self.locals["infos"]
        for i in range(len(dones)):
            self.tally.add(i, float(rewards[i]) / self.reward_scale, infos[i])
            if dones[i]:
                self.monitor.episode(self.num_timesteps, self.tally.close(i))
        self.monitor.advance(self.num_timesteps)
        return True


class SB3Trainer:
    """One SB3 run: the model, its fixed hyperparameters, step and update counts."""

    def __init__(
        self, algo: str, env_id: str, env_kwargs: dict | None, seed: int, total_steps: int, options: SB3Options
    ):
        self.algo, self.env_id, self.env_kwargs, self.seed = algo, env_id, dict(env_kwargs or {}), int(seed)
        self.options = options
        self.env = make_sb3_env(algo, env_id, env_kwargs, options.envs)
        self.obs_dim, self.nvec = env_spaces(make_env(env_id, env_kwargs), continuous=algo in CONTINUOUS)
        self.hyperparameters = hyperparameters(algo, total_steps, options)
        self.model = build_model(algo, self.env, self.seed, self.hyperparameters)
        self.steps = self.updates = 0
        self.imitation = None  # the warm start's report (agents.imitation), once it has run
        if options.imitation_steps:
            if algo == "dqn":
                raise ValueError("the imitation warm start (--imitation-steps) is for ppo and a2c, not dqn")
            if not isinstance(self.env.action_space, spaces.MultiDiscrete):
                raise ValueError(
                    f"the imitation warm start (--imitation-steps) needs a MultiDiscrete action space; "
                    f"{env_id} has {self.env.action_space}"
                )
            check_teacher(env_id, options.imitation_teacher)

    def restore(self, payload: dict) -> None:
        """Continue from a checkpoint: the run's hyperparameters, policy, optimizer and counts."""
        self.hyperparameters = dict(payload["hyperparameters"])
        self.model = _model_from_payload(payload, self.env)
        try:
            self.model.policy.optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, KeyError, RuntimeError) as error:
            raise CheckpointError(f"the optimizer state of the checkpoint does not fit {self.algo}: {error}") from error
        self.steps, self.updates = int(payload["steps"]), int(payload["updates"])
        self.model.num_timesteps = self.steps

    def payload(self) -> dict:
        return {
            **run_fields(self),
            "hyperparameters": dict(self.hyperparameters),
            "model": {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()},
            "optimizer": self.model.policy.optimizer.state_dict(),
        }

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Learn until ``total_steps`` env steps in all (counting steps done before a resume)."""
        remaining = int(total_steps) - self.steps
        if remaining <= 0:
            return
        if self.options.imitation_steps and self.steps == 0 and self.updates == 0:
            with torch.random.fork_rng(devices=[]):
                self.imitation = sb3_warm_start(
                    self.model, self.env_id, self.env_kwargs, self.options, self.seed, monitor
                )
            monitor.losses(0, {f"imitation_{key}": value for key, value in self.imitation.items()})
        self.model.set_logger(monitor_logger(monitor))
        callback = RunCallback(self, monitor, checkpoint, checkpoint_every)
        self.model.learn(remaining, callback=callback, reset_num_timesteps=self.steps == 0)
        self.steps = int(self.model.num_timesteps)


class SB3Policy:
    """A Stable-Baselines3 model as a policy (DQN's joint index decoded back to the env's ``action_space``)."""

    def __init__(self, model, codec: JointActionCodec | None = None, deterministic: bool = True, action_space=None):
        self.model = model
        self.codec = codec
        self.deterministic = deterministic
        self.action_space = action_space

    def act(self, observation, info=None):
        action, _ = self.model.predict(np.asarray(observation, dtype=np.float32), deterministic=self.deterministic)
        if self.codec is None:
            return np.asarray(action)
        joint = self.codec.decode(int(action))
        return joint if self.action_space is None else env_action(self.action_space, joint)


def _model_from_payload(payload: dict, env):
    """The checkpoint's SB3 model on ``env`` (a DQN's env flattened); a named error when the
    checkpoint's hyperparameters or network are not those of its ``algo`` (e.g. relabelled)."""
    algo, saved = payload["algo"], dict(payload["hyperparameters"])
    expected = set(hyperparameters(algo, 1, SB3Options()))
    if set(saved) != expected:
        raise CheckpointError(
            f"a {algo} checkpoint needs the hyperparameters {sorted(expected)}, this one holds {sorted(saved)} "
            "(written by another algorithm?)"
        )
    with warnings.catch_warnings():  # PPO warns that a rollout split over env copies is short for one env
        warnings.simplefilter("ignore", UserWarning)
        model = build_model(algo, env, int(payload["seed"]), saved)
    try:
        model.policy.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(
            f"the network of the checkpoint does not fit a {algo} model on this env: {error}"
        ) from error
    return model


def policy_from_payload(payload: dict, env, deterministic: bool = True) -> SB3Policy:
    """Rebuild an SB3 checkpoint's model on ``env`` and wrap it as a policy."""
    dqn = payload["algo"] == "dqn"
    train_env = FlattenMultiDiscrete(env) if dqn else env
    model = _model_from_payload(payload, train_env)
    return SB3Policy(model, train_env.codec if dqn else None, deterministic, env.action_space)
