import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_envs.net import mobility
from edge_envs.net.mobility import _reflect


def _models(width, height, speed):
    return [
        mobility.RandomWaypoint((width, height), speed_range_mps=(speed / 4, speed), pause_s=1.0),
        mobility.GaussMarkov(
            (width, height), alpha=0.5, mean_speed_mps=speed, speed_std_mps=speed, direction_std_rad=1.0
        ),
        mobility.GaussMarkov((width, height), alpha=1.0, mean_speed_mps=speed, mean_direction_rad=0.3),
        mobility.RoadVehicles(width, lane_speeds_mps=(speed, -speed / 2), speed_std_mps=speed / 3, boundary="wrap"),
        mobility.RoadVehicles(width, lane_speeds_mps=(speed, -speed / 2), speed_std_mps=speed / 3, boundary="respawn"),
    ]


def _inside(positions, area):
    return np.all(positions >= 0) and np.all(positions <= area)


@settings(max_examples=25, deadline=None)
@given(
    width=st.floats(1.0, 1e4),
    height=st.floats(1.0, 1e4),
    speed=st.floats(0.1, 50.0),
    dt=st.floats(0.01, 500.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_mobility__positions_stay_inside_area(width, height, speed, dt, seed):
    rng = np.random.default_rng(seed)
    for model in _models(width, height, speed):
        positions = model.reset(20, rng)
        assert positions.shape == (20, 2) and _inside(positions, model.area)
        for _ in range(60):
            positions = model.step(dt, rng)
            assert _inside(positions, model.area), type(model).__name__


@pytest.mark.parametrize("index", range(5))
def test_mobility__same_seed_same_trajectory(index):
    def run(seed):
        model, rng = _models(500.0, 300.0, 5.0)[index], np.random.default_rng(seed)
        return np.stack([model.reset(30, rng)] + [model.step(2.0, rng) for _ in range(100)])

    np.testing.assert_array_equal(run(11), run(11))
    assert not np.array_equal(run(11), run(12))


def test_random_waypoint__moves_at_most_max_speed_and_reaches_waypoints():
    model, rng = mobility.RandomWaypoint(1000.0, speed_range_mps=(2.0, 4.0)), np.random.default_rng(0)
    previous = model.reset(50, rng)
    first_waypoints = model.waypoints.copy()
    for _ in range(1000):
        positions = model.step(1.0, rng)
        assert np.all(np.linalg.norm(positions - previous, axis=1) <= 4.0 + 1e-9)
        previous = positions
    assert not np.any(np.all(model.waypoints == first_waypoints, axis=1))  # every node drew a new leg


def test_random_waypoint__hand_computed_walk_and_arrival():
    """A node 5 m from its waypoint at 1 m/s: 2 s take it 2/5 of the way; 10 s more land it on the waypoint, where
    it draws the next leg from the Generator (uniform waypoint, then speed: the draws of a fresh copy of it)."""
    model, rng = mobility.RandomWaypoint(100.0, speed_range_mps=(1.0, 1.0)), np.random.default_rng(0)
    model.reset(1, rng)
    model._positions[:], model.waypoints[:] = [[10.0, 20.0]], [[13.0, 24.0]]
    np.testing.assert_array_equal(model.step(2.0, rng), [[10.0 + 0.4 * 3.0, 20.0 + 0.4 * 4.0]])
    after = np.random.default_rng(0)
    after.bit_generator.state = rng.bit_generator.state
    np.testing.assert_array_equal(model.step(10.0, rng), [[13.0, 24.0]])
    np.testing.assert_array_equal(model.waypoints, after.uniform(0.0, 100.0, size=(1, 2)))


def test_random_waypoint__pauses_at_waypoint():
    model, rng = mobility.RandomWaypoint(10.0, speed_range_mps=(1e3, 1e3), pause_s=3.0), np.random.default_rng(0)
    model.reset(5, rng)
    arrived = model.step(1.0, rng)  # fast enough to arrive within one step
    for _ in range(3):  # 3 s of pause; the last of these steps draws the new legs
        np.testing.assert_array_equal(model.step(1.0, rng), arrived)
    assert np.all(np.linalg.norm(model.step(1.0, rng) - arrived, axis=1) > 0)


def test_gauss_markov__full_memory_moves_in_a_straight_line():
    model, rng = mobility.GaussMarkov(1e6, alpha=1.0, mean_speed_mps=3.0), np.random.default_rng(0)
    start = model.reset(10, rng)
    directions = model.directions.copy()
    after = model.step(2.0, rng)
    expected = start + 6.0 * np.stack([np.cos(directions), np.sin(directions)], axis=1)
    np.testing.assert_allclose(after, expected, atol=1e-9)


def test_gauss_markov__speed_reverts_to_mean():
    model = mobility.GaussMarkov(1e4, alpha=0.8, mean_speed_mps=5.0, speed_std_mps=1.0)
    rng = np.random.default_rng(0)
    model.reset(2000, rng)
    model.speeds[:] = 20.0
    for _ in range(60):
        model.step(1.0, rng)
    assert model.speeds.mean() == pytest.approx(5.0, abs=0.1)
    assert model.speeds.std() == pytest.approx(1.0, abs=0.1)  # stationary std = speed_std_mps


def test_reflect__folds_back_like_a_billiard_ball():
    size = np.array([10.0, 10.0])
    folded, flipped = _reflect(np.array([[-1.0, 12.0], [25.0, 10.0]]), size)
    np.testing.assert_allclose(folded, [[1.0, 8.0], [5.0, 10.0]])
    np.testing.assert_array_equal(flipped, [[True, True], [False, True]])


def test_road_vehicles__wrap_keeps_lane_and_advances():
    model = mobility.RoadVehicles(100.0, lane_speeds_mps=(10.0, -5.0), lane_width_m=4.0)
    rng = np.random.default_rng(0)
    start = model.reset(40, rng)
    assert set(np.unique(start[:, 1])) <= {2.0, 6.0}
    after = model.step(3.0, rng)
    speed = np.where(start[:, 1] == 2.0, 10.0, -5.0)
    np.testing.assert_allclose(after[:, 0], np.mod(start[:, 0] + speed * 3.0, 100.0))
    np.testing.assert_array_equal(after[:, 1], start[:, 1])
    assert not model.entered.any()


def test_road_vehicles__respawn_enters_new_vehicle_at_road_start():
    model = mobility.RoadVehicles(100.0, lane_speeds_mps=(10.0,), boundary="respawn")
    rng = np.random.default_rng(0)
    start = model.reset(50, rng)
    after = model.step(1.0, rng)
    leaving = start[:, 0] + 10.0 > 100.0
    assert leaving.any()
    np.testing.assert_array_equal(model.entered, leaving)
    np.testing.assert_allclose(after[leaving, 0], 0.0)
    np.testing.assert_allclose(after[~leaving, 0], start[~leaving, 0] + 10.0)


@pytest.mark.parametrize(
    "factory, name",
    [
        (lambda: mobility.RandomWaypoint(100.0, speed_range_mps=(0.0, 1.0)), "speed_range_mps"),
        (lambda: mobility.RandomWaypoint(100.0, pause_s=-1.0), "pause_s"),
        (lambda: mobility.RandomWaypoint(0.0), "area_m"),
        (lambda: mobility.GaussMarkov(100.0, alpha=1.5), "alpha"),
        (lambda: mobility.GaussMarkov(100.0, speed_std_mps=-1.0), "speed_std_mps"),
        (lambda: mobility.RoadVehicles(-5.0), "road_length_m"),
        (lambda: mobility.RoadVehicles(lane_speeds_mps=()), "lane_speeds_mps"),
        (lambda: mobility.RoadVehicles(boundary="bounce"), "boundary"),
    ],
)
def test_mobility__bad_parameters_raise_naming_argument(factory, name):
    with pytest.raises(ValueError, match=name):
        factory()


def test_mobility__bad_step_and_use_before_reset_raise():
    model, rng = mobility.GaussMarkov(100.0), np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="reset"):
        model.positions
    model.reset(3, rng)
    with pytest.raises(ValueError, match="dt_s"):
        model.step(0.0, rng)
    with pytest.raises(ValueError, match="n must"):
        model.reset(-1, rng)


def test_random_waypoint__legs_are_the_uniform_draws_bit_for_bit():
    model = mobility.RandomWaypoint((300.0, 200.0), speed_range_mps=(1.0, 10.0))
    model.reset(7, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    rng.uniform(0.0, model.area, size=(7, 2))  # the positions
    assert model.waypoints.tolist() == rng.uniform(0.0, model.area, size=(7, 2)).tolist()
    assert model.speeds.tolist() == rng.uniform(1.0, 10.0, size=7).tolist()
