"""Dynamics of MultiServerFL (the MS-FL paper): vehicles train, hand over, servers aggregate, then weigh peers.

A round t, for every server s (all servers at once):

1. Intra-server phase (Section 4.2). Each vehicle under RSU s at the round's start downloads s's
   model theta_s and trains it for E local epochs (``clients``, batched over all vehicles), which takes
   ``samples * E * sample_time`` seconds while it drives on. Where it is when done decides the upload
   (Section 4.3): still under s, a direct update; under another RSU r, a handover to r (if enabled;
   else it is lost); off the road or later than ``round_s``, lost. Upload latency: model bits over the
   Shannon rate at the distance to the receiving RSU (``edge_envs.net.channel``), plus, for a
   handed-over update, the handover's wait (``handover_wait``: all of the delay, or what is left of it
   after the vehicle's training under the receiving RSU). Server r aggregates what it received (FedAvg): a direct update
   weighs its sample count n_k; a handed-over update weighs ``n_k * min(1, a_r(update) / a_r(origin))``,
   where a_r is accuracy on r's validation data and "origin" the model of the server the vehicle
   started from: an update counts fully if it improves on the model it was trained from, as judged
   by the receiver, and less the more it degraded it. A server that received nothing keeps its
   model. The result is its intra-aggregated model theta~_s; faulty servers corrupt theirs (their
   vehicles train on flipped labels, noise is added, or the round's update is reversed: ``corrupt``).
2. Every server evaluates every theta~_j on its own validation data (accuracy and loss): the agents'
   observation.
3. Inter-server phase (Section 4.1), the action: server s's new model is ``sum_j W[s, j] theta~_j``
   with W[s] on the simplex (the agents choose it).
4. Reward: ``a_s(theta_s^t) - a_s(theta_s^{t-1}) - latency_cost * latency_s``, so an episode's return is
   the final validation accuracy gained minus the communication cost. Latency (Section 5): the
   slowest upload the server received, plus the RSU-to-RSU exchange of the S-1 peer models over the
   backhaul ("ms-fl"), or the round trip of one model to the cloud ("cloud", in the cloud's global
   rounds only: every ``cloud_period``-th round), or nothing more ("single-server").
5. Vehicles drive ``round_s`` seconds (``RoadVehicles``; leavers are replaced) and round t+1's
   intra-server phase starts from the new models.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import precision_recall_fscore_support

from edge_envs.multiserver_fl.clients import evaluate, minibatch_plan, predict, train_batched
from edge_envs.multiserver_fl.config import MultiServerFLConfig
from edge_envs.multiserver_fl.generator import Instance
from edge_envs.net.channel import channel_gain, dbm_to_watt, shannon_rate
from edge_envs.net.mobility import RoadVehicles

BITS_PER_PARAM = 32
LOSS_CAP = 10.0  # observed losses are clipped to [0, LOSS_CAP]
Z_CAP = 5.0  # observed z-scores are clipped to [-Z_CAP, Z_CAP]


@dataclass(frozen=True)
class Uploads:
    """Where each vehicle slot starts and ends its round's update (-1: none)."""

    origin: np.ndarray  # (V,) RSU covering the vehicle at the round's start, -1 if none or no data
    receiver: np.ndarray  # (V,) RSU receiving its update, -1 if lost (late, off the road, no handover)
    train_s: np.ndarray  # (V,) local training time
    upload_x: np.ndarray  # (V,) position along the road when training ends


@dataclass(frozen=True)
class State:
    cfg: MultiServerFLConfig
    instance: Instance
    round: int  # rounds completed (actions taken)
    vehicles: RoadVehicles
    models: torch.Tensor  # (S, P) theta_s^t, the servers' models after the last inter-server phase
    own_acc: np.ndarray  # (S,) accuracy of models[s] on s's validation data
    local: torch.Tensor  # (S, P) theta~_s: this round's intra-aggregated models (the candidates)
    acc: np.ndarray  # (S, S) acc[s, j]: accuracy of local[j] on s's validation data
    loss: np.ndarray  # (S, S) the same for the mean cross-entropy
    served: np.ndarray  # (S,) updates aggregated this round (handovers included)
    handovers: np.ndarray  # (S,) handed-over updates aggregated this round
    lost: np.ndarray  # (S,) updates started under s this round that no server received
    samples: np.ndarray  # (S,) samples behind the aggregated updates
    upload_s: np.ndarray  # (S,) slowest upload received this round, s
    uploads: Uploads


