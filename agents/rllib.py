"""Ray RLlib PPO on every env of the suite, on one machine or a Ray cluster (the optional ``[ray]`` extra).

RLlib's current API stack (RLModule, Learner, EnvRunner) trains the plain Gymnasium and PettingZoo
envs unchanged: :func:`register_envs` registers every Gymnasium id under its own name and every
PettingZoo module through RLlib's ``ParallelPettingZooEnv`` wrapper, with one policy shared by all
agents. :func:`train` attaches to a running cluster when given its address (``ray start --head`` on
the head node, ``ray start --address HEAD:6379`` on the others), logs ``charts/episodic_return`` and
``charts/sps`` to TensorBoard and saves an RLlib checkpoint; :class:`RLlibPolicy` turns a trained
module back into a policy of the project's protocol, ``act(observation, info) -> action``.

Example (``pip install -e ".[ray]"``)::

    edge-envs train --env EdgePartition-v0 --algo rllib-ppo --steps 20000 --env-runners 2
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

import edge_envs

try:  # the optional extra: every name below needs it
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module import RLModule, RLModuleSpec
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule
    from ray.tune.registry import register_env
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError('agents.rllib needs Ray RLlib: pip install -e ".[ray]"') from error

SHARED_POLICY = "shared"
"""Module id of the one policy every agent of a PettingZoo env uses."""
CHECKPOINT_DIR = "rllib_checkpoint"
OPTIONS_FILE = "rllib_options.json"


@dataclass(frozen=True)
class RLlibOptions:
    """PPO on RLlib's new API stack; field names follow RLlib's where they map one to one."""

    env_runners: int = 0
    """Remote env-runner processes sampling in parallel (0: sample in the driver process)."""
    envs_per_runner: int = 1
    """Env copies each runner steps in lockstep."""
    address: str | None = None
    """Address of a running Ray cluster (``HOST:6379`` or ``auto``); None starts a local Ray."""
    train_batch: int = 2000
    """Env steps collected per training iteration (``train_batch_size_per_learner``)."""
    minibatch: int = 250
    """SGD minibatch size."""
    epochs: int = 4
    """SGD passes over each batch."""
    lr: float = 3e-4
    """Adam learning rate."""
    gamma: float = 0.95
    """Discount factor in [0, 1]."""
    hidden: tuple[int, ...] = (64, 64)
    """Widths of the policy and value networks' hidden layers (SB3's default MLP, for a like-for-like comparison)."""

    def __post_init__(self):
        for name, low in (
            ("env_runners", 0),
            ("envs_per_runner", 1),
            ("train_batch", 8),
            ("minibatch", 1),
            ("epochs", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr <= 1):
            raise ValueError(f"lr must be a number in (0, 1], got {self.lr!r}")
        if not (isinstance(self.gamma, (int, float)) and 0 <= self.gamma <= 1):
            raise ValueError(f"gamma must be a number in [0, 1], got {self.gamma!r}")
        if not self.hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden must be a non-empty tuple of integers >= 1, got {self.hidden!r}")
        if self.minibatch > self.train_batch:
            raise ValueError(f"minibatch ({self.minibatch}) must be <= train_batch ({self.train_batch})")


def options_for_steps(steps: int, env_runners: int = 0, address: str | None = None) -> RLlibOptions:
    """The options ``edge-envs train --algo rllib-ppo --steps STEPS`` trains with: batches of at most 2000 steps."""
    batch = min(2000, max(64, steps))
    return RLlibOptions(env_runners=env_runners, address=address, train_batch=batch, minibatch=min(250, batch))


def module_path(checkpoint, env_id: str) -> Path:
    """The folder of the trained policy's RLModule inside a checkpoint of :func:`train`."""
    module_id = SHARED_POLICY if is_multi_agent(env_id) else "default_policy"
    return Path(checkpoint) / "learner_group" / "learner" / "rl_module" / module_id


def export_module(checkpoint, env_id: str, destination) -> Path:
    """Copy the policy's RLModule folder (its network, without the optimizer, learner and env-runner state) of a
    checkpoint of :func:`train` to ``destination``, which :meth:`RLlibPolicy.from_module` loads."""
    source = module_path(checkpoint, env_id)
    if not source.is_dir():
        raise FileNotFoundError(f"no RLlib module under {checkpoint} (expected {source})")
    destination = Path(destination)
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination)
    return destination


