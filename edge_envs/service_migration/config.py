"""Configuration of ServiceMigration-v0, with defaults from seed 000 (SM3FL), Section 6.1 and Table 1.

Units are SI (m, s, Hz, W or dBm, bits) unless a name says otherwise.

Choices where the seed is silent or inconsistent (see also shared/seeds/ERRATA.md, seed 000):

- Edge capability xi_n (cycles/s) is drawn each round from N(capability_mean_hz, capability_std_hz)
  (the seed: N(10^6, 3 x 10^6)), truncated to ``capability_min_hz`` by redrawing every value below it
  (a third of the untruncated draws would be negative).
- The sample-collection ratio rho is capped at ``rho_max`` (1 by default), not at Algorithm 1's 1/M:
  with M = 50 devices 1/M equals alpha = 0.02, where Eq. (22) is infinite. Devices draw their
  rho * S samples from the whole data set, so the draws of different devices may overlap.
- Eq. (4)'s noise is a power spectral density: SNR = P h / (N0 B) (ERRATA). With the seed's numbers
  (23 dBm, 20 MHz, -147 dBm/Hz, WINNER II C2 over kilometres) the uplink gives kbit/s down to bit/s,
  so uploads dominate every round by orders of magnitude. The seed's own round times (Table 2) come
  from its printed form P h / N0, which equals this formula with N0 = -147 dBm/Hz - 10 log10(B)
  = -220 dBm/Hz: pass ``noise_psd_dbm_per_hz=SEED_PRINTED_NOISE_PSD_DBM_PER_HZ`` to work at that scale.
- The channel gain h(d) of Eq. (4) is the WINNER II path-loss gain at the device's distance (the
  seed's Algorithm 1 plans from distances); ``fading=True`` multiplies it by Rayleigh power fading,
  drawn per device, edge and round.
- The seed gives no mobility parameters: devices follow random waypoints at 1-10 m/s (pedestrians to
  city traffic) and move, between rounds, for as long as the round took.
- A sub-model of ``params`` parameters migrates ``params * bytes_per_param`` bytes (float32).
- The edge server sits at the centre of the area (the grid point left out of the edges, Fig. 5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from edge_envs.data.mfeat import MFEAT_VIEWS
from edge_envs.net import topology

BACKENDS = ("bound", "real")
FRAMEWORKS = ("split", "horizontal")
CONFLICT_RULES = ("error", "repair")
MOBILITY_MODELS = ("random_waypoint", "gauss_markov", "static")
PATH_LOSS_MODELS = ("winner2_c2", "log_distance")
MFEAT_SIZE = 2000

# Eq. (4) as printed (SNR = P h / N0, N0 = 10^-14.7 mW/Hz) is the ERRATA form with this density at B = 20 MHz.
SEED_PRINTED_NOISE_PSD_DBM_PER_HZ = -147.0 - 10.0 * math.log10(20e6)


@dataclass(frozen=True)
class Modality:
    """One data modality and the sub-model (service) that learns from it (Table 1)."""

    name: str
    sample_bits: float  # q_k: size of one sample, bits
    params: int  # parameters of the sub-model theta_k (its migration size is params * bytes_per_param)
    density_cycles: float  # vartheta_k: computation per sample and epoch, cycles
    views: tuple[str, ...] = ()  # real backend: the UCI mfeat views this modality's tower reads
    embedding_dim: int = 32  # real backend: width of the tower's output embedding

    def __post_init__(self):
        if not self.name:
            raise ValueError("Modality.name must be a non-empty string")
        for name in ("sample_bits", "density_cycles"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Modality.{name} must be > 0, got {getattr(self, name)!r}")
        if not (isinstance(self.params, (int, np.integer)) and self.params > 0):
            raise ValueError(f"Modality.params must be an integer > 0, got {self.params!r}")
        if not isinstance(self.views, tuple) or any(v not in MFEAT_VIEWS for v in self.views):
            raise ValueError(f"Modality.views must be a tuple of views from {MFEAT_VIEWS}, got {self.views!r}")
        if not (isinstance(self.embedding_dim, int) and self.embedding_dim >= 1):
            raise ValueError(f"Modality.embedding_dim must be an integer >= 1, got {self.embedding_dim!r}")


# Table 1 (CMU-MOSI in the seed). The real backend trains on UCI mfeat's six views instead, two per
# modality: vision <- pixel averages and Karhunen-Loeve coefficients (both encode the digit's image);
# acoustic <- Fourier coefficients and Zernike moments (spectral / moment transforms of the shape,
# signal-like); text <- profile correlations and morphological counts (symbolic descriptors).
# Embedding widths are Table 1's 128 / 256 / 256 divided by 4, so a round stays fast on one CPU core.
SEED_MODALITIES = (
    Modality("text", sample_bits=500e3, params=2_560_000, density_cycles=2000.0, views=("fac", "mor"),
             embedding_dim=32),
    Modality("acoustic", sample_bits=1e6, params=596_480, density_cycles=1000.0, views=("fou", "zer"),
             embedding_dim=64),
    Modality("vision", sample_bits=2e6, params=792_320, density_cycles=1000.0, views=("pix", "kar"),
             embedding_dim=64),
)


def _check(cond: bool, name: str, allowed: str, value) -> None:
    if not cond:
        raise ValueError(f"ServiceMigrationConfig.{name} must be {allowed}, got {value!r}")


@dataclass(frozen=True)
class ServiceMigrationConfig:
    """Every parameter of ServiceMigration-v0. Defaults: seed 000, Section 6.1 and Table 1."""

    # --- system (Section 6.1) ---
    area_m: float = 10_000.0  # side of the square area
    edge_spacing_m: float = 2_500.0  # edges on the interior grid, centre excluded (8 edges)
    edge_positions_m: tuple | None = None  # ((x, y), ...) to override the grid
    server_position_m: tuple | None = None  # (x, y) of the edge server; None: the centre
    n_devices: int = 50  # M
    tx_power_dbm: float = 23.0  # P_m
    bandwidth_hz: float = 20e6  # B_m
    carrier_hz: float = 2.1e9
    noise_psd_dbm_per_hz: float = -147.0  # N0 = 10^-14.7 mW/Hz
    path_loss_model: str = "winner2_c2"  # WINNER II urban macro (C2, NLOS), edge_envs.net.channel
    fading: bool = False  # Rayleigh power fading on top of path loss
    capability_mean_hz: float = 1e6  # xi_n ~ N(mean, std) cycles/s, every round
    capability_std_hz: float = 3e6
    capability_min_hz: float = 1e5  # truncation: draws below are redrawn
    reference_distance_m: float = 3_000.0  # d_0 of Eq. (3)
    migration_speed_bps: float = 100e6  # pi_n = 100 Mb/s
    bytes_per_param: int = 4
    # --- devices ---
    mobility: str = "random_waypoint"  # or "gauss_markov", "static"
    speed_min_mps: float = 1.0
    speed_max_mps: float = 10.0  # random waypoint speed range; gauss_markov uses their mean
    # --- learning (Section 6.1, Table 1, Corollary 1) ---
    modalities: tuple = field(default=SEED_MODALITIES)  # K = 3: text, acoustic, vision
    n_samples: int = 1284  # S: the training set (CMU-MOSI's 1284 in the seed; real backend: mfeat split)
    epochs: int = 5  # E
    alpha: float = 0.02  # alpha of Eqs. (22)-(31), normalised by M S epsilon
    beta: float = 100.0  # beta of Eqs. (22)-(31), normalised by epsilon
    # --- action ---
    rho_levels: int = 20  # MultiDiscrete rho: geometric grid rho_min .. rho_max
    rho_min: float = 0.025
    rho_max: float = 1.0  # cap on rho (ERRATA: not 1/M)
    continuous_rho: bool = False  # True: a Box action (see env docstring)
    on_conflict: str = "repair"  # two modalities on one edge (Eq. 20b): "error" or "repair"
    framework: str = "split"  # "split": SM3FL's multi-modal FL; "horizontal": FedAvg, every edge trains the whole model
    # --- learning progress ---
    backend: str = "real"  # "bound": Corollary 1 surrogate; "real": split training on UCI mfeat
    max_rounds: int = 500  # truncation
    target_loss: float = 0.1  # real backend: held-out cross-entropy that ends the episode
    learning_rate: float = 0.05  # real backend: SGD step
    hidden_units: int = 32  # real backend: hidden width of towers and fusion
    data_seed: int = 0  # real backend: fixes the train / held-out split and the initial model
    torch_threads: int = 1  # real backend: torch.set_num_threads while training
    reward_scale: float = 1.0  # reward = -round_time * reward_scale

    def __post_init__(self):
        positive = ("area_m", "edge_spacing_m", "bandwidth_hz", "carrier_hz", "capability_mean_hz",
                    "capability_min_hz", "reference_distance_m", "migration_speed_bps",
                    "speed_min_mps", "beta", "target_loss", "learning_rate", "reward_scale")
        for name in positive:
            value = getattr(self, name)
            _check(isinstance(value, (int, float)) and math.isfinite(value) and value > 0, name, "> 0", value)
        _check(isinstance(self.capability_std_hz, (int, float)) and self.capability_std_hz >= 0,
               "capability_std_hz", ">= 0", self.capability_std_hz)
        _check(self.capability_mean_hz >= self.capability_min_hz, "capability_mean_hz", ">= capability_min_hz",
               self.capability_mean_hz)
        for name in ("tx_power_dbm", "noise_psd_dbm_per_hz"):
            _check(isinstance(getattr(self, name), (int, float)) and math.isfinite(getattr(self, name)), name,
                   "a finite number", getattr(self, name))
        _check(self.speed_max_mps >= self.speed_min_mps, "speed_max_mps", ">= speed_min_mps", self.speed_max_mps)
        for name, low in (("n_devices", 1), ("epochs", 1), ("rho_levels", 2), ("max_rounds", 1),
                          ("bytes_per_param", 1), ("hidden_units", 1), ("torch_threads", 1), ("n_samples", 1)):
            value = getattr(self, name)
            _check(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low,
                   name, f"an integer >= {low}", value)
        _check(isinstance(self.data_seed, int) and self.data_seed >= 0, "data_seed", "an integer >= 0", self.data_seed)
        _check(0 < self.alpha < self.rho_max, "alpha", "in (0, rho_max)", self.alpha)
        _check(self.alpha < self.rho_min < self.rho_max, "rho_min", "in (alpha, rho_max)", self.rho_min)
        _check(self.rho_max <= 1.0, "rho_max", "in (rho_min, 1]", self.rho_max)
        for name, allowed in (("on_conflict", CONFLICT_RULES), ("framework", FRAMEWORKS), ("backend", BACKENDS),
                              ("mobility", MOBILITY_MODELS), ("path_loss_model", PATH_LOSS_MODELS)):
            _check(getattr(self, name) in allowed, name, f"one of {allowed}", getattr(self, name))
        for name in ("fading", "continuous_rho"):
            _check(isinstance(getattr(self, name), bool), name, "a bool", getattr(self, name))
        _check(isinstance(self.modalities, tuple) and len(self.modalities) >= 1
               and all(isinstance(m, Modality) for m in self.modalities),
               "modalities", "a non-empty tuple of Modality", self.modalities)
        _check(len({m.name for m in self.modalities}) == len(self.modalities), "modalities",
               "modalities with distinct names", [m.name for m in self.modalities])
        _check(self.n_edges >= self.n_modalities, "edge_positions_m",
               f"at least as many edges as modalities ({self.n_modalities})", self.n_edges)
        if self.edge_positions_m is not None:
            pos = np.asarray(self.edge_positions_m, dtype=float)
            _check(pos.ndim == 2 and pos.shape[1] == 2 and np.all((pos >= 0) & (pos <= self.area_m)),
                   "edge_positions_m", "((x, y), ...) inside the area", self.edge_positions_m)
            _check(len(np.unique(pos, axis=0)) == len(pos), "edge_positions_m", "distinct positions",
                   self.edge_positions_m)
        if self.server_position_m is not None:
            pos = np.asarray(self.server_position_m, dtype=float)
            _check(pos.shape == (2,) and np.all((pos >= 0) & (pos <= self.area_m)), "server_position_m",
                   "an (x, y) inside the area", self.server_position_m)
        if self.backend == "real":
            _check(all(m.views for m in self.modalities), "modalities",
                   "modalities that all name mfeat views (real backend)", [m.views for m in self.modalities])
            _check(self.n_samples <= MFEAT_SIZE - 100, "n_samples",
                   f"<= {MFEAT_SIZE - 100} with the real backend (the rest is held out)", self.n_samples)

    @property
    def n_modalities(self) -> int:
        return len(self.modalities)

    @property
    def n_edges(self) -> int:
        return len(self.edge_positions)

    @cached_property
    def edge_positions(self) -> np.ndarray:
        """(N, 2) edge positions, read-only: ``edge_positions_m`` or the seed's grid (Fig. 5)."""
        if self.edge_positions_m is not None:
            pos = np.array(self.edge_positions_m, dtype=float)
        else:
            pos = topology.grid_servers(self.area_m, self.edge_spacing_m, exclude_centre=True)
        pos.setflags(write=False)
        return pos

    @cached_property
    def server_position(self) -> np.ndarray:
        """(2,) position of the edge server, read-only: ``server_position_m`` or the area's centre."""
        pos = np.full(2, self.area_m / 2.0) if self.server_position_m is None else np.array(self.server_position_m, float)
        pos.setflags(write=False)
        return pos

    @property
    def rho_grid(self) -> np.ndarray:
        """The MultiDiscrete rho levels: ``rho_levels`` values spaced geometrically from rho_min to rho_max.

        Geometric spacing puts most levels near alpha, where Eq. (31)'s optimum lies (about 2 alpha).
        """
        return np.geomspace(self.rho_min, self.rho_max, self.rho_levels)
