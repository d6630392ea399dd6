"""MaskablePPO (sb3-contrib) for envs whose ``info["action_mask"]`` marks the legal actions (EdgeUpload-v0).

sb3-contrib's MaskablePPO is a well-kept PPO that sets the logits of masked actions to minus
infinity, so the agent never proposes an illegal partition and learns only among legal ones. The
mask comes from the env's ``action_masks()`` (through sb3-contrib's ``ActionMasker``).

``edge-envs train --algo maskable-ppo`` drives a :class:`MaskableTrainer` as it drives SB3's agents
(agents.train): the same run folder, TensorBoard keys, checkpoint format (policy and Adam's state,
content hash), checkpoints during the run and ``--resume``. :func:`train_maskable` is the library entry
(benchmarks, the leaderboard's populate): it returns a :class:`MaskedPolicy` (the project's policy
protocol) and, given ``logdir`` or ``run_dir``, writes SB3's TensorBoard events, ``model.zip``
(sb3-contrib's own format, unpickled by :func:`load_maskable`) and ``checkpoint.pt`` (the trainer's
payload; it loads with ``weights_only=True`` and :func:`policy_from_payload` rebuilds the policy
without running pickle). The env needs ``action_masks()`` (a flat mask over the Discrete or
MultiDiscrete choices); one without is refused by name.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from sb3_contrib.common.wrappers import ActionMasker
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import set_random_seed

import edge_envs  # noqa: F401  (registers the ids)
from agents.checkpoint import CheckpointError, run_fields, save_checkpoint
from agents.envs import env_spaces, make_env
from agents.sb3 import RunCallback, monitor_logger
from agents.spaces import env_action
from edge_envs.config import check_range

ALGO = "maskable-ppo"


@dataclass(frozen=True)
class MaskableOptions:
    """MaskablePPO's settings (sb3-contrib's defaults except where noted)."""

    gamma: float = 1.0
    """Discount; 1: the episode's return is the whole latency area and episodes last at most C L steps."""
    gae_lambda: float = 0.95
    """GAE lambda, in [0, 1]."""
    learning_rate: float = 3e-4
    """Adam step size, in (0, 1]."""
    n_steps: int = 512
    """Steps per rollout (sb3: 2048; shorter for runs of 10^4-10^5 steps), at least 2."""
    batch_size: int = 64
    """Minibatch size, at least 2."""
    n_epochs: int = 10
    """Passes over each rollout, at least 1."""
    ent_coef: float = 0.01
    """Entropy bonus (sb3: 0), to keep exploring the orders."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this while training (evaluation reports the env's own rewards)."""
    net_arch: tuple[int, ...] = (128, 128)
    """Hidden layers of the policy and value networks."""

    def __post_init__(self):
        object.__setattr__(self, "net_arch", tuple(self.net_arch))
        for name, low, high, integer in (
            ("gamma", 0.0, 1.0, False),
            ("gae_lambda", 0.0, 1.0, False),
            ("learning_rate", 1e-12, 1.0, False),
            ("n_steps", 2, 10**9, True),
            ("batch_size", 2, 10**9, True),
            ("n_epochs", 1, 10**6, True),
            ("ent_coef", 0.0, 1e6, False),
            ("reward_scale", 1e-12, 1e12, False),
        ):
            check_range(f"MaskableOptions.{name} (--{name.replace('_', '-')})", getattr(self, name), low, high, integer)
        if not self.net_arch:
            raise ValueError("MaskableOptions.net_arch (--net-arch) must hold at least one layer width, got ()")
        for width in self.net_arch:
            check_range("MaskableOptions.net_arch (--net-arch) widths", width, 1, 10**6, integer=True)


def _mask(env) -> np.ndarray:
    return env.unwrapped.action_masks().astype(bool)


def make_masked_env(env_id: str, env_kwargs: dict | None = None, reward_scale: float = 1.0):
    """``gym.make(env_id, **env_kwargs)`` with episode statistics, optional reward scaling and the action masker;
    a named error for a PettingZoo env or an env without ``action_masks()``."""
    env = make_env(env_id, env_kwargs)
    if not isinstance(env, gym.Env):
        raise ValueError(f"{ALGO} trains on Gymnasium envs only; {env_id} is a PettingZoo env (use mtl-a3c or a3c)")
    if not callable(getattr(env.unwrapped, "action_masks", None)):
        raise ValueError(
            f"{ALGO} needs an env with action masks (an action_masks() method, e.g. EdgeUpload-v0); {env_id} has "
            "none: train it with ppo, a2c, dqn, mtl-a3c or a3c"
        )
    env = gym.wrappers.RecordEpisodeStatistics(env)
    if reward_scale != 1.0:
        env = gym.wrappers.TransformReward(env, lambda r: reward_scale * r)
    return ActionMasker(env, _mask)


class MaskedPolicy:
    """A trained MaskablePPO (or its policy network alone) as a policy: ``act`` applies
    ``info["action_mask"]``; greedy by default."""

    def __init__(self, model, deterministic: bool = True):
        self.model = model
        self.deterministic = deterministic

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:  # seeds torch, which samples the action when not deterministic
            set_random_seed(seed)

    def act(self, observation, info):
        masks = np.asarray(info["action_mask"], dtype=bool)
        action, _ = self.model.predict(
            np.asarray(observation, dtype=np.float32), action_masks=masks, deterministic=self.deterministic
        )
        return env_action(self.model.action_space, action)


def load_maskable(path: str | Path, deterministic: bool = True) -> MaskedPolicy:
    """The policy of a ``model.zip`` written by :func:`train_maskable`."""
    return MaskedPolicy(MaskablePPO.load(str(path), device="cpu"), deterministic)