@dataclass(frozen=True)
class Outcome:
    """Per server (S,) arrays of one env step."""

    reward: np.ndarray
    val_acc: np.ndarray  # after the inter-server phase
    val_loss: np.ndarray
    test_acc: np.ndarray
    precision: np.ndarray  # macro over classes (scikit-learn)
    recall: np.ndarray
    f1: np.ndarray
    upload_s: np.ndarray  # client-to-RSU (slowest update aggregated, handover delay included)
    peer_s: np.ndarray  # RSU-to-RSU exchange ("ms-fl")
    cloud_s: np.ndarray  # RSU-cloud round trip ("cloud")
    latency_s: np.ndarray  # their sum


def model_bits(instance: Instance) -> float:
    return float(instance.shape.num_params * BITS_PER_PARAM)


def covering_rsu(x_m: np.ndarray, rsu_x: np.ndarray, radius_m: float, road_length_m: float) -> np.ndarray:
    """Index of the nearest RSU within ``radius_m`` along the road of each position; -1 if none or off the road."""
    gap = np.abs(np.asarray(x_m, dtype=float)[:, None] - rsu_x[None, :])
    nearest = np.argmin(gap, axis=1)
    covered = (gap[np.arange(len(nearest)), nearest] <= radius_m) & (x_m >= 0) & (x_m <= road_length_m)
    return np.where(covered, nearest, -1)


def plan_uploads(cfg: MultiServerFLConfig, instance: Instance, x_m: np.ndarray, speeds_mps: np.ndarray) -> Uploads:
    """Origin and receiving server of every vehicle's update this round (no randomness)."""
    road_length = cfg.num_servers * cfg.rsu_spacing_m
    origin = covering_rsu(x_m, instance.rsu_x, cfg.coverage_radius_m, road_length)
    origin = np.where(instance.shard_sizes > 0, origin, -1)
    train_s = instance.shard_sizes * cfg.local_epochs * instance.sample_time_s
    upload_x = x_m + speeds_mps * train_s
    end = covering_rsu(upload_x, instance.rsu_x, cfg.coverage_radius_m, road_length)
    received = (origin >= 0) & (train_s <= cfg.round_s) & (end >= 0) & ((end == origin) | cfg.handover)
    return Uploads(origin=origin, receiver=np.where(received, end, -1), train_s=train_s, upload_x=upload_x)


def upload_latency(cfg: MultiServerFLConfig, distance_m: np.ndarray, bits: float, rng: np.random.Generator):
    """Seconds to upload ``bits`` over each vehicle's faded Shannon rate at ``distance_m``."""
    gain = channel_gain(
        distance_m, rng, "log_distance", fading=cfg.fading, exponent=cfg.path_loss_exponent, carrier_hz=cfg.carrier_hz
    )
    rate = shannon_rate(cfg.bandwidth_hz, dbm_to_watt(cfg.tx_power_dbm), gain, dbm_to_watt(cfg.noise_psd_dbm_per_hz))
    return bits / rate


def cloud_round(cfg: MultiServerFLConfig, round_index: int) -> bool:
    """Whether the aggregation that ends round ``round_index`` (0-based) is a cloud-based FL global round."""
    return cfg.framework == "cloud" and (round_index + 1) % cfg.cloud_period == 0


def exchange_latency(cfg: MultiServerFLConfig, bits: float, round_index: int = 0) -> tuple[float, float]:
    """(RSU-to-RSU, cloud) seconds per server of round ``round_index`` under ``cfg.framework`` (the cloud's round
    trip only in its global rounds, :func:`cloud_round`)."""
    if cfg.framework == "ms-fl":
        return (cfg.num_servers - 1) * bits / cfg.backhaul_rate_bps, 0.0
    if cloud_round(cfg, round_index):
        return 0.0, 2.0 * (bits / cfg.cloud_rate_bps + cfg.cloud_delay_s)
    return 0.0, 0.0


