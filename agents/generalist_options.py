"""The generalist agent's name, options, teachers and DAgger env copies, shared by its EdgePartition trainer
(agents.generalist), its ServiceMigration trainer (agents.generalist_migration) and its EdgeUpload trainer
(agents.generalist_upload)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import baselines
from agents.envs import EpisodeTally, make_env
from edge_envs.config import check_range

GENERALIST = "generalist"
ENV_ID = "EdgePartition-v0"
MIGRATION_ENV_ID = "ServiceMigration-v0"  # its generalist lives in agents.generalist_migration
UPLOAD_ENV_ID = "EdgeUpload-v0"  # its generalist lives in agents.generalist_upload
ENV_IDS = (ENV_ID, MIGRATION_ENV_ID, UPLOAD_ENV_ID)
TEACHERS = {ENV_ID: "exact-slot", MIGRATION_ENV_ID: "sm3fl", UPLOAD_ENV_ID: "recursive-efficiency"}
"""The teacher of each env's generalist when ``--teacher`` is not given: its strongest per-step baseline (SM3FL on
ServiceMigration: the issue 31 target is set against it; exact-round is within 3% of it at 3-4x its decision time).
On EdgeUpload recursive-efficiency: within 0.02% of exact-order on the measured single-user instances
(benchmarks/results/baselines_edge_upload.md) at about 1-3 ms a decision on every model, and defined for any number
of clients and servers, while exact-order's dynamic programme over the 2^L uploaded sets costs about 0.5 s an
episode at 18-19 layers (VGG16, ResNet32) and exists for one client and one server only."""


def with_teacher(options: GeneralistOptions, env_id: str) -> GeneralistOptions:
    """``options`` with the env's teacher (``TEACHERS``) where none is named."""
    return options if options.teacher else dataclasses.replace(options, teacher=TEACHERS[env_id])


TRAIN_SEEDS = (2**20, 2**31)  # episode seeds of training: clear of the evaluation seeds (agents.evaluate.EVAL_SEED)


@dataclass(frozen=True)
class GeneralistOptions:
    """Options of the generalist agent (DAgger from a teacher over a distribution of instances)."""

    teacher: str = ""
    """baseline whose actions label every visited step; empty: the env's (``TEACHERS``: exact-slot on EdgePartition-v0,
    sm3fl on ServiceMigration-v0, recursive-efficiency on EdgeUpload-v0)"""
    rounds: int = 4
    """DAgger rounds: the first follows the teacher, the others the network; steps are split evenly"""
    envs: int = 8
    """env copies the rollouts run on (each draws a new instance per episode)"""
    width: int = 64
    """size of the network's hidden vectors (agents.entity)"""
    epochs: int = 20
    """passes over all labels so far after each round"""
    lr: float = 1e-3
    """Adam learning rate"""
    batch_size: int = 256
    """labelled slots per gradient step (all of one instance size)"""
    candidates: int = 1
    """when acting: 1, the network's argmax chain; K > 1, the cheapest by the env's slot cost of that chain and
    K - 1 sampled ones (agents.entity.EntityPolicy)"""

    def __post_init__(self):
        if not isinstance(self.teacher, str):
            raise ValueError(f"GeneralistOptions.teacher (--teacher) must name a baseline, got {self.teacher!r}")
        for name, low, high in (("rounds", 1, 1000), ("envs", 1, 256), ("width", 1, 4096), ("epochs", 1, 10**4)):
            check_range(f"GeneralistOptions.{name} (--{name})", getattr(self, name), low, high, integer=True)
        check_range("GeneralistOptions.batch_size (--batch-size)", self.batch_size, 1, 10**6, integer=True)
        check_range("GeneralistOptions.candidates (--candidates)", self.candidates, 1, 4096, integer=True)
        check_range("GeneralistOptions.lr (--lr)", self.lr, 1e-9, 1.0)


def training_distribution(env_kwargs: dict | None, train):
    """The distribution ``--env-kwargs`` names: its ``distribution`` (``"train"``, the default: ``train``, or a JSON
    object of the fields of ``train``'s class) with the other keys as fixed config fields (added to its ``base``)."""
    kwargs = dict(env_kwargs or {})
    spec = kwargs.pop("distribution", "train")
    if spec == "train":
        spec = train.to_dict()
    if not isinstance(spec, dict):
        raise ValueError(f'--env-kwargs: "distribution" must be "train" or a JSON object of fields, got {spec!r}')
    spec = dict(spec)
    base = {**(spec.get("base") or {}), **kwargs}
    spec["base"] = base if base or spec.get("base") is not None else None  # None: every other field at its default
    return type(train).from_dict(spec)


class InstanceCopy:
    """One env copy of a DAgger round: a new instance from the distribution per episode, with the teacher on it.
    ``key`` (of the instance's config) names what fixes the network's sizes; ``self.key`` holds the current one."""

    def __init__(self, env_id: str, distribution, teacher: str, rng: np.random.Generator, key: Callable = None):
        self.env_id, self.distribution, self.teacher_name, self.rng = env_id, distribution, teacher, rng
        self.key_of = key
        self.tally = EpisodeTally(1)
        self.start()

    def start(self) -> None:
        cfg = self.distribution.sample(self.rng)
        self.env = make_env(self.env_id, {"config": cfg})
        self.key = None if self.key_of is None else self.key_of(cfg)
        self.teacher = baselines.make_policy(self.teacher_name, self.env)
        self.obs, self.info = self.env.reset(seed=int(self.rng.integers(*TRAIN_SEEDS)))

    def step(self, action):
        """Step; on the episode's end, report it and start the next instance."""
        self.obs, reward, terminated, truncated, self.info = self.env.step(action)
        self.tally.add(0, float(reward), self.info)
        if terminated or truncated:
            episode = self.tally.close(0)
            self.start()
            return episode
        return None