def is_multi_agent(env_id: str) -> bool:
    """True for a PettingZoo module name of ``edge_envs.PETTINGZOO_MODULES``."""
    return env_id in edge_envs.PETTINGZOO_MODULES


def _check_env_id(env_id: str) -> None:
    if env_id not in edge_envs.ENV_IDS and not is_multi_agent(env_id):
        known = list(edge_envs.ENV_IDS) + list(edge_envs.PETTINGZOO_MODULES)
        raise ValueError(f"unknown env {env_id!r}; RLlib trains: {known}")


class MaskInObservation(gym.Wrapper):
    """An env with Gymnasium's ``info["action_mask"]`` (EdgeUpload-v0) as RLlib's action-masking module reads
    it: the observation becomes ``{"observations": obs, "action_mask": mask}``, so PPO samples legal actions only."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        mask_space = gym.spaces.Box(0.0, 1.0, (int(env.action_space.n),), np.float32)
        self.observation_space = gym.spaces.Dict({"observations": env.observation_space, "action_mask": mask_space})

    def _with_mask(self, observation, info):
        return {"observations": observation, "action_mask": np.asarray(info["action_mask"], np.float32)}

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        return self._with_mask(observation, info), info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._with_mask(observation, info), reward, terminated, truncated, info


def has_action_mask(env_id: str, env_kwargs: dict | None = None) -> bool:
    """Whether the Gymnasium env publishes ``info["action_mask"]`` (its PPO then masks illegal actions)."""
    return "action_mask" in gym.make(env_id, **dict(env_kwargs or {})).reset(seed=0)[1]


def _gym_creator(env_id: str):
    def create(env_config):
        import edge_envs  # noqa: F401  (registers the ids inside an env-runner process)

        env = gym.make(env_id, **dict(env_config))
        return MaskInObservation(env) if "action_mask" in env.reset(seed=0)[1] else env

    return create


def _pettingzoo_creator(module_name: str):
    def create(env_config):
        module = importlib.import_module(f"edge_envs.{module_name}")
        return ParallelPettingZooEnv(module.parallel_env(**dict(env_config)))

    return create


def register_envs() -> None:
    """Register every Gymnasium id and PettingZoo module of the suite with RLlib, under its own name."""
    for env_id in edge_envs.ENV_IDS:
        register_env(env_id, _gym_creator(env_id))
    for module_name in edge_envs.PETTINGZOO_MODULES:
        register_env(module_name, _pettingzoo_creator(module_name))


def algorithm_config(
    env_id: str, env_kwargs: dict | None = None, options: RLlibOptions = RLlibOptions(), seed: int = 0
):
    """The ``PPOConfig`` that trains ``env_id`` (one shared policy for a PettingZoo env)."""
    _check_env_id(env_id)
    config = (
        PPOConfig()
        .environment(env_id, env_config=dict(env_kwargs or {}))
        .framework("torch")
        .env_runners(num_env_runners=options.env_runners, num_envs_per_env_runner=options.envs_per_runner)
        .learners(num_learners=0)
        .training(
            train_batch_size_per_learner=options.train_batch,
            minibatch_size=options.minibatch,
            num_epochs=options.epochs,
            lr=options.lr,
            gamma=options.gamma,
        )
        .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(options.hidden), vf_share_layers=False))
        .debugging(seed=seed, log_level="ERROR")
    )
    if is_multi_agent(env_id):
        config = config.multi_agent(policies={SHARED_POLICY}, policy_mapping_fn=_shared_policy)
    elif has_action_mask(env_id, env_kwargs):
        model = DefaultModelConfig(fcnet_hiddens=list(options.hidden), vf_share_layers=False)
        config = config.rl_module(
            rl_module_spec=RLModuleSpec(module_class=ActionMaskingTorchRLModule, model_config=model)
        )
    return config


def _shared_policy(agent_id, episode, **kwargs):
    return SHARED_POLICY


def init_ray(address: str | None = None) -> None:
    """Attach to the cluster at ``address``, or start a local Ray quietly (once per process)."""
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    register_envs()


def _save_atomically(algo, run_dir: Path) -> Path:
    """Checkpoint to a temporary folder, then swap it in: a kill never leaves a half-written one."""
    final = run_dir / CHECKPOINT_DIR
    tmp = run_dir / f".{CHECKPOINT_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    algo.save_to_path(str(tmp.resolve()))
    old = run_dir / f".{CHECKPOINT_DIR}.old"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def train(
    env_id: str,
    steps: int,
    run_dir,
    env_kwargs: dict | None = None,
    options: RLlibOptions = RLlibOptions(),
    seed: int = 0,
    progress=None,
) -> dict:
    """Train PPO for at least ``steps`` env steps; TensorBoard events and a checkpoint in ``run_dir``.

    ``progress(steps_done, steps)`` is called after each iteration. Returns a summary with the
    steps sampled, wall time, env steps per second and the last mean episode return.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    run_dir = Path(run_dir).resolve()  # RLlib reads and writes checkpoints by absolute URI
    run_dir.mkdir(parents=True, exist_ok=True)
    init_ray(options.address)
    algo = algorithm_config(env_id, env_kwargs, options, seed).build_algo()
    writer = SummaryWriter(str(run_dir))
    done, start, episode_return = 0, time.perf_counter(), float("nan")
    try:
        while done < steps:
            result = algo.train()
            runners = result.get("env_runners", {})
            done = int(runners.get("num_env_steps_sampled_lifetime", done + options.train_batch))
            episode_return = float(runners.get("episode_return_mean", episode_return))
            elapsed = time.perf_counter() - start
            if np.isfinite(episode_return):
                writer.add_scalar("charts/episodic_return", episode_return, done)
            writer.add_scalar("charts/sps", done / elapsed, done)
            if progress is not None:
                progress(min(done, steps), steps)
        checkpoint = _save_atomically(algo, run_dir)
    finally:
        writer.close()
        algo.stop()
    wall = time.perf_counter() - start
    summary = {
        "env": env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "seed": seed,
        "options": asdict(options),
        "steps": done,
        "wall_s": wall,
        "sps": done / wall,
        "episode_return_mean": episode_return,
    }
    (run_dir / OPTIONS_FILE).write_text(json.dumps(summary, indent=2))
    summary["checkpoint"] = str(checkpoint)
    return summary


