"""Configuration of ServiceMigration-v0, with defaults from the SM3FL paper (SM3FL), Section 6.1 and Table 1.

Units are SI (m, s, Hz, dBm, bits) unless a name says otherwise. Every field is checked against a
documented physical range (``edge_envs.config``); non-finite values never pass.

Choices where the paper is silent or inconsistent (see also docs/ERRATA.md, the SM3FL paper):

- Noise (Eq. 4). Section 6.1 gives 10^-14.7 mW/Hz. Read as a density (ERRATA: SNR = P h / (N0 B)),
  the paper's 23 dBm, 20 MHz and WINNER II over kilometres give uplinks of bit/s to kbit/s and uploads
  of 10^7-10^8 s per round, which contradicts the paper's own Table 2 by eight orders of magnitude.
  The default ``noise_reading="printed"`` takes Eq. (4) as printed, SNR = P h / N0, with N0 = 10^-14.7
  mW the noise power over the band (-147 dBm): the uplinks then carry 10-70 Mbit/s and a round's
  upload takes seconds, the scale of Table 2. ``noise_reading="density"`` is the ERRATA reading.
- Edge capability xi_n (cycles/s) is drawn each round from N(capability_mean_hz, capability_std_hz)
  and redrawn while below ``capability_min_hz``. The paper prints N(10^6, 3 x 10^6): a spread three
  times the mean, a third of the draws negative, and a truncated law whose mean is 2.9 x 10^6 with
  some edges many times faster than others, so a policy that chases the fastest edge beats FedBCD by
  far more than the paper's 20-25% (the ``printed-spread`` blocks of
  benchmarks/results/table2_service_migration.md). The default reads the second figure as a typo for
  3 x 10^5 (a coefficient of variation of 0.3, truncation at 10^5 almost never used); the literal law
  is the named option ``PAPER_LITERAL``.
- The sample-collection ratio rho is capped at ``rho_max`` (1 by default), not at Algorithm 1's 1/M:
  with M = 50 devices 1/M equals alpha = 0.02, where Eq. (22) is infinite. Devices draw their
  rho * S samples from the whole data set, so the draws of different devices may overlap.
- The channel gain h(d) of Eq. (4) is the WINNER II path-loss gain at the device's distance (the
  paper's Algorithm 1 plans from distances); ``fading=True`` multiplies it by Rayleigh power fading,
  drawn per device, edge and round.
- The paper gives no mobility parameters: devices follow random waypoints at 1-10 m/s (pedestrians to
  city traffic) and move, between rounds, for as long as the round took.
- A sub-model of ``params`` parameters migrates ``params * bytes_per_param`` bytes (float32).
- Real backend: minibatches of 256 draws at SGD step 0.025 (``batch_size``, ``learning_rate``) bring the
  rounds to the 0.1 held-out cross-entropy near the count that puts a default episode in Table 2's
  range, and make them fall with rho as Corollary 1 predicts, up to a point
  (benchmarks/results/rho_rounds_service_migration.md, table2_service_migration.md). The bound backend
  keeps the paper's alpha and beta: 200 rounds at rho = 2 alpha, far more than the real backend takes.
- The edge server sits at the centre of the area (the grid point left out of the edges, Fig. 5).

Measured magnitudes of default episodes are written by ``benchmarks/table2_service_migration.py``
to benchmarks/results/table2_service_migration.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from edge_envs import libm
from edge_envs.config import Config, check_bool, check_choice, check_range
from edge_envs.data.mfeat import MFEAT_VIEWS
from edge_envs.net import topology

BACKENDS = ("bound", "real")
FRAMEWORKS = ("split", "horizontal")
HORIZONTAL_SCHEDULES = ("parallel", "shared")
CONFLICT_RULES = ("error", "repair")
MOBILITY_MODELS = ("random_waypoint", "gauss_markov", "static")
PATH_LOSS_MODELS = ("winner2_c2", "log_distance")
NOISE_READINGS = ("printed", "density")
MFEAT_SIZE = 2000
MAX_EDGES = 1000  # every round builds (N, N) hop and (M, N) rate matrices: a 1 m grid on 1000 km would need TiB
PAPER_NOISE_DBM_PER_HZ = -147.0  # Section 6.1: 10^-14.7 mW/Hz

# Eq. (4) as printed (SNR = P h / N0, N0 = 10^-14.7 mW) is the density reading with this density at B = 20 MHz.
PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ = PAPER_NOISE_DBM_PER_HZ - 10.0 * math.log10(20e6)

PAPER_LITERAL = dict(noise_reading="density", capability_mean_hz=1e6, capability_std_hz=3e6, capability_min_hz=1e5)
"""The paper's figures read literally (ERRATA noise density, N(10^6, 3 x 10^6) capability truncated at 10^5):
``gym.make("ServiceMigration-v0", **PAPER_LITERAL)``. Uploads then take 10^7-10^8 s per round."""


@dataclass(frozen=True)
class Modality:
    """One data modality and the sub-model (service) that learns from it (Table 1)."""

    name: str
    """Name of the modality (non-empty, distinct within a config)."""
    sample_bits: float
    """q_k: size of one sample, bits (1 to 10^12)."""
    params: int
    """Parameters of the sub-model theta_k (1 to 10^12); it migrates params * bytes_per_param bytes."""
    density_cycles: float
    """vartheta_k: computation per sample and epoch, cycles (1 to 10^15)."""
    views: tuple[str, ...] = ()
    """Real backend: the UCI mfeat views this modality's tower reads."""
    embedding_dim: int = 32
    """Real backend: width of the tower's output embedding (1 to 4096)."""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Modality.name must be a non-empty string, got {self.name!r}")
        check_range("Modality.sample_bits", self.sample_bits, 1.0, 1e12)
        check_range("Modality.params", self.params, 1, 10**12, integer=True)
        check_range("Modality.density_cycles", self.density_cycles, 1.0, 1e15)
        if not isinstance(self.views, tuple) or any(v not in MFEAT_VIEWS for v in self.views):
            raise ValueError(f"Modality.views must be a tuple of views from {MFEAT_VIEWS}, got {self.views!r}")
        check_range("Modality.embedding_dim", self.embedding_dim, 1, 4096, integer=True)


