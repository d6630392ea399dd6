"""Stable-Baselines3 agents trained by the same script: PPO and A2C on the MultiDiscrete action
space, and DQN (the seed's distributed-DQN baseline, here single-process) over the flattened
joint space through ``FlattenMultiDiscrete``, which refuses joint spaces too large to enumerate.

Hyperparameters are SB3's defaults except: the discount (0.95, seed 002 Section 5.1, the same
objective as the A3C agents); PPO's rollout shortened for budgets under one default rollout and,
with ``n_envs`` env copies stepped in lockstep (SB3's DummyVecEnv), split over the copies so an
update still learns from 2048 steps;
DQN's exploration decaying from 1 to 0.01 over the first half of training (Section 5.1), a
replay buffer and target-update interval sized for runs of 10^4-10^6 steps. A checkpoint holds
the policy and optimizer state (loadable with ``weights_only=True``); the DQN replay buffer is
not saved, so a resumed DQN refills it.
"""

from __future__ import annotations

import json
import warnings

from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.envs import EpisodeTally, env_spaces, make_env, pettingzoo_module
from agents.policy import SB3Policy
from agents.spaces import FlattenMultiDiscrete

ALGORITHMS = {"ppo": PPO, "a2c": A2C, "dqn": DQN}

# SB3 log key -> (our losses/<name>, sign)
_LOSS_KEYS = {
    "train/value_loss": ("value_loss", 1.0),
    "train/policy_gradient_loss": ("policy_loss", 1.0),  # PPO
    "train/policy_loss": ("policy_loss", 1.0),  # A2C
    "train/entropy_loss": ("entropy", -1.0),  # SB3 logs minus the entropy
    "train/loss": ("td_loss", 1.0),  # DQN (PPO's total loss is dropped below)
}


def hyperparameters(algo: str, total_steps: int, gamma: float = 0.95, n_envs: int = 1) -> dict:
    """Keyword arguments of the SB3 constructor for ``algo`` (fixed for the run, saved in checkpoints)."""
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
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"n_envs (--envs) must be an integer >= 1, got {n_envs!r}")

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


class _RunCallback(BaseCallback):
    """Episode records and progress for the monitor, and a checkpoint every K updates.

    An update is one collect-then-train iteration (PPO, A2C; DQN: one train call every
    ``train_freq`` steps). The checkpoint is written when the next rollout starts, after the
    update's training, so it holds the trained parameters.
    """

    def __init__(self, trainer, monitor, checkpoint, checkpoint_every: int):
        super().__init__()
        self.trainer, self.monitor = trainer, monitor
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.tally = None
        self._saved_at = trainer.updates

    def _on_training_start(self) -> None:
        self.tally = EpisodeTally(self.training_env.num_envs)

    def _on_rollout_end(self) -> None:
        self.trainer.updates += 1

    def _on_rollout_start(self) -> None:
        updates = self.trainer.updates
        if self.checkpoint is not None and self.checkpoint_every > 0 and updates % self.checkpoint_every == 0 and updates != self._saved_at:
            self.checkpoint(self.trainer.payload())
            self._saved_at = updates

    def _on_step(self) -> bool:
        rewards, dones, infos = self.locals["rewards"], self.locals["dones"], self.locals["infos"]
        for i in range(len(dones)):
            self.tally.add(i, float(rewards[i]), infos[i])
            if dones[i]:
                self.monitor.episode(self.num_timesteps, self.tally.close(i))
        self.monitor.advance(self.num_timesteps)
        return True


class SB3Trainer:
    """One SB3 run: the model, its fixed hyperparameters, step and update counts."""

    def __init__(self, algo: str, env_id: str, env_kwargs: dict | None, seed: int, total_steps: int, gamma: float = 0.95,
                 n_envs: int = 1):
        self.algo, self.env_id, self.env_kwargs, self.seed = algo, env_id, dict(env_kwargs or {}), int(seed)
        self.n_envs = n_envs
        self.env = make_sb3_env(algo, env_id, env_kwargs, n_envs)
        self.obs_dim, self.nvec = env_spaces(make_env(env_id, env_kwargs))
        self.options = hyperparameters(algo, total_steps, gamma, n_envs)
        self.model = build_model(algo, self.env, self.seed, self.options)
        self.steps = self.updates = 0

    def restore(self, payload: dict) -> None:
        """Continue from a checkpoint: the run's hyperparameters, policy, optimizer and counts."""
        self.options = dict(payload["options"])
        self.model = build_model(self.algo, self.env, self.seed, self.options)
        self.model.policy.load_state_dict(payload["model"])
        self.model.policy.optimizer.load_state_dict(payload["optimizer"])
        self.steps, self.updates = int(payload["steps"]), int(payload["updates"])
        self.model.num_timesteps = self.steps

    def payload(self) -> dict:
        return {
            "algo": self.algo,
            "env_id": self.env_id,
            "env_kwargs": json.dumps(self.env_kwargs, sort_keys=True),
            "seed": self.seed,
            "n_envs": self.n_envs,
            "steps": int(self.model.num_timesteps),
            "updates": self.updates,
            "options": dict(self.options),
            "obs_dim": self.obs_dim,
            "nvec": [int(n) for n in self.nvec],
            "model": {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()},
            "optimizer": self.model.policy.optimizer.state_dict(),
        }

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Learn until ``total_steps`` env steps in all (counting steps done before a resume)."""
        remaining = int(total_steps) - self.steps
        if remaining <= 0:
            return
        self.model.set_logger(Logger(folder=None, output_formats=[_LossWriter(monitor)]))
        callback = _RunCallback(self, monitor, checkpoint, checkpoint_every)
        self.model.learn(remaining, callback=callback, reset_num_timesteps=self.steps == 0)
        self.steps = int(self.model.num_timesteps)


def policy_from_payload(payload: dict, env, deterministic: bool = True) -> SB3Policy:
    """Rebuild an SB3 checkpoint's model on ``env`` and wrap it as a policy."""
    algo = payload["algo"]
    train_env = FlattenMultiDiscrete(env) if algo == "dqn" else env
    with warnings.catch_warnings():  # PPO warns that a rollout split over env copies is short for one env; this model only acts
        warnings.simplefilter("ignore", UserWarning)
        model = build_model(algo, train_env, int(payload["seed"]), dict(payload["options"]))
    model.policy.load_state_dict(payload["model"])
    return SB3Policy(model, train_env.codec if algo == "dqn" else None, deterministic)

