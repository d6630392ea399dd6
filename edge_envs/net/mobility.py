"""Mobility models for users and vehicles, batched over n nodes.

Every model has ``reset(n, rng) -> positions`` and ``step(dt_s, rng) -> positions`` with positions
an (n, 2) float array in metres (a copy: mutating it does not move the nodes). All randomness comes
from the Generator passed in, so the same seed gives the same trajectory bit for bit. Positions
always lie inside ``area`` = [0, width] x [0, height]; each class says how it keeps them there.
The seeds give no mobility parameters; the default speeds here are illustrative.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edge_envs import libm
from edge_envs.net.topology import area_size


def _count(n) -> int:
    if int(n) != n or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    return int(n)


def _duration(dt_s) -> float:
    if not dt_s > 0:
        raise ValueError(f"dt_s must be > 0, got {dt_s!r}")
    return float(dt_s)


def _reflect(coord: np.ndarray, size: np.ndarray):
    """Fold coordinates back into [0, size] as a billiard ball would; also say which flipped direction."""
    laps = np.floor(coord / size)
    inner = coord - laps * size
    flipped = laps % 2 != 0
    return np.clip(np.where(flipped, size - inner, inner), 0.0, size), flipped


class _Mobility:
    area: np.ndarray  # (width, height)
    _positions: np.ndarray | None = None

    @property
    def positions(self) -> np.ndarray:
        if self._positions is None:
            raise RuntimeError(f"{type(self).__name__}.reset(n, rng) must be called before use")
        return self._positions.copy()


class RandomWaypoint(_Mobility):
    """Random waypoint (Johnson and Maltz 1996; Camp, Boleng and Davies 2002).

    Each node walks in a straight line at a speed drawn uniform in ``speed_range_mps`` towards a
    waypoint drawn uniform in the area, pauses ``pause_s`` there, then draws the next waypoint and
    speed. A node reaching its waypoint mid-step stays there for the rest of the step. The area is
    convex and waypoints lie in it, so positions never leave it. Initial positions are uniform.
    """

    def __init__(self, area_m, speed_range_mps=(0.5, 1.5), pause_s=0.0):
        self.area = area_size(area_m)
        low, high = speed_range_mps
        if not 0 < low <= high:
            raise ValueError(f"speed_range_mps must satisfy 0 < low <= high, got {speed_range_mps!r}")
        if not pause_s >= 0:
            raise ValueError(f"pause_s must be >= 0, got {pause_s!r}")
        self.speed_range_mps = (float(low), float(high))
        self.pause_s = float(pause_s)

    def _draw_legs(self, new_leg: np.ndarray, count: int, rng: np.random.Generator) -> None:
        """New waypoints and speeds for the ``count`` nodes marked in ``new_leg``, drawn as
        ``rng.uniform(0, area, (count, 2))`` then ``rng.uniform(low, high, count)`` would (same doubles, same bits)
        in one draw and one compiled loop (:func:`set_legs`)."""
        low, high = self.speed_range_mps
        set_legs(new_leg, rng.random(3 * count), self.area, low, high - low, self.waypoints, self.speeds)

    def reset(self, n, rng: np.random.Generator) -> np.ndarray:
        n = _count(n)
        self._positions = rng.uniform(0.0, self.area, size=(n, 2))
        self.waypoints, self.speeds = np.empty((n, 2)), np.empty(n)
        self._draw_legs(np.ones(n, dtype=bool), n, rng)
        self.pause_left = np.zeros(n)
        return self.positions

    def step(self, dt_s, rng: np.random.Generator) -> np.ndarray:
        new_leg = np.empty(len(self.speeds), dtype=bool)
        count = waypoint_walk(
            self._positions, self.waypoints, self.speeds, self.pause_left, _duration(dt_s), self.pause_s, self.area,
            _HYPOT, new_leg,
        )  # fmt: skip
        if count:
            self._draw_legs(new_leg, count, rng)
        return self.positions


_HYPOT = libm.address("hypot")  # numpy's hypot is the C library's


@njit(cache=True)
def waypoint_walk(positions, waypoints, speeds, pause_left, dt, pause_s, area, hypot, new_leg) -> int:
    """:meth:`RandomWaypoint.step`'s walk, in place: a moving node covers ``speed dt`` towards its waypoint (and
    stays there on arrival, pausing ``pause_s``), a pausing one waits ``dt``. Marks in ``new_leg`` the nodes that
    need a new waypoint and speed, and returns their number. ``hypot``: the address of the C library's."""
    count = 0
    for i in range(len(speeds)):
        moving = pause_left[i] <= 0
        pause_left[i] = 0.0 if moving else pause_left[i] - dt
        gx, gy = waypoints[i, 0] - positions[i, 0], waypoints[i, 1] - positions[i, 1]
        dist = libm.c_call2(hypot, gx, gy)
        arrive = moving and speeds[i] * dt >= dist
        if arrive:
            x, y = waypoints[i, 0], waypoints[i, 1]
            pause_left[i] = pause_s
        elif moving:
            share = speeds[i] * dt / (dist if dist > 0 else 1.0)
            x, y = positions[i, 0] + share * gx, positions[i, 1] + share * gy
        else:
            x, y = positions[i, 0], positions[i, 1]
        positions[i, 0] = min(x if x > 0.0 else 0.0, area[0])  # np.clip's order: the floor, then the ceiling
        positions[i, 1] = min(y if y > 0.0 else 0.0, area[1])
        new_leg[i] = (arrive or not moving) and pause_left[i] <= 0
        count += new_leg[i]
    return count


