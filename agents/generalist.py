"""``generalist``: one EdgePartition policy for every instance size, trained on a distribution of instances.

The network is agents.entity's (its parameters do not depend on M or N). It learns by DAgger (Ross et
al., AISTATS 2011) from a teacher baseline, by default ``exact-slot`` (``TEACHERS``): ``rounds`` rounds of rollouts on
``envs`` env copies, each copy drawing a new instance from the distribution
(edge_envs.edge_partition.distribution) for every episode; the first round follows the teacher, the later
ones the network's argmax, and every visited slot is labelled with the teacher's placement. After each
round the network is fitted to all labels so far by cross-entropy (Adam, minibatches of one instance
size each). This is imitation, not reinforcement learning: the agent can at best match its teacher,
and it is judged against it (agents.evaluate.held_out_rows).

``edge-envs train --env EdgePartition-v0 --algo generalist --env-kwargs '{"distribution": "train"}'``:
``distribution`` is ``"train"`` (the shipped ``TRAIN``, the default) or a JSON object of
``InstanceDistribution`` fields; the other keys of ``--env-kwargs`` are config fields fixed for every draw.
Steps count labelled env steps. A checkpoint is written after every round; ``--resume`` continues with
the next round (the earlier rounds' labels are not kept: the network relabels its own states from there).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import baselines
from agents.checkpoint import CheckpointError, network_fields, restore_network, run_fields
from agents.entity import Entities, EntityPlacementNet, EntityPolicy, entities, teacher_chain_features
from agents.generalist_migration import MigrationGeneralistTrainer
from agents.generalist_migration import distribution_of as migration_distribution_of
from agents.generalist_migration import policy_from_payload as migration_policy
from agents.generalist_options import (
    ENV_ID,
    ENV_IDS,
    GENERALIST,
    MIGRATION_ENV_ID,
    UPLOAD_ENV_ID,
    GeneralistOptions,
    InstanceCopy,
    training_distribution,
    with_teacher,
)
from agents.generalist_upload import UploadGeneralistTrainer
from agents.generalist_upload import distribution_of as upload_distribution_of
from agents.generalist_upload import policy_from_payload as upload_policy
from edge_envs.edge_partition.distribution import HELD_OUT, TRAIN, InstanceDistribution
from edge_envs.edge_upload.distribution import HELD_OUT as UPLOAD_HELD_OUT
from edge_envs.service_migration.distribution import HELD_OUT as MIGRATION_HELD_OUT


def _sizes(cfg) -> tuple[int, int]:
    """What fixes the network's input and output sizes: (M, N)."""
    return cfg.num_blocks, cfg.num_servers


def distribution_of(env_kwargs: dict | None) -> InstanceDistribution:
    """The training distribution ``--env-kwargs`` names (agents.generalist_options.training_distribution)."""
    return training_distribution(env_kwargs, TRAIN)


