"""Radio link model: power units, path loss, Rayleigh fading and the Shannon rate.

SI units throughout (m, Hz, W, bit/s); every function broadcasts over numpy arrays. Logarithms and powers
go through ``edge_envs.libm``, so the same inputs give the same bits on every x86-64 CPU.
The noise term is a power spectral density N0 (W/Hz), so the SNR is ``P h / (N0 B)``
(ERRATA, the SM3FL paper Eq. (4) and the TMC 2024 paper Eq. (5)).
"""

from __future__ import annotations

import math

import numpy as np

from edge_envs import libm

SPEED_OF_LIGHT_MPS = 299_792_458.0
LN2 = math.log(2.0)


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
    return libm.pow10((np.asarray(dbm, dtype=float) - 30.0) / 10.0)


def winner2_c2_path_loss_db(distance_m, carrier_hz=2.1e9, bs_height_m=25.0):
    """WINNER II urban macro-cell (scenario C2), NLOS path loss in dB.

    ``PL = (44.9 - 6.55 log10(h_BS)) log10(d) + 34.46 + 5.83 log10(h_BS) + 23 log10(f_c / 5)``
    with d in m and f_c in GHz: IST-4-027756 WINNER II, Deliverable D1.1.2 v1.2,
    "WINNER II Channel Models" (2007), Table 4-4, row C2 NLOS. The table states validity for
    50 m < d < 5 km, f_c 2-6 GHz, h_BS = 25 m and h_MS = 1.5 m (the mobile's height does not
    enter the NLOS formula); outside that range the formula is extrapolated, not clipped
    (the SM3FL paper's 10 km x 10 km area needs distances past 5 km). Shadowing is not included.
    """
    d = _positive("distance_m", distance_m)
    slope, offset, height, frequency = winner2_c2_terms(carrier_hz, bs_height_m)
    return slope * libm.log10(d) + offset + height + frequency


def winner2_c2_terms(carrier_hz=2.1e9, bs_height_m=25.0) -> tuple:
    """:func:`winner2_c2_path_loss_db` as ``slope log10(d) + offset + height + frequency``, added in that
    order: (slope, offset, height, frequency) = (44.9 - 6.55 log10(h_BS), 34.46, 5.83 log10(h_BS),
    23 log10(f_c / 5)), the terms that do not depend on the distance (compiled code reuses them)."""
    f_ghz = _positive("carrier_hz", carrier_hz) / 1e9
    log_h = libm.log10(_positive("bs_height_m", bs_height_m))
    return 44.9 - 6.55 * log_h, 34.46, 5.83 * log_h, 23.0 * libm.log10(f_ghz / 5.0)


def free_space_path_loss_db(distance_m, carrier_hz=2.1e9):
    """Friis free-space loss ``20 log10(4 pi d f / c)`` in dB."""
    d = _positive("distance_m", distance_m)
    f = _positive("carrier_hz", carrier_hz)
    return 20.0 * libm.log10(4.0 * np.pi * d * f / SPEED_OF_LIGHT_MPS)


def log_distance_path_loss_db(distance_m, exponent=3.5, ref_distance_m=1.0, ref_loss_db=None, carrier_hz=2.1e9):
    """Log-distance path loss ``PL(d0) + 10 n log10(d / d0)`` in dB.

    ``ref_loss_db`` defaults to the free-space loss at ``ref_distance_m`` for ``carrier_hz``.
    The default exponent 3.5 is the top of the urban cellular range 2.7-3.5 in Rappaport,
    "Wireless Communications" (2nd ed.), Table 4.2.
    """
    d = _positive("distance_m", distance_m)
    loss0, slope, d0 = log_distance_terms(exponent, ref_distance_m, ref_loss_db, carrier_hz)
    return loss0 + slope * libm.log10(d / d0)


def log_distance_terms(exponent=3.5, ref_distance_m=1.0, ref_loss_db=None, carrier_hz=2.1e9) -> tuple:
    """:func:`log_distance_path_loss_db` as ``loss0 + slope log10(d / d0)``: (loss0, slope = 10 n, d0), the
    terms that do not depend on the distance (compiled code reuses them)."""
    n = _positive("exponent", exponent)
    d0 = _positive("ref_distance_m", ref_distance_m)
    loss0 = free_space_path_loss_db(d0, carrier_hz) if ref_loss_db is None else np.asarray(ref_loss_db, float)
    return loss0, 10.0 * n, d0


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
    gain = libm.pow10(-np.asarray(path_loss_db(distance_m, model, **params)) / 10.0)
    if fading and rng is not None:
        gain = gain * rayleigh_fading(rng, size=np.shape(gain))
    return gain


def shannon_rate(bandwidth_hz, tx_power_w, gain, noise_psd_w_per_hz):
    """Achievable rate in bit/s: ``B log2(1 + P h / (N0 B))`` (ERRATA: N0 is a density, W/Hz).

    Computed as ``B log1p(SNR) / ln 2``: ``log2(1 + SNR)`` rounds ``1 + SNR`` first, which loses every digit
    of an SNR below 1e-16 (a rate of exactly 0, so infinite upload times) and most digits near it.
    """
    b = _positive("bandwidth_hz", bandwidth_hz)
    p = _non_negative("tx_power_w", tx_power_w)
    h = _non_negative("gain", gain)
    n0 = _positive("noise_psd_w_per_hz", noise_psd_w_per_hz)
    return b * libm.log1p(p * h / (n0 * b)) / LN2
