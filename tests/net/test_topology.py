import numpy as np
import pytest

from edge_envs.net import topology


def test_grid_servers__seed000_eight_edges_without_centre():
    servers = topology.grid_servers(topology.SM3FL_AREA_M, topology.SM3FL_EDGE_SPACING_M, exclude_centre=True)
    expected = {(x, y) for x in (2500.0, 5000.0, 7500.0) for y in (2500.0, 5000.0, 7500.0)} - {(5000.0, 5000.0)}
    assert servers.shape == (8, 2) and servers.dtype == float
    assert {tuple(p) for p in servers} == expected


def test_grid_servers__rectangular_area_and_centre_kept_by_default():
    assert {tuple(p) for p in topology.grid_servers((10_000, 5_000), 2_500)} == {
        (2500.0, 2500.0),
        (5000.0, 2500.0),
        (7500.0, 2500.0),
    }
    assert len(topology.grid_servers(10_000, 2_500)) == 9
    assert len(topology.grid_servers(1.0, 0.1)) == 81  # 0.1 .. 0.9, robust to float round-off


def test_grid_counts__count_the_grid_without_building_it():
    for area, spacing in ((10_000, 2_500), ((10_000, 5_000), 2_500), (1.0, 0.1), (1_000, 300)):
        assert np.prod(topology.grid_counts(area, spacing)) == len(topology.grid_servers(area, spacing))
    assert np.prod(topology.grid_counts(1e6, 1.0), dtype=float) == 999_999.0**2  # a 10^12-point grid, not built


def test_grid_servers__bad_input_raises():
    with pytest.raises(ValueError, match="spacing_m"):
        topology.grid_servers(1000, 0)
    with pytest.raises(ValueError, match="area_m"):
        topology.grid_servers(-1000, 100)
    with pytest.raises(ValueError, match="no grid point"):
        topology.grid_servers(1000, 1000)


def test_distances__hand_computed_and_batched():
    points = np.array([[0.0, 0.0], [3.0, 4.0]])
    servers = np.array([[0.0, 0.0], [6.0, 8.0], [3.0, 0.0]])
    np.testing.assert_allclose(topology.distances(points, servers), [[0.0, 10.0, 3.0], [5.0, 5.0, 4.0]])
    batch = topology.distances(np.stack([points, points + 1.0]), np.stack([servers, servers + 1.0]))
    assert batch.shape == (2, 2, 3)
    np.testing.assert_allclose(batch[1], batch[0])
    with pytest.raises(ValueError, match="points and servers"):
        topology.distances(np.zeros((2, 3)), servers)


def test_nearest_server__lowest_index_on_ties():
    servers = np.array([[0.0, 0.0], [1000.0, 0.0]])
    points = np.array([[100.0, 0.0], [900.0, 0.0], [500.0, 750.0], [1750.0, 0.0]])
    np.testing.assert_array_equal(topology.nearest_server(points, servers), [0, 1, 0, 1])
