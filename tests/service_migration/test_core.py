"""The SM3FL paper's time model (Eqs. 3-6) and Algorithm 1's quantities (Eqs. 19, 28a-32), corrected per ERRATA."""

import math

import numpy as np
import pytest

from edge_envs.service_migration import Modality, ServiceMigrationConfig, core
from edge_envs.service_migration.generator import Instance

P_W = 10 ** (23 / 10) / 1000  # 23 dBm
N0_W_PER_HZ = 10**-17.7  # 10^-14.7 mW/Hz
PL_1KM_DB = 141.175204  # WINNER II C2 NLOS at 1 km, 2.1 GHz, h_BS = 25 m (hand value, tests/net)


def small_config(**overrides):
    params = dict(
        area_m=4000.0,
        edge_positions_m=((1000.0, 1000.0), (2000.0, 1000.0), (3000.0, 1000.0)),
        num_devices=2,
        mobility="static",
        num_samples=100,
        epochs=5,
        backend="bound",
        modalities=(
            Modality("a", sample_bits=1e6, params=1_000_000, density_cycles=1000.0),
            Modality("b", sample_bits=2e5, params=250_000, density_cycles=3000.0),
        ),
    )
    params.update(overrides)
    return ServiceMigrationConfig(**params)


def test_migration_times__eq3_hand_computed():
    cfg = small_config()
    # modality a on edge 0 moving to edge 1 (1000 m): 4e6 bytes * log2(1 + 1000/3000) / 12.5e6 bytes/s
    # log2(4/3) = 0.4150375 -> 0.1328120 s; b (1e6 bytes) from edge 2 to edge 0 (2000 m): log2(5/3) = 0.7369656
    t = core.migration_times(cfg, current_edges=[0, 2])
    assert t[1, 0] == pytest.approx(4e6 * 0.4150375 / 12.5e6, rel=1e-6)
    assert t[1, 0] == pytest.approx(0.1328120, rel=1e-6)
    assert t[0, 1] == pytest.approx(1e6 * 0.7369656 / 12.5e6, rel=1e-6)
    assert t[0, 0] == 0.0 and t[2, 1] == 0.0  # staying costs nothing


def test_uplink_rates__eq4_noise_as_a_density_and_as_printed():
    rate = core.uplink_rates(small_config(noise_reading="density"), np.array([[1000.0, 2000.0]]))[0, 0]  # 1 km
    snr = P_W * 10 ** (-PL_1KM_DB / 10) / (N0_W_PER_HZ * 20e6)  # ERRATA: P h / (N0 B)
    assert rate == pytest.approx(20e6 * math.log2(1 + snr), rel=1e-6)
    assert rate == pytest.approx(1101.0, rel=1e-3)
    printed = core.uplink_rates(small_config(), np.array([[1000.0, 2000.0]]))[0, 0]  # the default reading
    assert printed == pytest.approx(20e6 * math.log2(1 + P_W * 10 ** (-PL_1KM_DB / 10) / N0_W_PER_HZ), rel=1e-6)
    assert printed > 1e5 * rate


def test_round_times__eqs3_to_6_hand_computed():
    cfg = small_config()
    # devices 1 km and 0.1 km from edge 0; modality a moves edge 2 -> 0 (2 km), b stays on edge 1
    devices = np.array([[1000.0, 2000.0], [1000.0, 1100.0]])
    rates = core.uplink_rates(cfg, devices)
    capability = np.array([2e6, 1e6, 4e6])
    costs = core.pair_costs(cfg, [2, 1], rates.min(axis=0), capability)
    times = core.round_times(costs, [0, 1], rho=0.05)
    r_far = rates[0, 0]
    assert rates[1, 0] > r_far
    # Eq. (3): a moved 2000 m: 4e6 bytes * log2(1 + 2000/3000) / 12.5e6 bytes/s = 4e6 * 0.7369656 / 12.5e6
    np.testing.assert_allclose(times.migration, [0.2358290, 0.0], rtol=1e-6)
    # Eq. (4)-(5): the slowest device, rho S q_k / rate: 0.05 * 100 * 1e6 / r_far for a
    assert times.upload[0] == pytest.approx(5e6 / r_far, rel=1e-12)
    assert times.upload[1] == pytest.approx(0.05 * 100 * 2e5 / rates[:, 1].min(), rel=1e-12)
    # Eq. (6), ERRATA (S kept): rho E M S theta / xi = 0.05 * 5 * 2 * 100 * 1000 / 2e6 = 0.025 s for a;
    # b: 0.05 * 5 * 2 * 100 * 3000 / 1e6 = 0.15 s
    np.testing.assert_allclose(times.compute, [0.025, 0.15], rtol=1e-12)
    np.testing.assert_allclose(times.communication, times.migration + times.upload)
    # the round lasts as long as the slowest modality, here a (b's slowest device is 1.41 km away but
    # uploads 1e6 bits instead of 5e6)
    assert times.total[0] > times.total[1]
    assert times.round_time == pytest.approx(0.2358290 + 5e6 / r_far + 0.025, rel=1e-6)