@njit(cache=True)
def set_legs(new_leg, u, area, low, span, waypoints, speeds) -> None:
    """Give the i-th node marked in ``new_leg`` the waypoint ``u[2i : 2i + 2] * area`` and the speed
    ``low + span u[2c + i]`` (c nodes marked): numpy's uniform draws, ``low + (high - low) u``."""
    count = len(u) // 3
    i = 0
    for node in range(len(new_leg)):
        if new_leg[node]:
            waypoints[node, 0] = u[2 * i] * area[0]
            waypoints[node, 1] = u[2 * i + 1] * area[1]
            speeds[node] = low + span * u[2 * count + i]
            i += 1


class GaussMarkov(_Mobility):
    """Gauss-Markov mobility (Liang and Haas 1999, as in Camp, Boleng and Davies 2002, Sec. 2.5).

    Per step, with memory ``alpha`` in [0, 1] (0: memoryless, 1: straight line):
    ``s <- alpha s + (1 - alpha) mean_speed + sqrt(1 - alpha^2) speed_std z``,
    ``d <- alpha d + (1 - alpha) mean_dir + sqrt(1 - alpha^2) direction_std z'``;
    positions move by ``max(s, 0) (cos d, sin d) dt`` using the speed and direction before the update.
    ``alpha`` applies per call of ``step``, whatever ``dt_s`` is. Each node's mean direction is
    ``mean_direction_rad`` or, if None, drawn uniform in [0, 2 pi) at reset. A node crossing the
    boundary is reflected back inside (billiard rule), and its direction and mean direction are
    mirrored about that wall, so it heads away from the wall instead of hugging it.
    """

    def __init__(
        self,
        area_m,
        alpha=0.75,
        mean_speed_mps=1.0,
        speed_std_mps=0.3,
        direction_std_rad=0.5,
        mean_direction_rad=None,
    ):
        self.area = area_size(area_m)
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        for name, value in (
            ("mean_speed_mps", mean_speed_mps),
            ("speed_std_mps", speed_std_mps),
            ("direction_std_rad", direction_std_rad),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if mean_direction_rad is not None and not np.isfinite(mean_direction_rad):
            raise ValueError(f"mean_direction_rad must be finite or None, got {mean_direction_rad!r}")
        self.alpha = float(alpha)
        self.mean_speed_mps = float(mean_speed_mps)
        self.speed_std_mps = float(speed_std_mps)
        self.direction_std_rad = float(direction_std_rad)
        self.mean_direction_rad = mean_direction_rad

    def reset(self, n, rng: np.random.Generator) -> np.ndarray:
        n = _count(n)
        self._positions = rng.uniform(0.0, self.area, size=(n, 2))
        self.speeds = np.full(n, self.mean_speed_mps)
        self.directions = rng.uniform(0.0, 2 * np.pi, size=n)
        if self.mean_direction_rad is None:
            self.mean_directions = rng.uniform(0.0, 2 * np.pi, size=n)
        else:
            self.mean_directions = np.full(n, float(self.mean_direction_rad))
        return self.positions

    def step(self, dt_s, rng: np.random.Generator) -> np.ndarray:
        dt = _duration(dt_s)
        n = len(self.speeds)
        heading = np.stack([libm.cos(self.directions), libm.sin(self.directions)], axis=1)
        moved = self.positions + np.maximum(self.speeds, 0.0)[:, None] * heading * dt
        pos, flipped = _reflect(moved, self.area)
        # mirror about a vertical wall (x flipped): d -> pi - d; about a horizontal wall: d -> -d
        for angles in (self.directions, self.mean_directions):
            angles[flipped[:, 0]] = np.pi - angles[flipped[:, 0]]
            angles[flipped[:, 1]] = -angles[flipped[:, 1]]
        a, noise = self.alpha, np.sqrt(1.0 - self.alpha**2)
        self.speeds = (
            a * self.speeds + (1 - a) * self.mean_speed_mps + noise * self.speed_std_mps * rng.standard_normal(n)
        )
        self.directions = (
            a * self.directions
            + (1 - a) * self.mean_directions
            + noise * self.direction_std_rad * rng.standard_normal(n)
        )
        self._positions = pos
        return self.positions


class RoadVehicles(_Mobility):
    """Vehicles on a straight road along x, one lane each, at per-lane speeds.

    The road is [0, road_length_m] x [0, len(lane_speeds_mps) * lane_width_m]; lane k's centre line
    is y = (k + 0.5) lane_width_m and its signed speed is ``lane_speeds_mps[k]`` (negative: driving
    towards x = 0). Each vehicle draws its lane uniformly and keeps a speed of magnitude
    ``max(|lane speed| + speed_std_mps z, 0)``. ``boundary="wrap"``: a vehicle leaving one end
    re-enters at the other (a ring road, same vehicle). ``boundary="respawn"``: it leaves, and a new
    vehicle takes its slot at the entry end of a freshly drawn lane; ``entered`` marks those slots
    after each step (e.g. a new FL client, the MS-FL paper).
    """

    def __init__(
        self, road_length_m=2000.0, lane_speeds_mps=(15.0, 25.0), lane_width_m=3.5, speed_std_mps=0.0, boundary="wrap"
    ):
        if not road_length_m > 0:
            raise ValueError(f"road_length_m must be > 0, got {road_length_m!r}")
        lane_speeds = np.asarray(lane_speeds_mps, dtype=float)
        if lane_speeds.ndim != 1 or len(lane_speeds) == 0 or not np.all(np.isfinite(lane_speeds)):
            raise ValueError(f"lane_speeds_mps must be a non-empty sequence of finite speeds, got {lane_speeds_mps!r}")
        if not lane_width_m > 0:
            raise ValueError(f"lane_width_m must be > 0, got {lane_width_m!r}")
        if not speed_std_mps >= 0:
            raise ValueError(f"speed_std_mps must be >= 0, got {speed_std_mps!r}")
        if boundary not in ("wrap", "respawn"):
            raise ValueError(f"boundary must be 'wrap' or 'respawn', got {boundary!r}")
        self.lane_speeds_mps = lane_speeds
        self.lane_width_m = float(lane_width_m)
        self.speed_std_mps = float(speed_std_mps)
        self.boundary = boundary
        self.area = np.array([float(road_length_m), len(lane_speeds) * self.lane_width_m])

    def _draw_vehicles(self, k: int, rng: np.random.Generator):
        lanes = rng.integers(len(self.lane_speeds_mps), size=k)
        lane_speed = self.lane_speeds_mps[lanes]
        magnitude = np.maximum(np.abs(lane_speed) + self.speed_std_mps * rng.standard_normal(k), 0.0)
        return lanes, np.sign(lane_speed) * magnitude

    def reset(self, n, rng: np.random.Generator) -> np.ndarray:
        n = _count(n)
        self.lanes, self.speeds = self._draw_vehicles(n, rng)
        x = rng.uniform(0.0, self.area[0], size=n)
        self._positions = np.stack([x, (self.lanes + 0.5) * self.lane_width_m], axis=1)
        self.entered = np.zeros(n, dtype=bool)
        return self.positions

    def step(self, dt_s, rng: np.random.Generator) -> np.ndarray:
        dt = _duration(dt_s)
        length = self.area[0]
        x = self._positions[:, 0] + self.speeds * dt
        if self.boundary == "wrap":
            x = np.mod(x, length)
            self.entered = np.zeros(len(x), dtype=bool)
        else:
            self.entered = (x < 0) | (x > length)
            lanes, speeds = self._draw_vehicles(int(self.entered.sum()), rng)
            self.lanes[self.entered], self.speeds[self.entered] = lanes, speeds
            x[self.entered] = np.where(speeds >= 0, 0.0, length)
        x = np.clip(x, 0.0, length)  # np.mod can round up to exactly `length`
        self._positions = np.stack([x, (self.lanes + 0.5) * self.lane_width_m], axis=1)
        return self.positions
