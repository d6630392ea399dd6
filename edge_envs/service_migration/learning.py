"""Learning progress of ServiceMigration-v0: the two backends a round's training goes through.

``BoundLearner`` uses Corollary 1 (Eq. 19) as a surrogate: no model is trained. ``RealLearner``
trains a multi-modal split model on UCI mfeat with the engines of ``edge_envs.fl`` and measures the
held-out loss and accuracy. Both expose ``train_round(rho, device_edges)``, ``reached_target``,
``loss``, ``accuracy`` and ``progress`` (in [0, 1], 1 = target reached). The real learner draws its
samples from a generator of its own, so its draws never shift the env's other random streams.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from edge_envs.data import MFEAT_CLASSES, load_mfeat
from edge_envs.fl import SplitNet, evaluate, fedavg_round, split_round
from edge_envs.service_migration.config import ServiceMigrationConfig

# Float sums of per-round progress may fall short of 1 by round-off when the target is hit exactly.
PROGRESS_TOLERANCE = 1e-9


def rounds_to_target(rho, alpha: float, beta: float):
    """Eq. (19) with S -> M S rho and the normalised alpha, beta of Eq. (22): R(rho) = beta rho / (rho - alpha);
    infinite for rho <= alpha (Eq. 20e). A float ``rho`` (one round's, every step) is computed in Python floats:
    the same IEEE operations as numpy's, without the array overhead."""
    if isinstance(rho, float):
        return beta * rho / (rho - alpha) if rho > alpha else math.inf
    rho = np.asarray(rho, dtype=float)
    return np.where(rho > alpha, beta * rho / np.where(rho > alpha, rho - alpha, 1.0), np.inf)


def round_progress(rho, alpha: float, beta: float):
    """Share of the way to the target one round at ratio rho covers: 1 / R(rho) of Eq. (19).

    A run of rounds reaches the target once the shares add up to 1, which is where Theorem 1's
    averaged bound beta / r + (alpha / r) sum_t 1 / rho_t falls to 1 (in units of the target).
    """
    return 1.0 / rounds_to_target(rho, alpha, beta)


class BoundLearner:
    """Surrogate progress from Corollary 1; ``loss`` is Theorem 1's bound in units of the target (1 = target,
    infinite before round 1); there is no model, so ``accuracy`` is None."""

    def __init__(self, cfg: ServiceMigrationConfig):
        self.alpha, self.beta = cfg.alpha, cfg.beta
        self.rounds = 0
        self.inverse_rho_sum = 0.0
        self.progress_sum = 0.0
        self.accuracy = None

    @property
    def loss(self) -> float:
        if self.rounds == 0:
            return float("inf")
        return (self.beta + self.alpha * self.inverse_rho_sum) / self.rounds

    @property
    def progress(self) -> float:
        return min(self.progress_sum, 1.0)

    @property
    def reached_target(self) -> bool:
        return self.progress_sum >= 1.0 - PROGRESS_TOLERANCE

    def train_round(self, rho: float, device_edges) -> None:
        self.rounds += 1
        self.inverse_rho_sum += 1.0 / rho
        self.progress_sum += float(round_progress(rho, self.alpha, self.beta))


@lru_cache(maxsize=4)
def _split_data(views: tuple, n_train: int, data_seed: int):
    """Train / held-out tensors per modality (views concatenated, standardised on the training split)."""
    data = load_mfeat()
    order = np.random.default_rng(data_seed).permutation(len(data))
    train, test = order[:n_train], order[n_train:]
    x_train, x_test = [], []
    for modality_views in views:
        x = np.concatenate([data.views[v] for v in modality_views], axis=1).astype(np.float64)
        mean, std = x[train].mean(axis=0), x[train].std(axis=0)
        x = ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)
        x_train.append(torch.from_numpy(x[train]))
        x_test.append(torch.from_numpy(x[test]))
    labels = torch.from_numpy(data.labels)
    return tuple(x_train), labels[train], tuple(x_test), labels[test]


class RealLearner:
    """Split training on UCI mfeat: a tower per modality on its edge, a fusion model on the server.

    The training split has ``num_samples`` (S) digits drawn by ``data_seed``; the other digits are held
    out. Each round every device draws round(rho S) training samples uniformly with replacement (the
    draws of different devices may overlap). ``framework="split"``: one FedBCD round over all drawn
    samples (``edge_envs.fl.split_round``). ``"horizontal"``: each edge trains the whole model on its
    own devices' samples and the server averages (``edge_envs.fl.fedavg_round``). Loss is the
    held-out cross-entropy. ``rng`` (the learner's own) draws the initial weights' seed and the samples.
    """

    def __init__(self, cfg: ServiceMigrationConfig, rng: np.random.Generator):
        self.cfg = cfg
        self.rng = rng
        views = tuple(m.views for m in cfg.modalities)
        self.x_train, self.y_train, self.x_test, self.y_test = _split_data(views, cfg.num_samples, cfg.data_seed)
        generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
        with self._threads():
            self.net = SplitNet(
                [x.shape[1] for x in self.x_train],
                [m.embedding_dim for m in cfg.modalities],
                cfg.hidden_units,
                MFEAT_CLASSES,
                generator,
            )
            self.loss, self.accuracy = evaluate(self.net, self.x_test, self.y_test)
        self.initial_loss = self.loss

    def _threads(self):
        return _TorchThreads(self.cfg.torch_threads)

    @property
    def reached_target(self) -> bool:
        return self.loss <= self.cfg.target_loss

    @property
    def progress(self) -> float:
        span = self.initial_loss - self.cfg.target_loss
        return float(np.clip((self.initial_loss - self.loss) / span, 0.0, 1.0)) if span > 0 else 1.0

    def train_round(self, rho: float, device_edges) -> None:
        """Draw the round's samples and train; ``device_edges`` (M,) is the edge each device uploads to
        (used by the horizontal framework only)."""
        cfg = self.cfg
        per_device = max(1, int(round(rho * cfg.num_samples)))
        draws = self.rng.integers(cfg.num_samples, size=(cfg.num_devices, per_device))
        shuffle = None
        if cfg.batch_size is not None:
            shuffle = torch.Generator().manual_seed(int(self.rng.integers(2**63 - 1)))
        with self._threads():
            if cfg.framework == "split":
                weights = torch.from_numpy(np.bincount(draws.ravel(), minlength=cfg.num_samples))
                split_round(
                    self.net,
                    self.x_train,
                    self.y_train,
                    weights,
                    cfg.epochs,
                    cfg.learning_rate,
                    cfg.batch_size,
                    shuffle,
                )
            else:
                counts = np.zeros((cfg.num_edges, cfg.num_samples), dtype=np.int64)
                np.add.at(counts, (np.repeat(device_edges, per_device), draws.ravel()), 1)
                fedavg_round(
                    self.net,
                    self.x_train,
                    self.y_train,
                    torch.from_numpy(counts),
                    cfg.epochs,
                    cfg.learning_rate,
                    cfg.batch_size,
                    shuffle,
                )
            self.loss, self.accuracy = evaluate(self.net, self.x_test, self.y_test)


class _TorchThreads:
    """Run a block with ``torch.set_num_threads(n)`` and restore the previous count afterwards."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        self.previous = torch.get_num_threads()
        if self.previous != self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        if torch.get_num_threads() != self.previous:
            torch.set_num_threads(self.previous)


def make_learner(cfg: ServiceMigrationConfig, rng: np.random.Generator):
    """The learner of ``cfg.backend``; ``rng`` becomes the real learner's own generator."""
    return BoundLearner(cfg) if cfg.backend == "bound" else RealLearner(cfg, rng)
