"""Radio link model: power units, path loss, Rayleigh fading and the Shannon rate.

SI units throughout (m, Hz, W, bit/s); every function broadcasts over numpy arrays.
The noise term is a power spectral density N0 (W/Hz), so the SNR is ``P h / (N0 B)``
(ERRATA, seed 000 Eq. (4) and seed 002 Eq. (5)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPEED_OF_LIGHT_MPS = 299_792_458.0


def _positive(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(arr > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


def _non_negative(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(arr >= 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return arr


def dbm_to_watt(dbm):
    """Power in dBm -> W: ``10 ** ((dbm - 30) / 10)``."""
    return 10.0 ** ((np.asarray(dbm, dtype=float) - 30.0) / 10.0)


def watt_to_dbm(watt):
    """Power in W (> 0) -> dBm: ``10 log10(watt) + 30``."""
    return 10.0 * np.log10(_positive("watt", watt)) + 30.0


def winner2_c2_path_loss_db(distance_m, carrier_hz=2.1e9, bs_height_m=25.0):
    """WINNER II urban macro-cell (scenario C2), NLOS path loss in dB.

    ``PL = (44.9 - 6.55 log10(h_BS)) log10(d) + 34.46 + 5.83 log10(h_BS) + 23 log10(f_c / 5)``
    with d in m and f_c in GHz: IST-4-027756 WINNER II, Deliverable D1.1.2 v1.2,
    "WINNER II Channel Models" (2007), Table 4-4, row C2 NLOS. The table states validity for
    50 m < d < 5 km, f_c 2-6 GHz, h_BS = 25 m and h_MS = 1.5 m (the mobile's height does not
    enter the NLOS formula); outside that range the formula is extrapolated, not clipped
    (seed 000's 10 km x 10 km area needs distances past 5 km). Shadowing is not included.
    """
    d = _positive("distance_m", distance_m)
    f_ghz = _positive("carrier_hz", carrier_hz) / 1e9
    log_h = np.log10(_positive("bs_height_m", bs_height_m))
    return (44.9 - 6.55 * log_h) * np.log10(d) + 34.46 + 5.83 * log_h + 23.0 * np.log10(f_ghz / 5.0)


def free_space_path_loss_db(distance_m, carrier_hz=2.1e9):
    """Friis free-space loss ``20 log10(4 pi d f / c)`` in dB."""
    d = _positive("distance_m", distance_m)
    f = _positive("carrier_hz", carrier_hz)
    return 20.0 * np.log10(4.0 * np.pi * d * f / SPEED_OF_LIGHT_MPS)


def log_distance_path_loss_db(
    distance_m, exponent=3.5, ref_distance_m=1.0, ref_loss_db=None, carrier_hz=2.1e9
):
    """Log-distance path loss ``PL(d0) + 10 n log10(d / d0)`` in dB.

    ``ref_loss_db`` defaults to the free-space loss at ``ref_distance_m`` for ``carrier_hz``.
    The default exponent 3.5 is the top of the urban cellular range 2.7-3.5 in Rappaport,
    "Wireless Communications" (2nd ed.), Table 4.2.
    """
    d = _positive("distance_m", distance_m)
    n = _positive("exponent", exponent)
    d0 = _positive("ref_distance_m", ref_distance_m)
    loss0 = free_space_path_loss_db(d0, carrier_hz) if ref_loss_db is None else np.asarray(ref_loss_db, float)
    return loss0 + 10.0 * n * np.log10(d / d0)


PATH_LOSS_MODELS = {
    "winner2_c2": winner2_c2_path_loss_db,
    "log_distance": log_distance_path_loss_db,
}


def path_loss_db(distance_m, model="winner2_c2", **params):
    """Path loss in dB of the named model (``PATH_LOSS_MODELS``); ``params`` go to that model."""
    if model not in PATH_LOSS_MODELS:
        raise ValueError(f"model must be one of {sorted(PATH_LOSS_MODELS)}, got {model!r}")
    return PATH_LOSS_MODELS[model](distance_m, **params)


def rayleigh_fading(rng: np.random.Generator, size=None):
    """Rayleigh small-scale fading as a power gain |h|^2 ~ Exponential(1) (unit mean)."""
    return rng.exponential(1.0, size=size)


def channel_gain(distance_m, rng: np.random.Generator | None = None, model="winner2_c2", fading=True, **params):
    """Linear power gain: ``10^(-PL/10)``, times Rayleigh fading when ``fading`` and ``rng`` is given.

    Without ``rng`` (or with ``fading=False``) this is the mean gain, path loss only.
    """
    gain = 10.0 ** (-np.asarray(path_loss_db(distance_m, model, **params)) / 10.0)
    if fading and rng is not None:
        gain = gain * rayleigh_fading(rng, size=np.shape(gain))
    return gain


def shannon_rate(bandwidth_hz, tx_power_w, gain, noise_psd_w_per_hz):
    """Achievable rate in bit/s: ``B log2(1 + P h / (N0 B))`` (ERRATA: N0 is a density, W/Hz)."""
    b = _positive("bandwidth_hz", bandwidth_hz)
    p = _non_negative("tx_power_w", tx_power_w)
    h = _non_negative("gain", gain)
    n0 = _positive("noise_psd_w_per_hz", noise_psd_w_per_hz)
    return b * np.log2(1.0 + p * h / (n0 * b))


@dataclass(frozen=True)
class LinkBudget:
    """A device -> edge uplink: transmit power, bandwidth, carrier, noise density, path-loss model."""

    tx_power_dbm: float
    bandwidth_hz: float
    carrier_hz: float
    noise_psd_dbm_per_hz: float
    bs_height_m: float = 25.0

    def __post_init__(self):
        for name in ("bandwidth_hz", "carrier_hz", "bs_height_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")

    @property
    def tx_power_w(self) -> float:
        return float(dbm_to_watt(self.tx_power_dbm))

    @property
    def noise_psd_w_per_hz(self) -> float:
        return float(dbm_to_watt(self.noise_psd_dbm_per_hz))

    def rate(self, distance_m, rng: np.random.Generator | None = None):
        """Rate in bit/s at ``distance_m`` over the WINNER II C2 NLOS channel (faded if ``rng``)."""
        gain = channel_gain(distance_m, rng, "winner2_c2", carrier_hz=self.carrier_hz, bs_height_m=self.bs_height_m)
        return shannon_rate(self.bandwidth_hz, self.tx_power_w, gain, self.noise_psd_w_per_hz)


# Seed 000 (SM3FL), Section 6.1: 4G cellular, P_m = 23 dBm, B_m = 20 MHz at 2100 MHz,
# AWGN density 10^-14.7 mW/Hz = -147 dBm/Hz, WINNER II urban channel (C2 NLOS, h_BS = 25 m).
SM3FL_LINK = LinkBudget(tx_power_dbm=23.0, bandwidth_hz=20e6, carrier_hz=2.1e9, noise_psd_dbm_per_hz=-147.0)


@dataclass(frozen=True)
class CoverageLink:
    """Device -> edge link given directly as a rate range within a coverage radius."""

    coverage_radius_m: float
    rate_min_bps: float
    rate_max_bps: float

    def __post_init__(self):
        if not self.coverage_radius_m > 0:
            raise ValueError(f"coverage_radius_m must be > 0, got {self.coverage_radius_m!r}")
        if not 0 < self.rate_min_bps <= self.rate_max_bps:
            raise ValueError(
                f"rate_min_bps and rate_max_bps must satisfy 0 < min <= max, "
                f"got {self.rate_min_bps!r}, {self.rate_max_bps!r}"
            )

    def draw_rate(self, rng: np.random.Generator, size=None):
        """Rates in bit/s, uniform in [rate_min_bps, rate_max_bps]."""
        return rng.uniform(self.rate_min_bps, self.rate_max_bps, size=size)


# Seed 002, Section 5.1: each ES covers a radius of 750 m; device -> ES rate in [0.8, 2] MB/s,
# read as 10^6 bytes/s, i.e. [6.4, 16] Mbit/s.
EDGE_PARTITION_LINK = CoverageLink(coverage_radius_m=750.0, rate_min_bps=0.8e6 * 8, rate_max_bps=2e6 * 8)