def build_model(env, seed: int, options: MaskableOptions, tensorboard_log: str | None = None) -> MaskablePPO:
    """A MaskablePPO on ``env`` (CPU, quiet) with ``options`` (all but the reward scale, which the env applies)."""
    settings = asdict(options)
    net_arch, _ = list(settings.pop("net_arch")), settings.pop("reward_scale")
    return MaskablePPO(
        "MlpPolicy",
        env,
        seed=seed,
        device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": net_arch},
        tensorboard_log=tensorboard_log,
        **settings,
    )


class MaskableTrainer:
    """One MaskablePPO run, as ``edge-envs train`` drives SB3's (agents.sb3.SB3Trainer): the model, step and
    update counts, a checkpoint payload with the policy and Adam's state, and ``restore`` to resume from one."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict | None,
        seed: int,
        options: MaskableOptions,
        tensorboard_log: str | None = None,
    ):
        self.algo, self.env_id, self.env_kwargs, self.seed = ALGO, env_id, dict(env_kwargs or {}), int(seed)
        self.options = options
        self.env = make_masked_env(env_id, env_kwargs, options.reward_scale)
        self.obs_dim, self.nvec = env_spaces(self.env)
        self.model = build_model(self.env, self.seed, options, tensorboard_log)
        self.steps = self.updates = 0

    def restore(self, payload: dict) -> None:
        """Continue from a checkpoint: policy, optimizer and counts (the options are the run's, given to __init__)."""
        try:
            self.model.policy.load_state_dict(payload["model"])
        except RuntimeError as error:
            raise CheckpointError(f"the network of the checkpoint does not fit {ALGO} on this env: {error}") from None
        try:
            self.model.policy.optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, KeyError, RuntimeError) as error:
            raise CheckpointError(f"the optimizer state of the checkpoint does not fit {ALGO}: {error}") from None
        self.steps, self.updates = int(payload["steps"]), int(payload["updates"])
        self.model.num_timesteps = self.steps

    def payload(self) -> dict:
        """Everything a checkpoint holds (plain tensors and primitives; loads with ``weights_only=True``)."""
        return {
            **run_fields(self),
            "model": {key: value.detach().clone() for key, value in self.model.policy.state_dict().items()},
            "optimizer": self.model.policy.optimizer.state_dict(),
        }

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Learn until ``total_steps`` env steps in all (counting steps done before a resume); checkpoints
        as SB3's agents do (after the first update, then every ``checkpoint_every`` updates)."""
        remaining = int(total_steps) - self.steps
        if remaining <= 0:
            return
        self.model.set_logger(monitor_logger(monitor))
        callback = RunCallback(self, monitor, checkpoint, checkpoint_every, self.options.reward_scale)
        self.model.learn(remaining, callback=callback, reset_num_timesteps=self.steps == 0)
        self.steps = int(self.model.num_timesteps)


def policy_from_payload(payload: dict, env, deterministic: bool = True) -> MaskedPolicy:
    """The :class:`MaskedPolicy` of a checkpoint from :meth:`MaskableTrainer.payload`, built on ``env``'s spaces."""
    try:
        options = MaskableOptions(**payload["options"])
    except TypeError as error:
        raise CheckpointError(f"a {ALGO} checkpoint holds options that are not MaskableOptions: {error}") from None
    network = MaskableActorCriticPolicy(
        env.observation_space, env.action_space, lambda _: 0.0, net_arch=list(options.net_arch)
    )
    try:
        network.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(
            f"the network of the checkpoint does not fit a {ALGO} policy on this env: {error}"
        ) from None
    return MaskedPolicy(network.eval(), deterministic)


class EpisodeLogger(BaseCallback):
    """Writes each finished episode's return and length under the project's log keys."""

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "episode" in info:
                self.logger.record_mean("charts/episodic_return", float(info["episode"]["r"]))
                self.logger.record_mean("charts/episodic_length", float(info["episode"]["l"]))
        return True


def train_maskable(
    env_id: str = "EdgeUpload-v0",
    steps: int = 50_000,
    seed: int = 0,
    env_kwargs: dict | None = None,
    logdir: str | Path | None = None,
    options: MaskableOptions | None = None,
    progress: bool = False,
    run_dir: str | Path | None = None,
) -> MaskedPolicy:
    """Train MaskablePPO on ``env_id`` for ``steps`` env steps (CPU, one torch thread); the trained policy.

    With ``logdir``, TensorBoard logs and ``model.zip`` go to the cleanrl-style run folder (module docstring);
    ``run_dir`` names that folder instead (``edge-envs train`` makes a new one for each run).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    options = options or MaskableOptions()
    torch.set_num_threads(1)
    if run_dir is not None:
        run_dir = Path(run_dir)
    elif logdir is not None:
        safe_id = env_id.replace("/", "-").replace(":", "-")
        run_dir = Path(logdir) / f"{safe_id}__{ALGO}__{seed}__{time.strftime('%Y%m%d-%H%M%S')}"
        run_dir.mkdir(parents=True, exist_ok=True)
    trainer = MaskableTrainer(env_id, env_kwargs, seed, options, None if run_dir is None else str(run_dir))
    model = trainer.model
    model.learn(total_timesteps=steps, callback=EpisodeLogger(), progress_bar=progress, tb_log_name="tensorboard")
    if run_dir is not None:
        trainer.steps, trainer.updates = int(model.num_timesteps), int(model.num_timesteps) // options.n_steps
        model.save(run_dir / "model.zip")
        save_checkpoint(run_dir / "checkpoint.pt", trainer.payload())
    return MaskedPolicy(model)
