import numpy as np
import pytest

from edge_envs.net import channel


def test_dbm_to_watt__reference_points():
    assert channel.dbm_to_watt(30.0) == pytest.approx(1.0)
    assert channel.dbm_to_watt(0.0) == pytest.approx(1e-3)
    assert channel.dbm_to_watt(23.0) == pytest.approx(0.19952623, rel=1e-7)
    # The SM3FL paper Sec. 6.1: 10^-14.7 mW/Hz = -147 dBm/Hz = 10^-17.7 W/Hz
    assert channel.dbm_to_watt(-147.0) == pytest.approx(10**-17.7, rel=1e-12)


def test_winner2_c2__hand_computed_value_at_1km():
    # log10(25) = 1.3979400; (44.9 - 6.55*1.3979400) * 3 = 107.230479
    # 34.46 + 5.83*1.3979400 = 42.609991; 23*log10(2.1/5) = -8.665266  ->  141.175204 dB
    assert channel.path_loss_db(1000.0) == pytest.approx(141.175204, abs=1e-5)
    assert channel.path_loss_db(1000.0, model="winner2_c2", carrier_hz=2.1e9, bs_height_m=25.0) == pytest.approx(
        141.175204, abs=1e-5
    )


@pytest.mark.parametrize("model", sorted(channel.PATH_LOSS_MODELS))
def test_path_loss_db__strictly_increasing_in_distance(model):
    d = np.geomspace(1.0, 20_000.0, 200)
    assert np.all(np.diff(channel.path_loss_db(d, model=model)) > 0)


def test_log_distance__hand_computed_values():
    # 40 dB at 1 m, exponent 3: 40 + 30*log10(100) = 100 dB at 100 m
    assert channel.path_loss_db(100.0, "log_distance", exponent=3.0, ref_loss_db=40.0) == pytest.approx(100.0)
    # default reference loss is free space at 1 m, 2.1 GHz: 20*log10(4*pi*2.1e9/c) = 38.8921 dB
    assert channel.path_loss_db(1.0, "log_distance") == pytest.approx(38.8921, abs=1e-4)


def test_rayleigh_fading__unit_mean_exponential_power():
    h = channel.rayleigh_fading(np.random.default_rng(0), size=400_000)
    assert np.all(h >= 0)
    assert h.mean() == pytest.approx(1.0, abs=0.01)
    assert h.var() == pytest.approx(1.0, abs=0.02)  # exponential: variance = mean^2


def test_channel_gain__mean_gain_without_rng_and_faded_mean_matches():
    d = np.array([100.0, 1000.0])
    mean_gain = channel.channel_gain(d)
    np.testing.assert_allclose(mean_gain, 10 ** (-channel.path_loss_db(d) / 10))
    faded = channel.channel_gain(np.tile(d, (100_000, 1)), np.random.default_rng(1))
    np.testing.assert_allclose(faded.mean(axis=0) / mean_gain, 1.0, atol=0.02)
    np.testing.assert_array_equal(channel.channel_gain(d, np.random.default_rng(1), fading=False), mean_gain)


def test_channel_gain__same_seed_same_draws():
    d = np.linspace(10.0, 5000.0, 50)
    a = channel.channel_gain(d, np.random.default_rng(7))
    b = channel.channel_gain(d, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, channel.channel_gain(d, np.random.default_rng(8)))


def test_shannon_rate__hand_computed_values():
    # SNR = 0.2 * 1e-10 / (4e-21 * 1e6) = 5000
    assert channel.shannon_rate(1e6, 0.2, 1e-10, 4e-21) == pytest.approx(1e6 * np.log2(5001.0), rel=1e-12)
    # SNR = 0.3 * 5e-13 / (5e-21 * 2e6) = 15 -> 2 MHz * log2(16) = 8 Mbit/s
    assert channel.shannon_rate(2e6, 0.3, 5e-13, 5e-21) == pytest.approx(8e6, rel=1e-12)


def test_shannon_rate__noise_is_a_density_errata_eq4():
    # ERRATA (the SM3FL paper Eq. 4, the TMC 2024 paper Eq. 5): noise power is N0 * B, so doubling B halves the SNR
    assert channel.shannon_rate(4e6, 0.3, 5e-13, 5e-21) == pytest.approx(4e6 * np.log2(1 + 7.5), rel=1e-12)


def test_shannon_rate__tiny_snr_keeps_its_digits():
    # issue 33: log2(1 + SNR) rounded 1 + 1e-20 to 1, a rate of exactly 0 and infinite uploads.
    # For small SNR, B log2(1 + SNR) = B SNR / ln 2 to within SNR / 2 relative.
    for snr in (1e-20, 1e-14, 1e-9):
        rate = channel.shannon_rate(1e9, 1.0, snr * 1e-21 * 1e9, 1e-21)
        assert rate == pytest.approx(1e9 * snr / np.log(2.0), rel=1e-12 + snr)


def test_shannon_rate__broadcasts():
    rates = channel.shannon_rate(np.array([[1e6], [2e6], [4e6]]), 0.2, np.array([1e-12, 1e-11, 1e-10, 1e-9]), 4e-21)
    assert rates.shape == (3, 4)
    assert np.all(np.diff(rates, axis=1) > 0)
    assert rates[1, 2] == pytest.approx(channel.shannon_rate(2e6, 0.2, 1e-10, 4e-21))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(bandwidth_hz=-1e6), "bandwidth_hz"),
        (dict(bandwidth_hz=0.0), "bandwidth_hz"),
        (dict(tx_power_w=-0.1), "tx_power_w"),
        (dict(gain=np.array([1e-10, -1e-10])), "gain"),
        (dict(noise_psd_w_per_hz=0.0), "noise_psd_w_per_hz"),
    ],
)
def test_shannon_rate__bad_input_raises_naming_argument(kwargs, name):
    args = dict(bandwidth_hz=1e6, tx_power_w=0.2, gain=1e-10, noise_psd_w_per_hz=4e-21) | kwargs
    with pytest.raises(ValueError, match=name):
        channel.shannon_rate(**args)


@pytest.mark.parametrize("model", sorted(channel.PATH_LOSS_MODELS))
@pytest.mark.parametrize("distance", [0.0, -5.0, np.array([10.0, 0.0]), np.nan])
def test_path_loss_db__non_positive_distance_raises(model, distance):
    with pytest.raises(ValueError, match="distance_m"):
        channel.path_loss_db(distance, model=model)


def test_path_loss_db__bad_parameters_raise():
    with pytest.raises(ValueError, match="model"):
        channel.path_loss_db(100.0, model="okumura")
    with pytest.raises(ValueError, match="carrier_hz"):
        channel.path_loss_db(100.0, carrier_hz=0.0)
    with pytest.raises(ValueError, match="bs_height_m"):
        channel.path_loss_db(100.0, bs_height_m=-25.0)
    with pytest.raises(ValueError, match="exponent"):
        channel.path_loss_db(100.0, "log_distance", exponent=0.0)
    with pytest.raises(ValueError, match="ref_distance_m"):
        channel.path_loss_db(100.0, "log_distance", ref_distance_m=0.0)
