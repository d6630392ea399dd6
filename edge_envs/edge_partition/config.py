"""Configuration of EdgePartition-v0 (the TMC 2024 paper, Sections 3 and 5.1).

Units are SI throughout: seconds, bits (bytes only where a field says so), W, J, Hz, metres.

Calibration (measured on the shipped profiles, edge_envs/dnn/profiles/*__cpu.json: one CPU core,
torch float32, batch 1). Only CPU profiles ship (no GPU was available when they were measured), so
both the IoT device and the edge servers are modelled as the profiled CPU core scaled by a speed
factor: a block taking ``x`` s in the profile takes ``x / device_speed_factor`` s on the device and
``x / speed`` s on an edge server whose speed this slot is ``speed``.

* VGG16 (CIFAR-10 input) takes 19.2 ms in the profile: 2.7-3.6 ms per block in M=6 blocks; its raw
  image is 12.3 kB and intermediate feature maps 8-66 kB.
* ``device_speed_factor = 0.25``: the device runs VGG16 in 77 ms, i.e. it alone saturates at
  13 tasks/s, far below the paper's 30-110 tasks/s, so most work must be offloaded.
* ``server_speed_factor`` uniform in [0.5, 0.9] per server (the share of the server given to this
  device's tasks, in profiled cores), times (1 - background load), the load a reflected random walk
  in [0, 0.5] (mean 0.25): four servers offer on average about 2.1 profiled cores, i.e. they absorb
  about 110 VGG16 tasks/s (plus 13 on the device). At the default 60 tasks/s the servers run at a
  utilisation of about 0.55 when the work is spread, but a server carrying the whole stream runs at
  about 2.2 and its backlog grows by over a second per slot; at 110 tasks/s the system is saturated.
  Queues carry over, so today's placement is tomorrow's backlog.
* Radio (Eq. 5): 23 dBm, 2 MHz sub-channel, -174 dBm/Hz noise, log-distance path loss
  (exponent 3) at 2.1 GHz and Rayleigh block fading per slot give 6 Mbit/s at the 750 m coverage
  edge and over 16 Mbit/s within 200 m; rates are clipped to the paper's [0.8, 2] MB/s. The raw image
  takes 6-15 ms to upload, a 66 kB feature map 33-82 ms. Servers are linked by R_max = 100 Mbit/s.
* Energy (Eqs. 4, 7): CPU cycles are converted explicitly from latency, ``c_m = L_m^l f^l`` with the
  device clock ``f^l = device_clock_hz`` = 1 GHz (Eq. 3 read backwards), so Eq. (4) gives
  ``E_m^l = kappa (f^l)^2 c_m = kappa (f^l)^3 L_m^l`` = 10 J per second of local compute: a locally run
  VGG16 costs 0.77 J, uploading the raw image about 2 mJ. ``energy_budget_j = 3000`` J keeps the
  device's CPU busy for about 300 of the 600 slots: a reserve to spend when the servers are
  congested, not a free fallback (all-local spends it in about 65 slots at 60 tasks/s).

Baseline returns in these scenarios (default, ResNet32 at 110 tasks/s, contention-free) are measured
by ``python -m benchmarks.baselines_edge_partition`` into benchmarks/results/baselines_edge_partition.md,
and the contention-free optimality gaps into benchmarks/results/contention_free_edge_partition.md. What
they show by design: the per-slot chain DP (``chain-dp``) is exact in the contention-free scenario but not in the
default one, where it ignores its own load (it piles blocks on one server) and its effect on later
slots, so there a spreading heuristic beats it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_envs.config import DNN_MODELS, Config, check_bool, check_interval, check_range


@dataclass(frozen=True)
class EdgePartitionConfig(Config):
    """Every parameter of EdgePartition-v0; defaults from the TMC 2024 paper Section 5.1 or the calibration above."""

    model: str = "vgg16"
    """DNN of the device's tasks (edge_envs.config.DNN_MODELS)."""
    num_blocks: int = 6
    """M: contiguous blocks the model is cut into (3 to its number of layers)."""
    num_servers: int = 4
    """N: edge servers (seed: 2-9)."""
    task_rate: float = 60.0
    """lambda: tasks released per second (seed: 30-110)."""
    poisson_tasks: bool = False
    """False: round(task_rate * slot_s) tasks every slot (seed 5.4: the rate is the number of tasks
    generated per slot); True: Poisson(task_rate * slot_s) tasks per slot."""
    slot_s: float = 1.0
    """Length of a time slot, s."""
    episode_slots: int = 600
    """T: slots per episode (seed: 600); the episode is truncated after them."""
    deadline_s: tuple[float, float] = (1.0, 7.0)
    """tau_m: per-block maximum tolerated delay, uniform in this range, drawn per block and slot."""
    penalty_weight: float = 1.0
    """beta of Eq. (14): weight of the deadline excess psi (the paper gives no value)."""
    device_speed_factor: float = 0.25
    """Device compute speed relative to the profiled CPU core."""
    device_clock_hz: float = 1.0e9
    """f^l: device clock converting local latency to CPU cycles for Eq. (4)."""
    energy_coefficient: float = 1e-26
    """kappa of Eq. (4)."""
    energy_budget_j: float = 3000.0
    """E_max: device energy for the episode (Eq. 11); the episode terminates when it is spent."""
    outage_cost_s: float = 60.0
    """Cost charged per remaining slot (seconds of delay per task) when the energy runs out, so that
    ending an episode early never pays: 60 s exceeds the cost of any slot served sensibly."""
    server_speed_factor: tuple[float, float] = (0.5, 0.9)
    """Base speed of each edge server relative to the profiled core, uniform in this range per episode."""
    background_load: float = 0.5
    """Largest fraction of a server's speed taken by background load (reflected random walk in [0, this]):
    0 (none) or in [1e-30, 0.95] (a subnormal bound would overflow the walk's reflection)."""
    background_step: float = 0.05
    """Largest change of the background load per slot (steps uniform in +-background_step)."""
    tx_power_w: float = 0.2
    """p_m: device transmit power (23 dBm)."""
    bandwidth_hz: float = 2.0e6
    """B: bandwidth of the device's sub-channel."""
    noise_psd_w_per_hz: float = 10 ** ((-174.0 - 30.0) / 10.0)
    """N_0: noise power spectral density (-174 dBm/Hz; ERRATA: a density, so SNR = p h / (N_0 B))."""
    carrier_hz: float = 2.1e9
    """Carrier frequency of the log-distance path-loss model."""
    path_loss_exponent: float = 3.0
    """Exponent of the log-distance path loss (reference: free space at 1 m)."""
    rate_range_bps: tuple[float, float] = (6.4e6, 16.0e6)
    """Wireless rates are clipped to this range (seed: 0.8-2 MB/s)."""
    wired_rate_bps: float = 100e6
    """R_max: rate between edge servers."""
    coverage_m: float = 750.0
    """A server within this distance is reached directly; others through the associated server and R_max."""
    area_m: float = 2000.0
    """Side of the square area holding the servers (placed uniformly) and the moving device."""
    walk_speed_mps: tuple[float, float] = (1.0, 5.0)
    """Random-waypoint speed range of the device; (0, 0) keeps it still."""
    fading: bool = True
    """Rayleigh block fading per slot on every wireless link."""
    contention_free: bool = False
    """No queues (every task is served as if alone), fixed server speeds (no background load), a still
    device without fading and an unlimited energy budget: each slot is an independent shortest-path
    problem over (block, location), solved exactly by dynamic programming."""
    local_profile: str = "cpu"
    """Profile of the IoT device: "cpu", "gpu" (shipped) or a profile file path."""
    edge_profile: str = "cpu"
    """Profile the edge servers' speeds scale (only CPU profiles ship; see the module docstring)."""

    def __post_init__(self):
        if self.model not in DNN_MODELS + ("toy",):
            raise ValueError(f"model must be one of {DNN_MODELS} (or 'toy' with ToyGenerator), got {self.model!r}")
        check_range("num_blocks", self.num_blocks, 3, 1000, integer=True)
        check_range("num_servers", self.num_servers, 2, 9, integer=True)
        check_range("task_rate", self.task_rate, 1.0, 1000.0)
        check_range("slot_s", self.slot_s, 1e-3, 3600.0)
        check_range("episode_slots", self.episode_slots, 1, 1_000_000, integer=True)
        check_interval("deadline_s", self.deadline_s, 1e-3, 3600.0)
        check_range("penalty_weight", self.penalty_weight, 0.0, 1e6)
        check_range("device_speed_factor", self.device_speed_factor, 1e-3, 1e3)
        check_range("device_clock_hz", self.device_clock_hz, 1e6, 1e11)
        check_range("energy_coefficient", self.energy_coefficient, 0.0, 1e-20)
        check_range("energy_budget_j", self.energy_budget_j, 1e-6, 1e12)
        check_range("outage_cost_s", self.outage_cost_s, 0.0, 1e6)
        check_interval("server_speed_factor", self.server_speed_factor, 1e-3, 1e3)
        if self.background_load != 0:
            check_range("background_load", self.background_load, 1e-30, 0.95)
        check_range("background_step", self.background_step, 0.0, 1.0)
        check_range("tx_power_w", self.tx_power_w, 1e-6, 100.0)
        check_range("bandwidth_hz", self.bandwidth_hz, 1e3, 1e10)
        check_range("noise_psd_w_per_hz", self.noise_psd_w_per_hz, 1e-25, 1e-10)
        check_range("carrier_hz", self.carrier_hz, 1e8, 1e11)
        check_range("path_loss_exponent", self.path_loss_exponent, 1.5, 6.0)
        check_interval("rate_range_bps", self.rate_range_bps, 1e3, 1e12)
        check_range("wired_rate_bps", self.wired_rate_bps, 1e3, 1e12)
        check_range("coverage_m", self.coverage_m, 1.0, 1e5)
        check_range("area_m", self.area_m, 1.0, 1e6)
        check_interval("walk_speed_mps", self.walk_speed_mps, 0.0, 100.0)
        if 0.0 == self.walk_speed_mps[0] < self.walk_speed_mps[1]:
            raise ValueError(f"walk_speed_mps must be (0, 0) (still) or have lo > 0, got {self.walk_speed_mps!r}")
        for name in ("poisson_tasks", "fading", "contention_free"):
            check_bool(name, getattr(self, name))
        for name in ("local_profile", "edge_profile"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be 'cpu', 'gpu' or a profile file path, got {getattr(self, name)!r}")


CONTENTION_FREE = EdgePartitionConfig(contention_free=True)
"""The contention-free scenario at the default sizes: ``gym.make("EdgePartition-v0", contention_free=True)``."""