def test_horizontal_round_times__hand_computed():
    cfg = small_config(server_position_m=(2000.0, 2000.0))
    devices = np.array([[1000.0, 2000.0], [3000.0, 1100.0]])  # nearest edges 0 and 2
    state = core.State(
        cfg=cfg,
        round=0,
        edges=np.array([0, 1]),
        device_positions=devices,
        capability=np.array([2e6, 1e6, 4e6]),
        slowest_rates=core.slowest_rates(cfg, devices),
        rates=core.uplink_rates(cfg, devices),
        wall_clock=0.0,
        communication_cost=0.0,
        computation_cost=0.0,
        mobility=None,
        learner=None,
        edge_rng=None,
    )
    times = core.horizontal_round_times(cfg, state, rho=0.05)
    # model exchange both ways: 5e6 bytes over sqrt(2) km: 2 * 5e6 * log2(1 + 1414.2136/3000) / 12.5e6
    exchange = 2 * 5e6 * math.log2(1 + math.sqrt(2) * 1000 / 3000) / 12.5e6
    np.testing.assert_allclose(times.migration, [exchange, 0.0, exchange])
    # uploads carry q_a + q_b = 1.2e6 bits per sample
    assert times.upload[0] == pytest.approx(0.05 * 100 * 1.2e6 / state.rates[0, 0])
    assert times.upload[1] == 0.0
    # one device per active edge, both modalities' densities: 0.05 * 5 * 1 * 100 * 4000 / xi
    np.testing.assert_allclose(times.compute, [0.05, 0.0, 0.025])


def test_round_duration__shared_schedule_serialises_fedavg_communication():
    times = core.RoundTimes(np.array([1.0, 0.0, 2.0]), np.array([0.5, 0.0, 0.25]), np.array([3.0, 0.0, 4.0]))
    # parallel: the slowest edge, 2 + 0.25 + 4; shared: (1 + 0.5) + (2 + 0.25) in turn, then max(3, 4)
    assert core.round_duration(small_config(framework="horizontal"), times) == 6.25
    assert core.round_duration(small_config(framework="horizontal", horizontal_schedule="shared"), times) == 7.75
    # split learning ignores the option: its modalities always run side by side
    assert core.round_duration(small_config(horizontal_schedule="shared"), times) == 6.25


def test_transition__shared_schedule_costs_what_round_duration_says():
    cfg = small_config(framework="horizontal", horizontal_schedule="shared", server_position_m=(2000.0, 2000.0))
    instance = Instance("hand", initial_edges=(0, 1), device_positions=((1000.0, 2000.0), (3000.0, 1100.0)))
    state = core.initial(cfg, instance, np.random.default_rng(0))
    times = core.horizontal_round_times(cfg, state, rho=0.05)
    new_state, outcome = core.transition(state, (state.edges, 0.05), np.random.default_rng(1))
    expected = times.communication.sum() + times.compute.max()
    assert outcome.round_time == pytest.approx(expected, rel=1e-12) and outcome.round_time > times.round_time
    assert new_state.wall_clock == pytest.approx(expected, rel=1e-12)


