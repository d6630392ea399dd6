"""MaskablePPO (sb3-contrib) for envs whose ``info["action_mask"]`` marks the legal actions (EdgeUpload-v0).

sb3-contrib's MaskablePPO is a well-kept PPO that sets the logits of masked actions to minus
infinity, so the agent never proposes an illegal partition and learns only among legal ones. The
mask comes from the env's ``action_masks()`` (through sb3-contrib's ``ActionMasker``).

Entry point for ``edge-envs train --algo maskable-ppo``: :func:`train_maskable`, which returns a
:class:`MaskedPolicy` (the project's policy protocol). Run folder and logs follow the project's
conventions when ``logdir`` is given: ``{logdir}/{env_id}__maskable-ppo__{seed}__{timestamp}/`` with
TensorBoard events (``charts/episodic_return``, ``charts/episodic_length``, SB3's ``train/*``),
``model.zip`` (sb3-contrib's own format, unpickled by :func:`load_maskable`) and ``checkpoint.pt``, the
policy network in the project's checkpoint format (:func:`checkpoint_payload`; it loads with
``weights_only=True`` and :func:`policy_from_payload` rebuilds the policy without running pickle).
"""

from __future__ import annotations

import json
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
from agents.checkpoint import CheckpointError, save_checkpoint

ALGO = "maskable-ppo"


@dataclass(frozen=True)
class MaskableOptions:
    """MaskablePPO's settings (sb3-contrib's defaults except where noted)."""

    gamma: float = 1.0
    """Discount; 1: the episode's return is the whole latency area and episodes last at most C L steps."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    learning_rate: float = 3e-4
    """Adam step size."""
    n_steps: int = 512
    """Steps per rollout (sb3: 2048; shorter for runs of 10^4-10^5 steps)."""
    batch_size: int = 64
    """Minibatch size."""
    n_epochs: int = 10
    """Passes over each rollout."""
    ent_coef: float = 0.01
    """Entropy bonus (sb3: 0), to keep exploring the orders."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this while training (evaluation reports the env's own rewards)."""
    net_arch: tuple[int, ...] = (128, 128)
    """Hidden layers of the policy and value networks."""


def _mask(env) -> np.ndarray:
    return env.unwrapped.action_masks().astype(bool)


def make_masked_env(env_id: str, env_kwargs: dict | None = None, reward_scale: float = 1.0):
    """``gym.make(env_id, **env_kwargs)`` with episode statistics, optional reward scaling and the action masker."""
    env = gym.wrappers.RecordEpisodeStatistics(gym.make(env_id, **(env_kwargs or {})))
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

    def act(self, observation, info) -> int:
        masks = np.asarray(info["action_mask"], dtype=bool)
        action, _ = self.model.predict(
            np.asarray(observation, dtype=np.float32), action_masks=masks, deterministic=self.deterministic
        )
        return int(action)


def load_maskable(path: str | Path, deterministic: bool = True) -> MaskedPolicy:
    """The policy of a ``model.zip`` written by :func:`train_maskable`."""
    return MaskedPolicy(MaskablePPO.load(str(path), device="cpu"), deterministic)


def checkpoint_payload(
    model: MaskablePPO, env_id: str, env_kwargs: dict | None, seed: int, options: MaskableOptions
) -> dict:
    """The trained policy network in the project's checkpoint format (``agents.checkpoint.save_checkpoint``):
    tensors and plain values only, no optimizer state (it loads and acts; it does not resume)."""
    return {
        "algo": ALGO,
        "env_id": env_id,
        "env_kwargs": json.dumps(dict(env_kwargs or {}), sort_keys=True),
        "seed": int(seed),
        "steps": int(model.num_timesteps),
        "updates": int(model.num_timesteps) // options.n_steps,  # one update per rollout
        "options": asdict(options),
        "obs_dim": int(np.prod(model.observation_space.shape)),
        "nvec": [int(model.action_space.n)],
        "model": {key: value.detach().clone() for key, value in model.policy.state_dict().items()},
        "optimizer": {},
    }


def policy_from_payload(payload: dict, env, deterministic: bool = True) -> MaskedPolicy:
    """The :class:`MaskedPolicy` of a checkpoint from :func:`checkpoint_payload`, built on ``env``'s spaces."""
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
    env = make_masked_env(env_id, env_kwargs, options.reward_scale)
    if run_dir is not None:
        run_dir = Path(run_dir)
    elif logdir is not None:
        safe_id = env_id.replace("/", "-").replace(":", "-")
        run_dir = Path(logdir) / f"{safe_id}__{ALGO}__{seed}__{time.strftime('%Y%m%d-%H%M%S')}"
        run_dir.mkdir(parents=True, exist_ok=True)
    settings = asdict(options)
    net_arch, _ = list(settings.pop("net_arch")), settings.pop("reward_scale")
    model = MaskablePPO(
        "MlpPolicy",
        env,
        seed=seed,
        device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": net_arch},
        tensorboard_log=None if run_dir is None else str(run_dir),
        **settings,
    )
    model.learn(total_timesteps=steps, callback=EpisodeLogger(), progress_bar=progress, tb_log_name="tensorboard")
    if run_dir is not None:
        model.save(run_dir / "model.zip")
        save_checkpoint(run_dir / "checkpoint.pt", checkpoint_payload(model, env_id, env_kwargs, seed, options))
    return MaskedPolicy(model)
