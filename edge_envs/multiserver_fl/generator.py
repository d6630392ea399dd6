"""Scenario instances of MultiServerFL: the road, the vehicles, the data split and the initial model.

``RandomGenerator(cfg)(rng)`` splits the data set at random into training, validation and test parts,
deals each class of the training part over the vehicles with Dirichlet proportions (non-IID shards),
the validation part equally over the servers, and draws the vehicles, the faulty servers and the
initial model. ``ToyGenerator`` is a two-RSU road with three vehicles whose trajectories can be
followed by hand (golden tests use it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from edge_envs.data.images import load_images
from edge_envs.multiserver_fl.clients import MLPShape, init_params
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.net.mobility import RoadVehicles

NUM_CLASSES = 10


@dataclass
class Instance:
    """Everything an episode starts from; tensors are float32 (inputs) and int64 (labels, indices)."""

    name: str
    shape: MLPShape
    rsu_x: np.ndarray  # (S,) RSU positions along the road, m
    vehicles: RoadVehicles  # after reset: positions, lanes, speeds of every slot
    sample_time_s: np.ndarray  # (V,) on-board training time per sample and epoch
    x_train: torch.Tensor  # (n, D)
    y_train: torch.Tensor  # (n,)
    shards: np.ndarray  # (V, n_max) indices into the training set, -1 past a shard's end
    shard_sizes: np.ndarray  # (V,)
    val_x: torch.Tensor  # (S, n_val, D): server s's validation inputs
    val_y: torch.Tensor  # (S, n_val)
    test_x: torch.Tensor  # (n_test, D)
    test_y: np.ndarray  # (n_test,)
    faulty: np.ndarray  # (S,) bool
    init_params: torch.Tensor  # (P,) the model every server starts from


def dirichlet_shards(labels: np.ndarray, num_clients: int, alpha: float, rng: np.random.Generator) -> list:
    """Each class's samples (in random order) split over the clients with Dirichlet(alpha) proportions.

    Class c's n_c samples go out in consecutive runs: client k gets ``floor(n_c cumsum(p)[k]) -
    floor(n_c cumsum(p)[k-1])`` of them, p ~ Dirichlet(alpha 1). Every sample goes to exactly one client.
    """
    shards = [[] for _ in range(num_clients)]
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        p = rng.dirichlet(np.full(num_clients, float(alpha)))
        ends = np.floor(np.cumsum(p) * len(members)).astype(np.int64)
        ends[-1] = len(members)
        for k, part in enumerate(np.split(members, ends[:-1])):
            shards[k].extend(part.tolist())
    return [np.array(sorted(s), dtype=np.int64) for s in shards]


def _pad(shards: list) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.array([len(s) for s in shards], dtype=np.int64)
    padded = np.full((len(shards), max(int(sizes.max(initial=0)), 1)), -1, dtype=np.int64)
    for k, s in enumerate(shards):
        padded[k, : len(s)] = s
    return padded, sizes


def _road(cfg: MultiServerFLConfig) -> tuple[np.ndarray, RoadVehicles]:
    rsu_x = (np.arange(cfg.num_servers) + 0.5) * cfg.rsu_spacing_m
    road = RoadVehicles(
        road_length_m=cfg.num_servers * cfg.rsu_spacing_m,
        lane_speeds_mps=cfg.lane_speeds_mps,
        speed_std_mps=cfg.speed_std_mps,
        boundary="respawn",
    )
    return rsu_x, road


def split_sizes(cfg: MultiServerFLConfig, num_samples: int) -> tuple[int, int, int]:
    """(test, validation per server, training) sample counts of a data set of ``num_samples`` images.

    Refused with a ValueError naming the fields when a server gets no validation sample or the
    training part has fewer samples than there are vehicles (most shards would be empty).
    """
    n_test = int(round(cfg.test_fraction * num_samples))
    n_val = int(cfg.val_fraction * num_samples) // cfg.num_servers
    n_train = num_samples - n_test - n_val * cfg.num_servers
    if n_val < 1 or n_train < cfg.num_vehicles:
        raise ValueError(
            f"val_fraction={cfg.val_fraction} and test_fraction={cfg.test_fraction} of the {num_samples} images of "
            f"dataset {cfg.dataset!r} leave {n_val} validation samples per server (num_servers={cfg.num_servers}) "
            f"and {n_train} training samples for num_vehicles={cfg.num_vehicles}; need at least 1 per server and "
            "1 per vehicle: lower the fractions or the counts"
        )
    return n_test, n_val, n_train


class RandomGenerator:
    """Random splits, shards, vehicles, faulty servers and initial model from the episode's generator."""

    def __init__(self, cfg: MultiServerFLConfig):
        self.cfg = cfg
        split_sizes(cfg, len(load_images(cfg.dataset)[1]))  # a split that leaves vehicles no data fails here

    def __call__(self, rng: np.random.Generator) -> Instance:
        cfg = self.cfg
        x, y = load_images(cfg.dataset)
        order = rng.permutation(len(y))
        n_test, n_val, _ = split_sizes(cfg, len(y))
        test, val = order[:n_test], order[n_test : n_test + n_val * cfg.num_servers]
        train = order[n_test + n_val * cfg.num_servers :]
        shards, sizes = _pad(dirichlet_shards(y[train], cfg.num_vehicles, cfg.dirichlet_alpha, rng))
        rsu_x, road = _road(cfg)
        road.reset(cfg.num_vehicles, rng)
        sample_time = rng.uniform(*cfg.sample_time_s, size=cfg.num_vehicles)
        faulty = np.zeros(cfg.num_servers, dtype=bool)
        faulty[rng.choice(cfg.num_servers, size=cfg.num_faulty, replace=False)] = True
        shape = MLPShape(x.shape[1], cfg.hidden_units, NUM_CLASSES)
        val = val.reshape(cfg.num_servers, n_val)
        return Instance(
            name=f"random(dataset={cfg.dataset}, servers={cfg.num_servers}, vehicles={cfg.num_vehicles})",
            shape=shape,
            rsu_x=rsu_x,
            vehicles=road,
            sample_time_s=sample_time,
            x_train=torch.from_numpy(x[train]),
            y_train=torch.from_numpy(y[train]),
            shards=shards,
            shard_sizes=sizes,
            val_x=torch.from_numpy(x[val]),
            val_y=torch.from_numpy(y[val]),
            test_x=torch.from_numpy(x[test]),
            test_y=y[test].copy(),
            faulty=faulty,
            init_params=init_params(shape, rng),
        )


