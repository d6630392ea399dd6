"""Edge-server placements and point-to-server geometry.

An area is the rectangle [0, width] x [0, height] in metres; a scalar ``area_m`` means a square.
Geometry functions broadcast over leading batch axes: points (..., P, 2), servers (..., N, 2).
"""

from __future__ import annotations

import numpy as np

# The SM3FL paper, Section 6.1 / Fig. 5: a 10 km x 10 km area with 8 edges at
# (2.5, 2.5) km ... (7.5, 7.5) km, step 2.5 km, the centre point excluded.
SM3FL_AREA_M = 10_000.0
SM3FL_EDGE_SPACING_M = 2_500.0


def area_size(area_m) -> np.ndarray:
    """(width, height) in metres from a scalar (square) or a pair; both must be > 0."""
    size = np.broadcast_to(np.asarray(area_m, dtype=float), (2,)).copy()
    if not np.all(size > 0):
        raise ValueError(f"area_m must be > 0 (a side or a (width, height) pair), got {area_m!r}")
    return size


def grid_counts(area_m, spacing_m) -> np.ndarray:
    """(x, y) numbers of interior multiples of ``spacing_m`` along each side (tolerant to float round-off):
    the grid of :func:`grid_servers` has their product of points, computed here without building it."""
    size = area_size(area_m)
    if not spacing_m > 0:
        raise ValueError(f"spacing_m must be > 0, got {spacing_m!r}")
    return np.ceil(size / float(spacing_m) - 1e-9).astype(int) - 1


def grid_servers(area_m, spacing_m, exclude_centre=False) -> np.ndarray:
    """Servers on the interior grid points k * spacing (k >= 1) strictly inside the area.

    ``grid_servers(10_000, 2_500, exclude_centre=True)`` gives the SM3FL paper's 8 edges.
    Returns (N, 2), row-major in y then x.
    """
    size = area_size(area_m)
    counts = grid_counts(size, spacing_m)
    spacing_m = float(spacing_m)
    xs = spacing_m * np.arange(1, counts[0] + 1)
    ys = spacing_m * np.arange(1, counts[1] + 1)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    if exclude_centre:
        at_centre = np.all(np.isclose(grid, size / 2.0), axis=1)
        grid = grid[~at_centre]
    if len(grid) == 0:
        raise ValueError(f"spacing_m={spacing_m!r} leaves no grid point inside area_m={area_m!r}")
    return grid


def distances(points, servers) -> np.ndarray:
    """Euclidean distances (..., P, N) between points (..., P, 2) and servers (..., N, 2)."""
    points = np.asarray(points, dtype=float)
    servers = np.asarray(servers, dtype=float)
    if points.shape[-1:] != (2,) or servers.shape[-1:] != (2,):
        raise ValueError(f"points and servers must end in an axis of 2 (x, y), got {points.shape}, {servers.shape}")
    diff = points[..., :, None, :] - servers[..., None, :, :]
    dx, dy = diff[..., 0], diff[..., 1]
    return np.sqrt(dx * dx + dy * dy)  # np.sum over the (x, y) axis adds the same two squares, many times slower


def nearest_server(points, servers) -> np.ndarray:
    """Index (..., P) of each point's nearest server (lowest index on ties)."""
    return np.argmin(distances(points, servers), axis=-1)