class GeneralistTrainer:
    """The network, its Adam state and the round count of one generalist run; ``train`` runs the rounds."""

    def __init__(self, env_id: str, env_kwargs: dict | None, options: GeneralistOptions, seed: int):
        if env_id != ENV_ID:
            raise ValueError(
                f"--algo {GENERALIST} trains on {', '.join(ENV_IDS)} only (its networks read those envs' "
                f"entities), got {env_id!r}"
            )
        self.algo, self.env_id, self.env_kwargs = GENERALIST, env_id, dict(env_kwargs or {})
        self.options, self.seed = with_teacher(options, env_id), int(seed)
        options = self.options
        self.distribution = distribution_of(self.env_kwargs)
        known = baselines.available(env_id)
        if options.teacher.lower() not in known:
            raise ValueError(f"--teacher {options.teacher!r} is not a baseline of {env_id}; choose from {known}")
        self.obs_dim, self.nvec = 0, []  # any size: the network's parameters depend on neither
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = EntityPlacementNet(options.width)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=options.lr)
        self.steps = self.updates = 0  # updates: rounds done

    def restore(self, payload: dict) -> None:
        restore_network(self, payload)

    def payload(self) -> dict:
        return {
            **run_fields(self),
            **network_fields(self),
        }

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Run the rounds left until ``total_steps`` labelled steps; a checkpoint after each round."""
        options = self.options
        per_round = max(options.envs, total_steps // options.rounds)
        labels: dict[tuple[int, int], list] = {}
        generator = torch.Generator().manual_seed(self.seed)
        while self.steps < total_steps and self.updates < options.rounds:
            rng = np.random.default_rng([self.seed, self.updates])
            copies = [
                InstanceCopy(ENV_ID, self.distribution, options.teacher, rng.spawn(1)[0], _sizes)
                for _ in range(options.envs)
            ]
            teacher_acts = self.updates == 0
            for _ in range(min(per_round, total_steps - self.steps) // options.envs):
                for copy in copies:
                    label = np.asarray(copy.teacher.act(copy.obs, copy.info), dtype=np.int64)
                    obs = copy.obs
                    labels.setdefault(copy.key, []).append((obs, label))
                    action = label if teacher_acts else self.model.act(obs[None], *copy.key)[0]
                    episode = copy.step(action)
                    self.steps += 1
                    if episode is not None:
                        monitor.episode(self.steps, episode)
                monitor.advance(self.steps)
            report = self._fit(labels, generator)
            self.updates += 1
            monitor.losses(self.steps, report)
            if checkpoint is not None:
                checkpoint(self.payload())

    def _fit(self, labels: dict, generator: torch.Generator) -> dict:
        """Fit the network to every label so far (each block scored given the teacher's chain before it); the
        final loss and the share of the teacher's choices the network's own chains repeat."""
        groups = []
        for (M, N), pairs in labels.items():
            obs, actions = np.stack([o for o, _ in pairs]), np.stack([a for _, a in pairs])
            e = entities(obs, M, N)
            inputs = [torch.from_numpy(x) for x in (*e[:4], teacher_chain_features(e, actions))]
            groups.append((obs, (M, N), inputs, torch.from_numpy(actions)))
        batches = [
            (g, batch)
            for g, (*_, actions) in enumerate(groups)
            for batch in torch.arange(len(actions)).split(self.options.batch_size)
        ]
        self.model.train()
        for _ in range(self.options.epochs):
            order = torch.randperm(len(batches), generator=generator).tolist()
            shuffled = {g: torch.randperm(len(groups[g][3]), generator=generator) for g in range(len(groups))}
            for index in order:
                g, batch = batches[index]
                _, _, inputs, actions = groups[g]
                rows = shuffled[g][batch]
                logits = self.model(Entities(*(x[rows] for x in inputs[:4]), None, None, None), inputs[4][rows])
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), actions[rows].reshape(-1))
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        self.model.eval()
        chosen = [
            (
                np.concatenate([self.model.act(part, *sizes) for part in np.array_split(obs, len(obs) // 1024 + 1)]),
                a.numpy(),
            )
            for obs, sizes, _, a in groups
        ]
        return {
            "clone_loss": float(loss.detach()),
            "branch_agreement": sum(int((c == a).sum()) for c, a in chosen) / sum(a.size for _, a in chosen),
            "placement_agreement": sum(int((c == a).all(1).sum()) for c, a in chosen) / sum(len(a) for _, a in chosen),
            "samples": sum(len(a) for _, a in chosen),
        }


def make_trainer(env_id: str, env_kwargs: dict | None, options: GeneralistOptions, seed: int):
    """The generalist trainer of ``env_id``: EdgePartition-v0's here, ServiceMigration-v0's in
    agents.generalist_migration, EdgeUpload-v0's in agents.generalist_upload."""
    if env_id == MIGRATION_ENV_ID:
        return MigrationGeneralistTrainer(env_kwargs, options, seed)
    if env_id == UPLOAD_ENV_ID:
        return UploadGeneralistTrainer(env_kwargs, options, seed)
    return GeneralistTrainer(env_id, env_kwargs, options, seed)


def held_out_of(env_id: str):
    """(distribution_of, HELD_OUT) of ``env_id``'s generalist: how ``--env-kwargs`` names its training distribution
    and the held-out instances it is judged on."""
    if env_id == MIGRATION_ENV_ID:
        return migration_distribution_of, MIGRATION_HELD_OUT
    if env_id == UPLOAD_ENV_ID:
        return upload_distribution_of, UPLOAD_HELD_OUT
    return distribution_of, HELD_OUT


def policy_from_payload(payload: dict, env=None):
    """The generalist policy of a checkpoint (any EdgePartition size; ``env`` gives M and N when the policy's
    ``act`` gets no info, and the state that prices its candidates: without it, the argmax chain alone; an
    env-free policy acts on an env with its ``on(env)``). A ServiceMigration-v0 checkpoint gives
    agents.generalist_migration's policy, an EdgeUpload-v0 one agents.generalist_upload's."""
    if payload.get("env_id") == MIGRATION_ENV_ID:
        return migration_policy(payload, env)
    if payload.get("env_id") == UPLOAD_ENV_ID:
        return upload_policy(payload, env)
    try:
        options = GeneralistOptions(**payload["options"])
    except TypeError as error:
        raise CheckpointError(
            f"a {GENERALIST} checkpoint holds options that are not GeneralistOptions: {error}"
        ) from None
    model = EntityPlacementNet(options.width)
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(f"the network of the checkpoint does not fit a {GENERALIST} model: {error}") from None
    return EntityPolicy(model, env, options.candidates)
