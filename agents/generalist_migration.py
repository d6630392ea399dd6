"""``generalist`` on ServiceMigration-v0: one policy for every number of edges and modalities, trained on a
distribution of instances (edge_envs.service_migration.distribution).

The network is agents.migration_entity's (its parameters depend on neither N nor K). It learns by DAgger
(Ross et al., AISTATS 2011) from a teacher baseline (``sm3fl`` unless ``--teacher`` names another, e.g.
``exact-round``), as the EdgePartition generalist does (agents.generalist): ``rounds`` rounds of rollouts on
``envs`` env copies,
each copy drawing a new instance for every episode; the first round follows the teacher, the later ones the
network, and every visited round is labelled with the teacher's action. After each round the network is fitted
to all labels so far by cross-entropy over each modality's edge and the rho option (Adam, minibatches of one
instance size each). Imitation, not reinforcement learning: it can at best match its teacher.

``edge-envs train --env ServiceMigration-v0 --algo generalist --env-kwargs '{"distribution": "train"}'``:
``distribution`` is ``"train"`` (the shipped ``TRAIN``, the default) or a JSON object of
``InstanceDistribution`` fields; the other keys of ``--env-kwargs`` are config fields fixed for every draw.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import baselines
from agents.checkpoint import CheckpointError, network_fields, restore_network, run_fields
from agents.generalist_options import GENERALIST, InstanceCopy, training_distribution, with_teacher
from agents.generalist_options import MIGRATION_ENV_ID as ENV_ID
from agents.migration_entity import MigrationNet, MigrationPolicy, Pairs, pairs_of
from edge_envs.service_migration.distribution import TRAIN, InstanceDistribution


def distribution_of(env_kwargs: dict | None) -> InstanceDistribution:
    """The training distribution ``--env-kwargs`` names (agents.generalist_options.training_distribution)."""
    return training_distribution(env_kwargs, TRAIN)


def _key(cfg) -> tuple:
    """What fixes the network's input and output sizes: (N, K, the rho grid, pair levels offered)."""
    return cfg.num_edges, cfg.num_modalities, tuple(float(r) for r in cfg.rho_grid), cfg.offers_pair_rho


def _pairs(obs, key) -> Pairs:
    num_edges, num_modalities, grid, pair_levels = key
    return pairs_of(obs, num_edges, num_modalities, grid, pair_levels)


class MigrationGeneralistTrainer:
    """The network, its Adam state and the round count of one ServiceMigration generalist run."""

    def __init__(self, env_kwargs: dict | None, options, seed: int):
        self.algo, self.env_id, self.env_kwargs = GENERALIST, ENV_ID, dict(env_kwargs or {})
        self.options, self.seed = with_teacher(options, ENV_ID), int(seed)
        options = self.options
        self.distribution = distribution_of(self.env_kwargs)
        known = baselines.available(ENV_ID)
        if options.teacher.lower() not in known:
            raise ValueError(f"--teacher {options.teacher!r} is not a baseline of {ENV_ID}; choose from {known}")
        if options.candidates != 1:
            raise ValueError(f"--candidates must be 1 on {ENV_ID} (the generalist plays its argmax there)")
        self.obs_dim, self.nvec = 0, []  # any size: the network's parameters depend on neither N nor K
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = MigrationNet(options.width)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=options.lr)
        self.steps = self.updates = 0  # updates: rounds done

    def restore(self, payload: dict) -> None:
        restore_network(self, payload)

    def payload(self) -> dict:
        return {**run_fields(self), **network_fields(self)}

    def train(self, total_steps: int, monitor, checkpoint=None, checkpoint_every: int = 0) -> None:
        """Run the rounds left until ``total_steps`` labelled steps; a checkpoint after each round."""
        options = self.options
        per_round = max(options.envs, total_steps // options.rounds)
        labels: dict[tuple, list] = {}
        generator = torch.Generator().manual_seed(self.seed)
        while self.steps < total_steps and self.updates < options.rounds:
            rng = np.random.default_rng([self.seed, self.updates])
            copies = [
                InstanceCopy(ENV_ID, self.distribution, options.teacher, rng.spawn(1)[0], _key)
                for _ in range(options.envs)
            ]
            teacher_acts = self.updates == 0
            for _ in range(min(per_round, total_steps - self.steps) // options.envs):
                for copy in copies:
                    label = np.asarray(copy.teacher.act(copy.obs, copy.info), dtype=np.int64)
                    labels.setdefault(copy.key, []).append((copy.obs, label))
                    action = label if teacher_acts else self.model.act(_pairs(copy.obs[None], copy.key))[0]
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
        """Fit the network to every label so far (the rho option scored given the teacher's edges); the final
        loss and the shares of the teacher's edges and whole actions the network repeats."""
        groups = []
        for key, pairs in labels.items():
            obs, actions = np.stack([o for o, _ in pairs]), np.stack([a for _, a in pairs])
            groups.append((_pairs(obs, key), torch.from_numpy(actions)))
        batches = [
            (g, batch)
            for g, (_, actions) in enumerate(groups)
            for batch in torch.arange(len(actions)).split(self.options.batch_size)
        ]
        self.model.train()
        loss = torch.zeros(())
        for _ in range(self.options.epochs):
            order = torch.randperm(len(batches), generator=generator).tolist()
            shuffled = {g: torch.randperm(len(groups[g][1]), generator=generator) for g in range(len(groups))}
            for index in order:
                g, batch = batches[index]
                x, actions = groups[g]
                rows = shuffled[g][batch]
                part = Pairs(x.pairs[rows.numpy()], x.grid, x.pair_levels)
                edges, options = self.model(part, actions[rows, :-1])
                loss = F.cross_entropy(edges.reshape(-1, edges.shape[-1]), actions[rows, :-1].reshape(-1))
                loss = loss + F.cross_entropy(options, actions[rows, -1])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        self.model.eval()
        chosen = [(self.model.act(x), a.numpy()) for x, a in groups]
        return {
            "clone_loss": float(loss.detach()),
            "edge_agreement": sum(int((c[:, :-1] == a[:, :-1]).sum()) for c, a in chosen)
            / sum(a[:, :-1].size for _, a in chosen),
            "action_agreement": sum(int((c == a).all(1).sum()) for c, a in chosen) / sum(len(a) for _, a in chosen),
            "samples": sum(len(a) for _, a in chosen),
        }


def policy_from_payload(payload: dict, env=None) -> MigrationPolicy:
    """The generalist policy of a ServiceMigration checkpoint (any N and K; it acts on ``env``, or on the env
    given to its ``on(env)``)."""
    width = payload.get("options", {}).get("width")
    if not isinstance(width, int) or width < 1:
        raise CheckpointError(f"a ServiceMigration generalist checkpoint needs options.width >= 1, got {width!r}")
    model = MigrationNet(width)
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(f"the network of the checkpoint does not fit a migration generalist: {error}") from None
    return MigrationPolicy(model, env)