def handover_wait(cfg: MultiServerFLConfig, rsu_x: np.ndarray, receiver, upload_x, speeds_mps) -> np.ndarray:
    """Seconds each handed-over upload (receiving RSU ``receiver``, at ``upload_x``, signed speed ``speeds_mps``)
    waits for its handover. "full": ``handover_delay_s``. "overlap": the handover starts as the vehicle enters the
    receiver's coverage (the edge it drove in through, ``min(radius, spacing / 2)`` from the RSU) and runs while
    it trains, so it waits ``max(0, handover_delay_s - seconds since it entered)``."""
    delay = np.full(len(receiver), cfg.handover_delay_s)
    if cfg.handover_wait == "full":
        return delay
    speeds = np.asarray(speeds_mps, dtype=float)
    reach = min(cfg.coverage_radius_m, cfg.rsu_spacing_m / 2)
    entry = rsu_x[receiver] - np.sign(speeds) * reach
    inside = np.divide(np.asarray(upload_x) - entry, speeds, out=np.zeros_like(speeds), where=speeds != 0)
    return np.clip(delay - inside, 0.0, cfg.handover_delay_s)


def handover_weight(samples, acc_update, acc_origin) -> np.ndarray:
    """Weight of handed-over updates: ``samples * min(1, acc_update / acc_origin)`` (full weight if acc_origin is 0)."""
    acc_update = np.asarray(acc_update, dtype=float)
    acc_origin = np.asarray(acc_origin, dtype=float)
    ratio = np.divide(acc_update, acc_origin, out=np.ones_like(acc_update), where=acc_origin > 0)
    return np.asarray(samples, dtype=float) * np.minimum(ratio, 1.0)


def server_average(models: torch.Tensor, updates: torch.Tensor, receiver: np.ndarray, weight: np.ndarray):
    """FedAvg per server: server s's model becomes the ``weight``-weighted mean of the updates it received
    (``receiver == s``); a server whose received weights sum to 0 keeps ``models[s]``."""
    mixing = np.zeros((len(models), len(updates)))
    mixing[receiver, np.arange(len(updates))] = weight
    total = mixing.sum(axis=1)
    got = total > 0
    out = models.clone()
    out[torch.from_numpy(got)] = torch.from_numpy((mixing[got] / total[got, None]).astype(np.float32)) @ updates
    return out