# Table 1 (CMU-MOSI in the paper). The real backend trains on UCI mfeat's six views instead, two per
# modality: vision <- pixel averages and Karhunen-Loeve coefficients (both encode the digit's image);
# acoustic <- Fourier coefficients and Zernike moments (spectral / moment transforms of the shape,
# signal-like); text <- profile correlations and morphological counts (symbolic descriptors).
# Embedding widths are Table 1's 128 / 256 / 256 divided by 4, so a round stays fast on one CPU core.
PAPER_MODALITIES = (
    Modality(
        "text", sample_bits=500e3, params=2_560_000, density_cycles=2000.0, views=("fac", "mor"), embedding_dim=32
    ),
    Modality(
        "acoustic", sample_bits=1e6, params=596_480, density_cycles=1000.0, views=("fou", "zer"), embedding_dim=64
    ),
    Modality("vision", sample_bits=2e6, params=792_320, density_cycles=1000.0, views=("pix", "kar"), embedding_dim=64),
)

# the first names of the three constants above, from when the source paper was called "the seed"; kept until the
# next release
SEED_LITERAL, SEED_MODALITIES = PAPER_LITERAL, PAPER_MODALITIES
SEED_PRINTED_NOISE_PSD_DBM_PER_HZ = PAPER_PRINTED_NOISE_PSD_DBM_PER_HZ


def _fail(name: str, allowed: str, value) -> None:
    raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _check_points(name: str, value, area_m: float, shape: tuple) -> None:
    """``value`` is a nested tuple of finite coordinates in [0, area_m] of the given shape (-1: any length)."""
    try:
        pos = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(name, f"coordinates (x, y) in [0, {area_m}] m", value)
    ok = pos.ndim == len(shape) and all(s in (-1, t) for s, t in zip(shape, pos.shape))
    if not (ok and np.all(np.isfinite(pos)) and np.all((pos >= 0) & (pos <= area_m))):
        _fail(name, f"coordinates (x, y) in [0, {area_m}] m", value)