class RLlibPolicy:
    """A trained RLlib module as a policy: the mode of its action distribution (or a sample)."""

    def __init__(self, module, deterministic: bool = True):
        self.module = module.eval() if hasattr(module, "eval") else module
        self.dist_cls = module.get_inference_action_dist_cls()
        self.deterministic = deterministic

    @classmethod
    def from_checkpoint(cls, checkpoint, env_id: str, deterministic: bool = True) -> RLlibPolicy:
        """Policy of the module saved by :func:`train` (``<run_dir>/rllib_checkpoint``)."""
        path = module_path(checkpoint, env_id)
        if not path.is_dir():
            raise FileNotFoundError(f"no RLlib module {path.name!r} under {checkpoint}")
        return cls.from_module(path, deterministic)

    @classmethod
    def from_module(cls, path, deterministic: bool = True) -> RLlibPolicy:
        """Policy of an RLModule folder (:func:`module_path`, or a copy by :func:`export_module`); it unpickles."""
        path = Path(path).resolve()  # RLlib reads checkpoints by absolute path
        if not (path / "metadata.json").is_file():
            raise FileNotFoundError(f"{path} is not an RLlib module folder (no metadata.json)")
        return cls(RLModule.from_checkpoint(str(path)), deterministic)

    def _act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        obs = torch.as_tensor(obs, dtype=torch.float32)
        if mask is not None:  # an action-masking module (MaskInObservation)
            obs = {"observations": obs, "action_mask": torch.as_tensor(mask, dtype=torch.float32)}
        with torch.no_grad():
            out = self.module.forward_inference({"obs": obs})
        dist = self.dist_cls.from_logits(out["action_dist_inputs"])
        action = dist.to_deterministic().sample() if self.deterministic else dist.sample()
        return action.numpy()

    def act(self, observation, info=None):
        if isinstance(observation, dict):  # PettingZoo parallel env: one module for every agent
            agents = list(observation)
            actions = self._act(np.stack([observation[a] for a in agents]))
            return {a: actions[i] for i, a in enumerate(agents)}
        mask = None
        if isinstance(self.module, ActionMaskingTorchRLModule):
            if not isinstance(info, dict) or "action_mask" not in info:
                raise ValueError("this policy masks actions: pass the env's info, which holds 'action_mask'")
            mask = info["action_mask"]
        return self._act(np.asarray(observation)[None], None if mask is None else np.asarray(mask)[None])[0]