def place_vehicles(road: RoadVehicles, x_m, lanes, speeds_mps) -> None:
    """Put the road's vehicles at ``x_m`` in ``lanes`` with signed ``speeds_mps`` (a hand-made start)."""
    road.lanes = np.asarray(lanes, dtype=np.int64)
    road.speeds = np.asarray(speeds_mps, dtype=float)
    y_m = (road.lanes + 0.5) * road.lane_width_m
    road._positions = np.stack([np.asarray(x_m, dtype=float), y_m], axis=1)  # RoadVehicles keeps no setter
    road.entered = np.zeros(len(road.lanes), dtype=bool)


class ToyGenerator:
    """Two RSUs (x = 250 and 750 m, radius 250 m) and three vehicles on the digits, checkable by hand.

    Use with ``num_servers=2, num_vehicles=3`` (the other fields as given). Every vehicle trains
    ``shard * local_epochs * 0.1`` s: vehicle 0 (x = 100 m, +20 m/s) stays under RSU 0; vehicle 1
    (x = 480 m, +20 m/s) crosses into RSU 1's coverage while training (a handover 0 -> 1); vehicle 2
    (x = 900 m, -10 m/s) stays under RSU 1. Shards: 20 digits each, classes {0-4}, {0-9}, {5-9}.
    Validation: 30 samples per server; test: 100 samples; no faulty server.
    """

    def __init__(self, cfg: MultiServerFLConfig):
        if cfg.num_servers != 2 or cfg.num_vehicles != 3 or cfg.dataset != "digits":
            raise ValueError("ToyGenerator needs num_servers=2, num_vehicles=3 and dataset='digits'")
        self.cfg = cfg

    def __call__(self, rng: np.random.Generator) -> Instance:
        cfg = self.cfg
        x, y = load_images("digits")
        of_class = [np.flatnonzero(y == c) for c in range(NUM_CLASSES)]
        shard_lists = [
            np.concatenate([of_class[c][:4] for c in range(5)]),
            np.concatenate([of_class[c][4:6] for c in range(NUM_CLASSES)]),
            np.concatenate([of_class[c][:4] for c in range(5, NUM_CLASSES)]),
        ]
        shards, sizes = _pad([np.sort(s) for s in shard_lists])
        rest = np.setdiff1d(np.arange(len(y)), np.concatenate(shard_lists))
        val, test = rest[:60].reshape(2, 30), rest[60:160]
        rsu_x, road = _road(cfg)
        road.reset(3, rng)
        place_vehicles(road, [100.0, 480.0, 900.0], [0, 0, 2], [20.0, 20.0, -10.0])
        shape = MLPShape(x.shape[1], cfg.hidden_units, NUM_CLASSES)
        return Instance(
            name="toy",
            shape=shape,
            rsu_x=rsu_x,
            vehicles=road,
            sample_time_s=np.full(3, 0.1),
            x_train=torch.tensor(x),
            y_train=torch.tensor(y),
            shards=shards,
            shard_sizes=sizes,
            val_x=torch.from_numpy(x[val]),
            val_y=torch.from_numpy(y[val]),
            test_x=torch.from_numpy(x[test]),
            test_y=y[test].copy(),
            faulty=np.zeros(2, dtype=bool),
            init_params=init_params(shape, rng),
        )
