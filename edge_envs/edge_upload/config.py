"""Configuration of EdgeUpload-v0 (the DNN-migration paper: DNN partition-uploading while queries keep running).

Units: seconds, bytes, GHz; bandwidths in MB/s with MB = 10^6 bytes, as the paper prints them.

Latency scaling. Per-layer latencies come from a measured profile (edge_envs/dnn/profiles: one
CPU core, batch 1). The paper gives machines as processing capacities in GHz, so a layer that takes
``x`` s in the profile takes ``x * profile_clock_ghz / f`` s on a machine of ``f`` GHz: latency is
taken inversely proportional to the clock, with the profiled core counted as ``profile_clock_ghz``
(2.0 GHz by default; the profile files record the CPU model but not its clock, so this is a
documented assumption). With the paper's ranges a client (1.1-2.3 GHz) runs a layer 0.87-1.8 times
as long as the profile, an edge server (4.2-18.3 GHz) 2.1-9.2 times faster, a cloud server
(40-120 GHz) 20-60 times faster. A server's capacity is shared equally by the clients holding layers
on it (the multi-user coupling).

Two settings:

* the default, IONN's: one client uploading to one edge server over the 10 MB/s local-edge link;
  AlexNet at 224x224 (244 MB of parameters in the profile; the paper says 223 MB);
* :func:`edge_cloud`: the paper's experiment, 2 clients, 5 edge and 5 cloud servers, its bandwidths
  (local-edge 10 MB/s, local-cloud 0.5, edge-cloud 0.5, cloud-cloud 5, edge-edge 10) and clock ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_envs.config import DNN_MODELS, Config, check_interval, check_range


@dataclass(frozen=True)
class EdgeUploadConfig(Config):
    """Every parameter of EdgeUpload-v0; defaults from the DNN-migration paper's experiment
    (single-user part: IONN's setting)."""

    model: str = "alexnet_224"
    """DNN uploaded layer by layer (edge_envs.config.DNN_MODELS; 'toy' with ToyGenerator)."""
    num_clients: int = 1
    """Clients, each holding the whole model and uploading it (seed: 2), 1-4."""
    num_edge_servers: int = 1
    """Edge servers (seed: 5), 0-8; at least one server in all."""
    num_cloud_servers: int = 0
    """Cloud servers (seed: 5), 0-8."""
    client_clock_ghz: tuple[float, float] = (1.1, 2.3)
    """Processing capacity of each client, uniform in this range per episode, GHz."""
    edge_clock_ghz: tuple[float, float] = (4.2, 18.3)
    """Processing capacity of each edge server, uniform in this range per episode, GHz."""
    cloud_clock_ghz: tuple[float, float] = (40.0, 120.0)
    """Processing capacity of each cloud server, uniform in this range per episode, GHz."""
    profile_clock_ghz: float = 2.0
    """Clock the profiled CPU core is counted as (see the module docstring), GHz."""
    local_edge_mbps: float = 10.0
    """Bandwidth between a client and an edge server, MB/s."""
    local_cloud_mbps: float = 0.5
    """Bandwidth between a client and a cloud server, MB/s."""
    edge_cloud_mbps: float = 0.5
    """Bandwidth between an edge and a cloud server, MB/s."""
    cloud_cloud_mbps: float = 5.0
    """Bandwidth between two cloud servers, MB/s."""
    edge_edge_mbps: float = 10.0
    """Bandwidth between two edge servers, MB/s."""
    loss_probability: float = 0.05
    """Probability that one transmission of a partition fails; it is resent after the failed confirmation, 0-0.9."""
    confirmation_s: float = 0.01
    """Time from the end of a transmission until its confirmation result (CR) reaches the client, s."""
    profile: str = "cpu"
    """Latency profile: "cpu", "gpu" (shipped) or a profile file path; it must hold batch size 1 (the shipped
    GPU profiles, imported at batch 128 and 256, do not)."""

    def __post_init__(self):
        if self.model not in DNN_MODELS + ("toy",):
            raise ValueError(f"model must be one of {DNN_MODELS} (or 'toy' with ToyGenerator), got {self.model!r}")
        check_range("num_clients", self.num_clients, 1, 4, integer=True)
        check_range("num_edge_servers", self.num_edge_servers, 0, 8, integer=True)
        check_range("num_cloud_servers", self.num_cloud_servers, 0, 8, integer=True)
        if self.num_edge_servers + self.num_cloud_servers < 1:
            raise ValueError("num_edge_servers + num_cloud_servers must be at least 1, got 0")
        for name in ("client_clock_ghz", "edge_clock_ghz", "cloud_clock_ghz"):
            check_interval(name, getattr(self, name), 0.01, 1e4)
        check_range("profile_clock_ghz", self.profile_clock_ghz, 0.01, 1e4)
        for name in ("local_edge_mbps", "local_cloud_mbps", "edge_cloud_mbps", "cloud_cloud_mbps", "edge_edge_mbps"):
            check_range(name, getattr(self, name), 1e-6, 1e6)
        check_range("loss_probability", self.loss_probability, 0.0, 0.9)
        check_range("confirmation_s", self.confirmation_s, 0.0, 60.0)
        if not isinstance(self.profile, str):
            raise ValueError(f"profile must be 'cpu', 'gpu' or a profile file path, got {self.profile!r}")

    @property
    def num_servers(self) -> int:
        """Edge servers first, then cloud servers."""
        return self.num_edge_servers + self.num_cloud_servers


def edge_cloud(**overrides) -> EdgeUploadConfig:
    """The paper's multi-user edge-cloud experiment: 2 clients, 5 edge and 5 cloud servers (other fields
    as the defaults, which are the paper's bandwidths and clock ranges), with ``overrides`` applied."""
    base = EdgeUploadConfig(num_clients=2, num_edge_servers=5, num_cloud_servers=5)
    return EdgeUploadConfig.from_kwargs(base, **overrides)