@dataclass(frozen=True)
class ServiceMigrationConfig(Config):
    """Every parameter of ServiceMigration-v0. Defaults: the SM3FL paper, Section 6.1 and Table 1 (choices above)."""

    # --- system (Section 6.1) ---
    area_m: float = 10_000.0
    """Side of the square area, m (10 to 10^6)."""
    edge_spacing_m: float = 2_500.0
    """Edges on the interior grid of this spacing, centre excluded (8 edges by default), m (1 to 10^6; the grid
    may hold at most MAX_EDGES = 1000 points)."""
    edge_positions_m: tuple | None = None
    """((x, y), ...) of the edges inside the area (at most MAX_EDGES = 1000), overriding the grid; None: the grid."""
    server_position_m: tuple | None = None
    """(x, y) of the edge server inside the area; None: the centre."""
    num_devices: int = 50
    """M: mobile devices (1 to 10^4)."""
    tx_power_dbm: float = 23.0
    """P_m: device transmit power, dBm (-30 to 40)."""
    bandwidth_hz: float = 20e6
    """B_m: uplink bandwidth, Hz (10^3 to 10^10)."""
    carrier_hz: float = 2.1e9
    """Carrier frequency of the path-loss model, Hz (10^8 to 10^11)."""
    noise_psd_dbm_per_hz: float = PAPER_NOISE_DBM_PER_HZ
    """N0 of Eq. (4), dBm/Hz (-250 to -100): the paper's 10^-14.7 mW/Hz; ``noise_reading`` says how it enters."""
    noise_reading: str = "printed"
    """"printed": SNR = P h / N0 with N0 (this figure times 1 Hz) the noise power (Eq. 4 as printed, the
    scale of Table 2); "density": SNR = P h / (N0 B) (ERRATA; uploads of 10^7 s and more)."""
    path_loss_model: str = "winner2_c2"
    """"winner2_c2" (WINNER II urban macro, NLOS) or "log_distance" (edge_envs.net.channel)."""
    fading: bool = False
    """Rayleigh power fading on top of path loss, drawn per device, edge and round."""
    capability_mean_hz: float = 1e6
    """Mean of the edges' capability xi_n ~ N(mean, std), redrawn every round, cycles/s (capability_min_hz to 10^15)."""
    capability_std_hz: float = 3e5
    """Standard deviation of xi_n, cycles/s (0 to 10^15; the paper prints 3 x 10^6, see above)."""
    capability_min_hz: float = 1e5
    """Truncation of xi_n: draws below it are redrawn, cycles/s (10^3 to 10^15, at most the mean)."""
    reference_distance_m: float = 3_000.0
    """d_0 of Eq. (3), m (1 to 10^6)."""
    migration_speed_bps: float = 100e6
    """pi_n: migration speed between edges, bit/s (10^3 to 10^12)."""
    bytes_per_param: int = 4
    """Bytes per parameter of a migrating sub-model (1 to 16)."""
    # --- devices ---
    mobility: str = "random_waypoint"
    """"random_waypoint", "gauss_markov" or "static"."""
    speed_min_mps: float = 1.0
    """Slowest device speed (random waypoint), m/s (0.01 to 100); gauss_markov uses the mean of the range."""
    speed_max_mps: float = 10.0
    """Fastest device speed, m/s (speed_min_mps to 100)."""
    # --- learning (Section 6.1, Table 1, Corollary 1) ---
    modalities: tuple = field(default=PAPER_MODALITIES)
    """The K modalities (Modality, distinct names): text, acoustic, vision by default."""
    num_samples: int = 1284
    """S: training samples (1 to 10^9; CMU-MOSI's 1284; real backend: at most 1900, the rest is held out)."""
    epochs: int = 5
    """E: local epochs per round (1 to 1000)."""
    alpha: float = 0.02
    """alpha of Eqs. (22)-(31), normalised by M S epsilon (in (0, rho_min))."""
    beta: float = 100.0
    """beta of Eqs. (22)-(31), normalised by epsilon (10^-3 to 10^6)."""
    # --- action ---
    num_rho_levels: int = 20
    """MultiDiscrete rho: this many values spaced geometrically from rho_min to rho_max (2 to 1000)."""
    pair_rho_levels: bool = True
    """MultiDiscrete rho: K more levels ahead of the grid; level k applies Eq. (31)'s rho* of modality k's
    pair in the coming round (capped at rho_max), so Algorithm 1's closed-form rho is expressible exactly
    (split framework only: FedAvg has no pairs)."""
    rho_min: float = 0.025
    """Smallest rho of the grid (in (alpha, rho_max))."""
    rho_max: float = 1.0
    """Cap on rho (ERRATA: not 1/M; in (rho_min, 1])."""
    continuous_rho: bool = False
    """True: a Box action (see the env's docstring)."""
    observe_pair_costs: bool = True
    """The observation ends with each pair's estimated wall clock (Eq. 32) relative to the best pair's: what
    Algorithm 1 plans from, so a learning agent need not rebuild it from capabilities and distances."""
    on_conflict: str = "repair"
    """Two modalities on one edge (Eq. 20b): "error" raises, "repair" moves the later one."""
    framework: str = "split"
    """"split": SM3FL's multi-modal FL; "horizontal": FedAvg, every edge trains the whole model."""
    horizontal_schedule: str = "parallel"
    """FedAvg's round (``framework="horizontal"``): "parallel", every edge's uploads, model exchange and training
    overlap (the round lasts as long as the slowest edge); "shared", the edges take turns on the shared band and
    server link (uploads and model exchanges one edge after another) and train in parallel: the reading of the
    seed's Table 2, whose FedAvg wall-clock is 62% of its summed cost (``core.round_duration``)."""
    # --- learning progress ---
    backend: str = "bound"
    """"bound" (default, over 1,000 steps/s): Corollary 1's rounds as a surrogate; "real": split training on UCI
    mfeat every round, 0.2-2 steps/s on one core (benchmarks/results/clients.md), for measuring, not RL."""
    max_rounds: int = 500
    """Rounds before truncation (1 to 10^6)."""
    target_loss: float = 0.1
    """Real backend: held-out cross-entropy that ends the episode (10^-4 to 10)."""
    learning_rate: float = 0.025
    """Real backend: SGD step (10^-6 to 10)."""
    batch_size: int | None = 256
    """Real backend: an integer (1 to 10^6): each epoch is a pass over the round's draws in minibatch SGD
    steps of this many samples, so a round of more samples takes more steps and rho matters (Corollary 1);
    None: one full-batch step per epoch, where the rounds to target hardly depend on rho."""
    hidden_units: int = 32
    """Real backend: hidden width of towers and fusion (1 to 4096)."""
    data_seed: int = 0
    """Real backend: fixes the train / held-out split and the initial model (0 to 2^32 - 1)."""
    torch_threads: int = 1
    """Real backend: torch.set_num_threads while training (1 to 256)."""
    reward_scale: float = 1.0
    """reward = -round_time * reward_scale (10^-9 to 10^3)."""

    def __post_init__(self):
        check_range("area_m", self.area_m, 10.0, 1e6)
        check_range("edge_spacing_m", self.edge_spacing_m, 1.0, 1e6)
        check_range("num_devices", self.num_devices, 1, 10_000, integer=True)
        check_range("tx_power_dbm", self.tx_power_dbm, -30.0, 40.0)
        check_range("bandwidth_hz", self.bandwidth_hz, 1e3, 1e10)
        check_range("carrier_hz", self.carrier_hz, 1e8, 1e11)
        check_range("noise_psd_dbm_per_hz", self.noise_psd_dbm_per_hz, -250.0, -100.0)
        check_choice("noise_reading", self.noise_reading, NOISE_READINGS)
        check_choice("path_loss_model", self.path_loss_model, PATH_LOSS_MODELS)
        check_range("capability_min_hz", self.capability_min_hz, 1e3, 1e15)
        check_range("capability_mean_hz", self.capability_mean_hz, self.capability_min_hz, 1e15)
        check_range("capability_std_hz", self.capability_std_hz, 0.0, 1e15)
        check_range("reference_distance_m", self.reference_distance_m, 1.0, 1e6)
        check_range("migration_speed_bps", self.migration_speed_bps, 1e3, 1e12)
        check_range("bytes_per_param", self.bytes_per_param, 1, 16, integer=True)
        check_choice("mobility", self.mobility, MOBILITY_MODELS)
        check_range("speed_min_mps", self.speed_min_mps, 0.01, 100.0)
        check_range("speed_max_mps", self.speed_max_mps, self.speed_min_mps, 100.0)
        check_range("num_samples", self.num_samples, 1, 10**9, integer=True)
        check_range("epochs", self.epochs, 1, 1000, integer=True)
        check_range("beta", self.beta, 1e-3, 1e6)
        check_range("num_rho_levels", self.num_rho_levels, 2, 1000, integer=True)
        check_range("rho_max", self.rho_max, 0.0, 1.0)
        check_range("alpha", self.alpha, 0.0, 1.0)
        check_range("rho_min", self.rho_min, self.alpha, self.rho_max)
        if not 0.0 < self.alpha < self.rho_min < self.rho_max:
            _fail(
                "alpha, rho_min, rho_max",
                "0 < alpha < rho_min < rho_max <= 1",
                (self.alpha, self.rho_min, self.rho_max),
            )
        for name in ("fading", "continuous_rho", "pair_rho_levels", "observe_pair_costs"):
            check_bool(name, getattr(self, name))
        check_choice("on_conflict", self.on_conflict, CONFLICT_RULES)
        check_choice("framework", self.framework, FRAMEWORKS)
        check_choice("horizontal_schedule", self.horizontal_schedule, HORIZONTAL_SCHEDULES)
        check_choice("backend", self.backend, BACKENDS)
        check_range("max_rounds", self.max_rounds, 1, 10**6, integer=True)
        check_range("target_loss", self.target_loss, 1e-4, 10.0)
        check_range("learning_rate", self.learning_rate, 1e-6, 10.0)
        if self.batch_size is not None:
            check_range("batch_size", self.batch_size, 1, 10**6, integer=True)
        check_range("hidden_units", self.hidden_units, 1, 4096, integer=True)
        check_range("data_seed", self.data_seed, 0, 2**32 - 1, integer=True)
        check_range("torch_threads", self.torch_threads, 1, 256, integer=True)
        check_range("reward_scale", self.reward_scale, 1e-9, 1e3)
        if not (
            isinstance(self.modalities, tuple)
            and self.modalities
            and all(isinstance(m, Modality) for m in self.modalities)
        ):
            _fail("modalities", "a non-empty tuple of Modality", self.modalities)
        if len({m.name for m in self.modalities}) != len(self.modalities):
            _fail("modalities", "modalities with distinct names", [m.name for m in self.modalities])
        if self.edge_positions_m is not None:
            _check_points("edge_positions_m", self.edge_positions_m, self.area_m, (-1, 2))
            if len(np.unique(np.asarray(self.edge_positions_m, float), axis=0)) != len(self.edge_positions_m):
                _fail("edge_positions_m", "distinct positions", self.edge_positions_m)
            if len(self.edge_positions_m) > MAX_EDGES:
                _fail("edge_positions_m", f"at most {MAX_EDGES} edges", len(self.edge_positions_m))
        elif np.prod(topology.grid_counts(self.area_m, self.edge_spacing_m), dtype=float) > MAX_EDGES:
            _fail(
                "area_m, edge_spacing_m",
                f"a grid of at most {MAX_EDGES} points (edge_spacing_m >= area_m / {math.isqrt(MAX_EDGES) + 1})",
                (self.area_m, self.edge_spacing_m),
            )
        if self.server_position_m is not None:
            _check_points("server_position_m", self.server_position_m, self.area_m, (2,))
        if self.num_edges < self.num_modalities:
            _fail("edge_positions_m", f"at least as many edges as modalities ({self.num_modalities})", self.num_edges)
        if self.backend == "real":
            if not all(m.views for m in self.modalities):
                _fail(
                    "modalities",
                    "modalities that all name mfeat views (real backend)",
                    [m.views for m in self.modalities],
                )
            if self.num_samples > MFEAT_SIZE - 100:
                _fail(
                    "num_samples",
                    f"<= {MFEAT_SIZE - 100} with the real backend (the rest is held out)",
                    self.num_samples,
                )

    @property
    def num_modalities(self) -> int:
        """K: modalities (sub-models)."""
        return len(self.modalities)

    @property
    def num_edges(self) -> int:
        """N: edges."""
        return len(self.edge_positions)

    @cached_property
    def edge_positions(self) -> np.ndarray:
        """(N, 2) edge positions, read-only: ``edge_positions_m`` or the paper's grid (Fig. 5)."""
        if self.edge_positions_m is not None:
            pos = np.array(self.edge_positions_m, dtype=float)
        else:
            pos = topology.grid_servers(self.area_m, self.edge_spacing_m, exclude_centre=True)
        pos.setflags(write=False)
        return pos

    @cached_property
    def server_position(self) -> np.ndarray:
        """(2,) position of the edge server, read-only: ``server_position_m`` or the area's centre."""
        pos = (
            np.full(2, self.area_m / 2.0) if self.server_position_m is None else np.array(self.server_position_m, float)
        )
        pos.setflags(write=False)
        return pos

    @property
    def rho_grid(self) -> np.ndarray:
        """The fixed rho levels: ``num_rho_levels`` values spaced geometrically from rho_min to rho_max.

        Geometric spacing puts most levels near alpha, where Eq. (31)'s optimum lies (about 2 alpha).
        """
        return libm.geomspace(self.rho_min, self.rho_max, self.num_rho_levels)

    @property
    def offers_pair_rho(self) -> bool:
        """The MultiDiscrete rho dimension starts with the K pair levels (split framework, discrete rho)."""
        return self.pair_rho_levels and self.framework == "split" and not self.continuous_rho

    @property
    def num_rho_choices(self) -> int:
        """Entries of the MultiDiscrete rho dimension: the K pair levels (``offers_pair_rho``), then the grid."""
        return self.num_rho_levels + (self.num_modalities if self.offers_pair_rho else 0)