def test_uplink_rates__device_on_an_edge_counts_as_one_metre():
    cfg = small_config()
    rates = core.uplink_rates(cfg, np.array([[1000.0, 1000.0]]))
    assert np.isfinite(rates[0, 0]) and rates[0, 0] == pytest.approx(
        core.uplink_rates(cfg, np.array([[1001.0, 1000.0]]))[0, 0]
    )


def test_rounds_to_target__eq19_normalised():
    # beta rho / (rho - alpha): 100 * 0.04 / 0.02 = 200; infinite at or below alpha
    np.testing.assert_allclose(
        core.rounds_to_target([0.04, 0.044, 0.02, 0.01], 0.02, 100.0), [200.0, 100 * 0.044 / 0.024, np.inf, np.inf]
    )


@pytest.mark.parametrize("seed", range(5))
def test_optimal_rho__eq31_minimises_corrected_eq28a(seed):
    rng = np.random.default_rng(seed)
    alpha, beta = 0.02, 100.0
    psi_v, psi_s = rng.uniform(1, 1e3), rng.uniform(0, 50)
    rho = np.linspace(alpha + 1e-6, 1.0, 400_001)
    numeric = rho[np.argmin(core.estimated_wallclock(rho, psi_v, psi_s, alpha, beta))]
    closed = core.optimal_rho(psi_v, psi_s, alpha)
    assert closed == pytest.approx(numeric, abs=5e-6)
    # the printed Eq. (28a), beta rho^2 (Psi_v + Psi_s) / (rho - alpha), has its minimum at 2 alpha whatever Psi_s
    printed = beta * rho**2 * (psi_v + psi_s) / (rho - alpha)
    assert rho[np.argmin(printed)] == pytest.approx(2 * alpha, abs=5e-6)
    if psi_s > 1e-3 * psi_v:
        assert abs(closed - 2 * alpha) > 1e-5


def test_optimal_rho__without_migration_is_two_alpha_so_mfl_nsm_gains_under_one_percent_on_fedbcd():
    # Psi_s = 0 (no migration: MFL-NSM, FedBCD): Eq. (31) gives rho* = alpha + sqrt(alpha^2) = 2 alpha whatever Psi_v,
    # and Eq. (28a) at FedBCD's 0.044 over its value at 0.04 is 0.044^2 / (4 * 0.02 * 0.024) = 1.0083 (hand value):
    # adaptive rho alone can save at most 0.83% of FedBCD's wall-clock (the paper's Table 2: 8.8%)
    alpha, beta = 0.02, 100.0
    psi_v = np.array([3.0, 40.0, 2e3])
    np.testing.assert_allclose(core.optimal_rho(psi_v, 0.0, alpha), 2 * alpha)
    fedbcd = core.estimated_wallclock(0.044, psi_v, 0.0, alpha, beta)
    nsm = core.estimated_wallclock(2 * alpha, psi_v, 0.0, alpha, beta)
    np.testing.assert_allclose(fedbcd / nsm, 0.001936 / 0.00192)


def test_estimated_wallclock__derivative_is_printed_eq29():
    alpha, beta, psi_v, psi_s = 0.02, 100.0, 37.0, 4.0
    rho, h = 0.07, 1e-7
    numeric = (
        core.estimated_wallclock(rho + h, psi_v, psi_s, alpha, beta)
        - core.estimated_wallclock(rho - h, psi_v, psi_s, alpha, beta)
    ) / (2 * h)
    eq29 = beta * (psi_v * rho**2 - 2 * alpha * psi_v * rho - alpha * psi_s) / (rho - alpha) ** 2
    assert numeric == pytest.approx(eq29, rel=1e-6)


def test_preference_matrix__corrected_eq32_is_the_minimum_of_eq28a():
    rng = np.random.default_rng(3)
    alpha, beta = 0.02, 100.0
    psi_v, psi_s = rng.uniform(1, 500, size=(8, 3)), rng.uniform(0, 20, size=(8, 3))
    rho = core.optimal_rho(psi_v, psi_s, alpha)
    pref = core.preference_matrix(psi_v, psi_s, alpha, beta)
    np.testing.assert_allclose(pref, core.estimated_wallclock(rho, psi_v, psi_s, alpha, beta), rtol=1e-10)
    np.testing.assert_allclose(pref, beta * psi_v * rho**2 / alpha, rtol=1e-10)


