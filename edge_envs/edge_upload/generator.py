"""Scenario instances of EdgeUpload: the layer table of the model and the machines of one episode.

An :class:`Instance` holds what stays fixed during an episode: per layer its profiled latency,
parameter bytes and output activation bytes; per client and server its speed (clock over the
profiled clock); the links' transfer times per byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_envs.edge_upload.config import EdgeUploadConfig

MB = 1e6  # the paper's bandwidths are in MB/s, MB = 10^6 bytes


@dataclass(frozen=True, eq=False)
class Instance:
    """Static scenario of one episode. L layers, C clients, S servers (edge servers first); float64.

    ``layer_s`` (L,): latency of each layer in the profile (s); ``param_bytes`` (L,): what uploading a
    layer sends; ``input_bytes``: the query's input (raw image); ``output_bytes`` (L,): activation
    leaving each layer (the last one's is the result returned to the client).
    ``client_speed`` (C,), ``server_speed`` (S,): clock / profile clock (latency divides by it).
    ``server_is_cloud`` (S,) bool. ``client_server_s_per_byte`` (S,): transfer time per byte between
    any client and server s; ``server_server_s_per_byte`` (S, S): between servers (0 on the diagonal).
    """

    name: str
    layer_s: np.ndarray
    param_bytes: np.ndarray
    input_bytes: float
    output_bytes: np.ndarray
    client_speed: np.ndarray
    server_speed: np.ndarray
    server_is_cloud: np.ndarray
    client_server_s_per_byte: np.ndarray
    server_server_s_per_byte: np.ndarray

    @property
    def num_layers(self) -> int:
        return self.layer_s.shape[0]

    @property
    def num_clients(self) -> int:
        return self.client_speed.shape[0]

    @property
    def num_servers(self) -> int:
        return self.server_speed.shape[0]


def links(cfg: EdgeUploadConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(server_is_cloud (S,), client-server s/byte (S,), server-server s/byte (S, S)) from the bandwidths."""
    is_cloud = np.arange(cfg.num_servers) >= cfg.num_edge_servers
    client_server = np.where(is_cloud, 1.0 / (cfg.local_cloud_mbps * MB), 1.0 / (cfg.local_edge_mbps * MB))
    pair = np.array([[cfg.edge_edge_mbps, cfg.edge_cloud_mbps], [cfg.edge_cloud_mbps, cfg.cloud_cloud_mbps]]) * MB
    server_server = 1.0 / pair[is_cloud.astype(int)[:, None], is_cloud.astype(int)[None, :]]
    np.fill_diagonal(server_server, 0.0)
    return is_cloud, client_server, server_server


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], size: int) -> np.ndarray:
    """``rng.uniform(*bounds, size=size)``, not called for ``size`` 0 (it would draw nothing, in 2 us)."""
    return rng.uniform(*bounds, size=size) if size else np.empty(0)


class RandomGenerator:
    """Layers from the measured profile (edge_envs.dnn.shipped_profile / load_profile); clocks uniform in
    the config's ranges per episode (the DNN-migration paper's experimental setup)."""

    def __init__(self, cfg: EdgeUploadConfig):
        from edge_envs.dnn import load_profile, shipped_profile  # torch is imported only for real profiles

        self.cfg = cfg
        if cfg.profile in ("cpu", "gpu"):
            profile = shipped_profile(cfg.model, cfg.profile)
        else:
            profile = load_profile(cfg.profile)
            if profile.model != cfg.model:
                raise ValueError(f"profile: the file is for model {profile.model!r}, not {cfg.model!r}")
        if 1 not in profile.batch_sizes:  # queries run one at a time: a batch's per-image time is no latency
            raise ValueError(
                f"profile: EdgeUpload needs latencies at batch size 1; the {cfg.profile!r} profile of {cfg.model} "
                f"has batch sizes {list(profile.batch_sizes)}: use profile='cpu' or a file measured at batch 1 "
                f"(edge-envs profile --model {cfg.model} --batch-sizes 1 ...)"
            )
        self.layer_names = tuple(layer.name for layer in profile.layers)
        self._layers = dict(
            layer_s=profile.layer_latency(1),
            param_bytes=profile.layer_values("param_bytes"),
            input_bytes=float(profile.layers[0].input_bytes),
            output_bytes=profile.layer_values("output_bytes"),
        )
        self._links = links(cfg)
        self._name = f"random:{cfg.model}:C{cfg.num_clients}:E{cfg.num_edge_servers}:K{cfg.num_cloud_servers}"

    def __call__(self, rng: np.random.Generator) -> Instance:
        cfg = self.cfg
        clients = _uniform(rng, cfg.client_clock_ghz, cfg.num_clients)
        edges = _uniform(rng, cfg.edge_clock_ghz, cfg.num_edge_servers)
        clouds = _uniform(rng, cfg.cloud_clock_ghz, cfg.num_cloud_servers)
        is_cloud, client_server, server_server = self._links
        return Instance(
            name=self._name,
            client_speed=clients / cfg.profile_clock_ghz,
            server_speed=np.concatenate([edges, clouds]) / cfg.profile_clock_ghz,
            server_is_cloud=is_cloud,
            client_server_s_per_byte=client_server,
            server_server_s_per_byte=server_server,
            **self._layers,
        )


class ToyGenerator:
    """One client, 4 layers, one edge server: small enough to check every number by hand.

    Layers take 0.4, 0.2, 0.3, 0.1 s on the client (speed 1) and a quarter of that on the server
    (speed 4). Parameters: 3, 1, 2, 4 MB; the input is 1 MB, activations 0.5, 0.1, 0.05, 0.01 MB. The link
    carries 1 MB/s, so uploading layer 0 takes 3 s plus the confirmation. Local-only queries take 1 s;
    with l2 uploaded 0.925 s (client l0-l1, send 0.1 MB, server l2, return 0.05 MB, client l3); with l2
    and l3 uploaded 0.81 s (client l0-l1, send 0.1 MB, server l2-l3, return 0.01 MB). Use with :meth:`config`
    (no transfer loss, confirmation 0 s).
    """

    layer_names = ("l0", "l1", "l2", "l3")

    @staticmethod
    def config(**overrides) -> EdgeUploadConfig:
        base = EdgeUploadConfig(model="toy", local_edge_mbps=1.0, loss_probability=0.0, confirmation_s=0.0)
        return EdgeUploadConfig.from_kwargs(base, **overrides)

    def __call__(self, rng: np.random.Generator | None = None) -> Instance:
        return Instance(
            name="toy",
            layer_s=np.array([0.4, 0.2, 0.3, 0.1]),
            param_bytes=np.array([3e6, 1e6, 2e6, 4e6]),
            input_bytes=1e6,
            output_bytes=np.array([0.5e6, 0.1e6, 0.05e6, 0.01e6]),
            client_speed=np.array([1.0]),
            server_speed=np.array([4.0]),
            server_is_cloud=np.array([False]),
            client_server_s_per_byte=np.array([1e-6]),
            server_server_s_per_byte=np.zeros((1, 1)),
        )
