"""Federated-learning engines: split (vertical, FedBCD-style) training, horizontal FedAvg, aggregation."""

from edge_envs.fl.aggregation import weighted_average
from edge_envs.fl.horizontal import fedavg_round
from edge_envs.fl.models import SplitNet, evaluate, weighted_cross_entropy
from edge_envs.fl.split import split_round

__all__ = ["SplitNet", "evaluate", "fedavg_round", "split_round", "weighted_average", "weighted_cross_entropy"]