def test_draw_capability__default_spread_is_a_tenth_of_the_printed_one():
    cfg = ServiceMigrationConfig(backend="bound")
    xi = np.concatenate([core.draw_capability(cfg, np.random.default_rng(s)) for s in range(500)])
    assert xi.mean() == pytest.approx(1e6, rel=0.02) and xi.std() == pytest.approx(3e5, rel=0.05)


def test_draw_capability__truncated_at_the_minimum():
    cfg = ServiceMigrationConfig(backend="bound", capability_std_hz=3e6)  # the paper's printed spread
    rng = np.random.default_rng(0)
    xi = np.concatenate([core.draw_capability(cfg, rng) for _ in range(5000)])
    assert xi.min() >= cfg.capability_min_hz
    # N(1e6, 3e6) truncated below 1e5: mean 1e6 + 3e6 phi(-0.3) / (1 - Phi(-0.3)) = 2.85e6
    assert xi.mean() == pytest.approx(2.85e6, rel=0.03)


def test_resolve_edges__error_names_the_shared_edge():
    cfg = ServiceMigrationConfig(backend="bound", on_conflict="error")
    with pytest.raises(ValueError, match=r"Eq\. \(20b\).*3.*text.*vision"):
        core.resolve_edges(cfg, [3, 5, 3])
    edges, repaired = core.resolve_edges(cfg, [3, 5, 1])
    assert edges.tolist() == [3, 5, 1] and not repaired


def test_resolve_edges__repair_gives_the_nearest_free_edge():
    cfg = ServiceMigrationConfig(backend="bound")  # grid: 0 (2.5,2.5) 1 (5,2.5) 2 (7.5,2.5) 3 (2.5,5) ...
    # all three ask for edge 0: text keeps it; acoustic gets edge 1 (2.5 km, tied with 3, lower index);
    # vision gets edge 3 (2.5 km)
    edges, repaired = core.resolve_edges(cfg, [0, 0, 0])
    assert repaired and edges.tolist() == [0, 1, 3]


def test_resolve_edges__repair_never_shares_an_edge():
    cfg = ServiceMigrationConfig(backend="bound")
    rng = np.random.default_rng(0)
    for _ in range(300):
        edges, _ = core.resolve_edges(cfg, rng.integers(cfg.num_edges, size=3))
        assert len(set(edges.tolist())) == 3


def test_uplink_rates__fading_is_seeded_and_unit_mean():
    cfg = small_config(fading=True, noise_reading="density")
    devices = np.array([[1000.0, 2000.0]] * 20000)
    a = core.uplink_rates(cfg, devices, np.random.default_rng(0))
    np.testing.assert_array_equal(a, core.uplink_rates(cfg, devices, np.random.default_rng(0)))
    plain = core.uplink_rates(small_config(noise_reading="density"), devices[:1])[0]
    # low SNR: the rate is about linear in the gain, and the Rayleigh power gain has mean 1
    np.testing.assert_allclose(a.mean(axis=0) / plain, 1.0, rtol=0.03)


def test_optimal_rho_and_preference__compiled_ufuncs_give_the_formulas_numpy_bits():
    rng = np.random.default_rng(0)
    psi_v, psi_s = rng.uniform(1e-3, 1e3, size=(2, 40, 8, 3))
    for alpha in (0.02, 0.037, 0.3):
        rho = alpha + np.sqrt((alpha**2 * psi_v + alpha * psi_s) / psi_v)  # Eq. (31) in numpy
        assert core.optimal_rho(psi_v, psi_s, alpha).tolist() == rho.tolist()
        assert (
            core.preference_matrix(psi_v, psi_s, alpha, 100.0).tolist()
            == (100.0 * (psi_s + 2.0 * rho * psi_v)).tolist()
        )
    assert core.optimal_rho(4.0, 0.0, 0.25) == 0.25 + np.sqrt(0.25**2)  # scalars too: Psi^s = 0 gives 2 alpha