def cross_evaluate(instance: Instance, local: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(acc, loss), each (S, S): entry [s, j] is model j evaluated on server s's validation data."""
    s = len(local)
    params = local.repeat(s, 1)  # row s*S + j holds model j
    x = instance.val_x.repeat_interleave(s, dim=0)
    y = instance.val_y.repeat_interleave(s, dim=0)
    acc, loss = evaluate(instance.shape, params, x, y)
    return acc.reshape(s, s), loss.reshape(s, s)


def _intra_round(cfg, instance: Instance, models: torch.Tensor, vehicles: RoadVehicles, rng, base: dict) -> dict:
    """Fields of the state after the intra-server phase of a round started from ``models``."""
    n_servers = cfg.num_servers
    positions = vehicles.positions
    uploads = plan_uploads(cfg, instance, positions[:, 0], vehicles.speeds)
    clients = np.flatnonzero(uploads.receiver >= 0)
    origin, receiver = uploads.origin[clients], uploads.receiver[clients]
    sizes = instance.shard_sizes[clients]
    served, handovers, samples, upload_s = (np.zeros(n_servers) for _ in range(4))
    started = np.bincount(uploads.origin[uploads.origin >= 0], minlength=n_servers)
    lost = started - np.bincount(origin, minlength=n_servers)
    local = models.clone()
    if len(clients):
        steps, mask = minibatch_plan(sizes, cfg.local_epochs, cfg.batch_size, rng)
        flip = instance.faulty[origin] if cfg.fault == "label-flip" else None
        trained = train_batched(
            instance.shape,
            models[torch.from_numpy(origin)],
            instance.x_train,
            instance.y_train,
            instance.shards[clients],
            steps,
            mask,
            cfg.learning_rate,
            flip,
        )
        handed = origin != receiver
        distance = np.hypot(
            uploads.upload_x[clients] - instance.rsu_x[receiver], positions[clients, 1] + cfg.rsu_offset_m
        )
        wait = handover_wait(cfg, instance.rsu_x, receiver, uploads.upload_x[clients], vehicles.speeds[clients])
        latency = upload_latency(cfg, distance, model_bits(instance), rng) + handed * wait
        weight = sizes.astype(float)
        if handed.any():
            index = torch.from_numpy(receiver[handed])
            val_x, val_y = instance.val_x[index], instance.val_y[index]
            acc_update, _ = evaluate(instance.shape, trained[torch.from_numpy(handed)], val_x, val_y)
            acc_origin, _ = evaluate(instance.shape, models[torch.from_numpy(origin[handed])], val_x, val_y)
            weight[handed] = handover_weight(sizes[handed], acc_update, acc_origin)
        local = server_average(models, trained, receiver, weight)
        served = np.bincount(receiver, minlength=n_servers).astype(float)
        handovers = np.bincount(receiver[handed], minlength=n_servers).astype(float)
        samples = np.bincount(receiver, weights=sizes, minlength=n_servers)
        np.maximum.at(upload_s, receiver, latency)
    local = corrupt(cfg, instance.faulty, models, local, rng)
    acc, loss = cross_evaluate(instance, local)
    return dict(
        base,
        vehicles=vehicles,
        models=models,
        local=local,
        acc=acc,
        loss=loss,
        served=served,
        handovers=handovers,
        lost=lost.astype(float),
        samples=samples,
        upload_s=upload_s,
        uploads=uploads,
    )


def corrupt(cfg: MultiServerFLConfig, faulty: np.ndarray, models: torch.Tensor, local: torch.Tensor, rng):
    """The intra-aggregated models (S, P) as the faulty servers share them: "noise" adds N(0, std^2) to every
    parameter; "sign-flip" reverses the round's update from the round's starting ``models``, scaled by
    ``fault_flip_scale``; "label-flip" corrupts the training instead, so ``local`` is returned as it is."""
    bad = torch.from_numpy(np.flatnonzero(faulty))
    if not len(bad) or cfg.fault == "label-flip":
        return local
    local = local.clone()
    if cfg.fault == "noise":
        noise = rng.standard_normal((len(bad), local.shape[1])) * cfg.fault_noise_std
        local[bad] += torch.from_numpy(noise.astype(np.float32))
    else:
        local[bad] = models[bad] - cfg.fault_flip_scale * (local[bad] - models[bad])
    return local


def initial(cfg: MultiServerFLConfig, instance: Instance, rng: np.random.Generator) -> State:
    """Every server holds the instance's initial model; round 0's intra-server phase has run."""
    models = instance.init_params[None].repeat(cfg.num_servers, 1)
    own_acc = np.diagonal(cross_evaluate(instance, models)[0]).copy()
    fields = _intra_round(
        cfg,
        instance,
        models,
        copy.deepcopy(instance.vehicles),
        rng,
        dict(cfg=cfg, instance=instance, round=0, own_acc=own_acc),
    )
    return State(**fields)


def check_weights(weights, num_servers: int) -> np.ndarray:
    """``weights`` as an (S, S) float64 array whose rows lie on the simplex, or a ValueError."""
    w = np.asarray(weights, dtype=float)
    if w.shape != (num_servers, num_servers) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weights must be a non-negative finite ({num_servers}, {num_servers}) array, got {w!r}")
    if not np.allclose(w.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(f"each row of weights must sum to 1, got row sums {w.sum(axis=1)}")
    return w


def transition(state: State, weights, rng: np.random.Generator) -> tuple[State, Outcome]:
    """The inter-server phase with aggregation weights ``weights`` (S, S), then the next round's intra phase."""
    cfg, instance = state.cfg, state.instance
    w = check_weights(weights, cfg.num_servers)
    models = torch.from_numpy(w.astype(np.float32)) @ state.local
    val = (instance.val_x, instance.val_y)
    val_acc, val_loss = evaluate(instance.shape, models, *val)
    peer_s, cloud_s = exchange_latency(cfg, model_bits(instance), state.round)
    latency = state.upload_s + peer_s + cloud_s
    predicted = predict(instance.shape, models, instance.test_x)
    scores = np.array(
        [precision_recall_fscore_support(instance.test_y, p, average="macro", zero_division=0)[:3] for p in predicted]
    )
    outcome = Outcome(
        reward=val_acc - state.own_acc - cfg.latency_cost * latency,
        val_acc=val_acc,
        val_loss=val_loss,
        test_acc=(predicted == instance.test_y[None]).mean(axis=1),
        precision=scores[:, 0],
        recall=scores[:, 1],
        f1=scores[:, 2],
        upload_s=state.upload_s.copy(),
        peer_s=np.full(cfg.num_servers, peer_s),
        cloud_s=np.full(cfg.num_servers, cloud_s),
        latency_s=latency,
    )
    vehicles = copy.deepcopy(state.vehicles)
    vehicles.step(cfg.round_s, rng)
    fields = _intra_round(
        cfg, instance, models, vehicles, rng, dict(cfg=cfg, instance=instance, round=state.round + 1, own_acc=val_acc)
    )
    return State(**fields), outcome


def truncated(state: State) -> bool:
    return state.round >= state.cfg.num_rounds


def zscores(values: np.ndarray) -> np.ndarray:
    """(v - mean) / std along the last axis (population std); 0 where all values are equal."""
    values = np.asarray(values, dtype=float)
    std = values.std(axis=-1, keepdims=True)
    centred = values - values.mean(axis=-1, keepdims=True)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)


def relative(matrix: np.ndarray) -> np.ndarray:
    """Rows re-indexed to each server's own order: out[s, k] = matrix[s, (s + k) % S] (k = 0: itself)."""
    s = matrix.shape[0]
    return matrix[np.arange(s)[:, None], (np.arange(s)[:, None] + np.arange(s)[None, :]) % s]


def absolute(relative_rows: np.ndarray) -> np.ndarray:
    """Inverse of :func:`relative`: out[s, (s + k) % S] = relative_rows[s, k]."""
    s = relative_rows.shape[0]
    out = np.empty_like(relative_rows)
    out[np.arange(s)[:, None], (np.arange(s)[:, None] + np.arange(s)[None, :]) % s] = relative_rows
    return out


def observation_size(num_servers: int) -> int:
    return 4 * num_servers + 4


def observation_slices(num_servers: int) -> dict:
    """Where each field sits in an agent's observation (every per-model field in the agent's own order)."""
    s = num_servers
    return {
        "acc": slice(0, s),
        "loss": slice(s, 2 * s),
        "loss_z": slice(2 * s, 3 * s),
        "acc_z": slice(3 * s, 4 * s),
        "served": 4 * s,
        "handovers": 4 * s + 1,
        "samples": 4 * s + 2,
        "time_left": 4 * s + 3,
    }


def observation_bounds(num_servers: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 of every observation entry, by the fields of :func:`observation_slices`."""
    limits = {"acc": (0.0, 1.0), "loss": (0.0, LOSS_CAP), "loss_z": (-Z_CAP, Z_CAP), "acc_z": (-Z_CAP, Z_CAP)}
    low, high = np.zeros(observation_size(num_servers), np.float32), np.ones(observation_size(num_servers), np.float32)
    for name, where in observation_slices(num_servers).items():
        low[where], high[where] = limits.get(name, (0.0, 1.0))
    return low, high


def observations(state: State) -> np.ndarray:
    """(S, 4S + 4) float32: each server's view, laid out as :func:`observation_slices` says."""
    cfg = state.cfg
    acc, loss = relative(state.acc), relative(state.loss)
    total = state.samples.sum()
    share = state.samples / total if total > 0 else np.zeros_like(state.samples)
    counts = np.stack(
        [
            state.served / cfg.num_vehicles,
            state.handovers / cfg.num_vehicles,
            share,
            np.full(cfg.num_servers, 1.0 - state.round / cfg.num_rounds),
        ],
        axis=1,
    )
    obs = np.concatenate(
        [
            acc,
            np.clip(loss, 0.0, LOSS_CAP),
            np.clip(zscores(loss), -Z_CAP, Z_CAP),
            np.clip(zscores(acc), -Z_CAP, Z_CAP),
            np.clip(counts, 0.0, 1.0),
        ],
        axis=1,
    )
    return obs.astype(np.float32)


def mixture_accuracy(state: State, server: int, weights: np.ndarray) -> np.ndarray:
    """Validation accuracy on ``server``'s data of each mixture ``weights[m] @ local`` ((M, S) absolute weights)."""
    w = np.atleast_2d(np.asarray(weights, dtype=np.float32))
    mixtures = torch.from_numpy(w) @ state.local
    x = state.instance.val_x[server].expand(len(w), *state.instance.val_x.shape[1:])
    y = state.instance.val_y[server].expand(len(w), -1)
    return evaluate(state.instance.shape, mixtures, x, y)[0]
