"""``generalist`` on EdgeUpload-v0: one policy for every model (any number of layers), trained on a distribution
of instances (edge_envs.edge_upload.distribution).

The network is agents.upload_entity's (its parameters depend on neither L nor S). It learns by DAgger (Ross et
al., AISTATS 2011) from a teacher baseline (``recursive-efficiency`` unless ``--teacher`` names another, e.g.
``exact-order``), as the other generalists do (agents.generalist, agents.generalist_migration): ``rounds``
rounds of rollouts on ``envs`` env copies, each copy drawing a new instance for every episode; the first round
follows the teacher, the later ones the network, and every visited step is labelled with the teacher's action.
After each round the network is fitted to all labels so far by cross-entropy over the legal actions (Adam,
minibatches of padded candidate sets). Imitation, not reinforcement learning: it can at best match its teacher.

``edge-envs train --env EdgeUpload-v0 --algo generalist --env-kwargs '{"distribution": "train"}'``:
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
from agents.generalist_options import UPLOAD_ENV_ID as ENV_ID
from agents.upload_entity import UploadNet, UploadPolicy, candidates, padded
from edge_envs.edge_upload.distribution import TRAIN, InstanceDistribution


def distribution_of(env_kwargs: dict | None) -> InstanceDistribution:
    """The training distribution ``--env-kwargs`` names (agents.generalist_options.training_distribution)."""
    return training_distribution(env_kwargs, TRAIN)


class UploadGeneralistTrainer:
    """The network, its Adam state and the round count of one EdgeUpload generalist run."""

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
        self.obs_dim, self.nvec = 0, []  # any size: the network's parameters depend on neither L nor S
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = UploadNet(options.width)
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
        labels: list[tuple[np.ndarray, int]] = []  # (candidate features, the teacher's candidate)
        generator = torch.Generator().manual_seed(self.seed)
        while self.steps < total_steps and self.updates < options.rounds:
            rng = np.random.default_rng([self.seed, self.updates])
            copies = [
                InstanceCopy(ENV_ID, self.distribution, options.teacher, rng.spawn(1)[0]) for _ in range(options.envs)
            ]
            teacher_acts = self.updates == 0
            for _ in range(min(per_round, total_steps - self.steps) // options.envs):
                for copy in copies:
                    label = int(copy.teacher.act(copy.obs, copy.info))
                    actions, features = candidates(copy.env.unwrapped.state)
                    labels.append((features, int(np.flatnonzero(actions == label)[0])))
                    action = label if teacher_acts else int(actions[self.model.choose(features)])
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

    def _fit(self, labels: list, generator: torch.Generator) -> dict:
        """Fit the network to every label so far; the final loss and the share of the teacher's actions the
        network repeats."""
        order = sorted(range(len(labels)), key=lambda i: len(labels[i][0]))  # batches of similar sizes pad little
        batches = [order[i : i + self.options.batch_size] for i in range(0, len(order), self.options.batch_size)]
        tensors = [(*padded([labels[i][0] for i in b]), torch.tensor([labels[i][1] for i in b])) for b in batches]
        self.model.train()
        loss = torch.zeros(())
        for _ in range(self.options.epochs):
            for index in torch.randperm(len(tensors), generator=generator).tolist():
                features, valid, target = tensors[index]
                loss = F.cross_entropy(self.model(features, valid), target)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        self.model.eval()
        with torch.no_grad():
            agree = sum(int((self.model(f, v).argmax(-1) == t).sum()) for f, v, t in tensors)
        return {"clone_loss": float(loss.detach()), "action_agreement": agree / len(labels), "samples": len(labels)}


def policy_from_payload(payload: dict, env=None) -> UploadPolicy:
    """The generalist policy of an EdgeUpload checkpoint (any model; it acts on ``env``, or on the env given to
    its ``on(env)``)."""
    width = payload.get("options", {}).get("width")
    if not isinstance(width, int) or width < 1:
        raise CheckpointError(f"an EdgeUpload generalist checkpoint needs options.width >= 1, got {width!r}")
    model = UploadNet(width)
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(f"the network of the checkpoint does not fit an upload generalist: {error}") from None
    return UploadPolicy(model, env)
