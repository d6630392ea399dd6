"""Distributions over ServiceMigration instances, for agents that must play instances they never saw.

An :class:`InstanceDistribution` draws a whole system per episode: the number of edges N and their
positions (uniform in the area), the number of modalities K and each one's data and model sizes, the
devices (count, mobility, speed), the channel (bandwidth, Rayleigh fading) and the training samples S;
every other config field comes from a base config. ``sample(rng)`` returns a
:class:`ServiceMigrationConfig`, and ``covers(cfg)`` says whether a config could be drawn, which is how a
test proves that held-out instances lie outside a training distribution. N and K change the observation
and action sizes, so a distribution is played by agents whose parameters depend on neither
(agents.migration_entity).

``TRAIN`` is the training distribution of the shipped generalist; ``HELD_OUT`` the named instances it is
judged on, which ``TRAIN`` never draws: the leaderboard's two (the paper's grid of 8 edges and its three
modalities) and a denser grid of 16 edges, outside TRAIN's edge range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from edge_envs.config import _tuple, check_bool, check_interval
from edge_envs.service_migration.config import MOBILITY_MODELS, Modality, ServiceMigrationConfig

DRAWN = (
    "edge_positions_m", "edge_spacing_m", "modalities", "num_devices", "mobility", "speed_min_mps", "speed_max_mps",
    "fading", "bandwidth_hz", "num_samples",
)  # fmt: skip
"""The config fields a distribution draws (edge_spacing_m is ignored once positions are given); the base gives the
rest."""
SPEED_MIN_MPS = 1.0  # the slowest device of every draw (the config's default)


@dataclass(frozen=True)
class InstanceDistribution:
    """Per episode: N and K uniform over their integer ranges (N >= K), N edges uniform in the area, each
    modality's sizes log-uniform in their ranges, the devices' count uniform, mobility and fading uniform over
    their choices, the fastest device's speed, the bandwidth (log) and S uniform in their ranges;
    (N, K, mobility, fading) keys in ``exclude`` are never drawn (rejection). ``base``: the other config fields."""

    num_edges: tuple[int, int] = (4, 12)
    """N, uniform over the integers in [lo, hi] within [2, 1000], at least K."""
    num_modalities: tuple[int, int] = (2, 4)
    """K, uniform over the integers in [lo, hi] within [1, 16], at most N."""
    sample_bits: tuple[float, float] = (2e5, 4e6)
    """q_k, bits per sample, log-uniform in [lo, hi] within [1, 10^12] (the paper's: 0.5-2 Mbit)."""
    params: tuple[float, float] = (3e5, 4e6)
    """Parameters of a sub-model, log-uniform in [lo, hi] within [1, 10^12] (the paper's: 0.6-2.6 million)."""
    density_cycles: tuple[float, float] = (500.0, 4000.0)
    """vartheta_k, cycles per sample and epoch, log-uniform in [lo, hi] within [1, 10^15] (the paper's: 1000-2000)."""
    num_devices: tuple[int, int] = (20, 80)
    """M, uniform over the integers in [lo, hi] within [1, 10^4]."""
    mobility: tuple[str, ...] = MOBILITY_MODELS
    """Mobility models drawn from (random_waypoint, gauss_markov, static)."""
    speed_max_mps: tuple[float, float] = (5.0, 30.0)
    """Fastest device speed, m/s, uniform in [lo, hi] within [1, 100] (the slowest: 1 m/s)."""
    fading: tuple[bool, ...] = (False, True)
    """Rayleigh fading drawn from these choices."""
    bandwidth_hz: tuple[float, float] = (10e6, 40e6)
    """B, Hz, log-uniform in [lo, hi] within [10^3, 10^10]."""
    num_samples: tuple[int, int] = (600, 2000)
    """S, uniform over the integers in [lo, hi] within [1, 10^9]."""
    exclude: tuple[tuple, ...] = ()
    """(N, K, mobility, fading) keys never drawn: held-out instances."""
    base: dict | None = None
    """Other ServiceMigrationConfig fields, fixed for every draw (e.g. ``{"max_rounds": 300}``)."""

    def __post_init__(self):
        for f in fields(self):  # lists given through JSON become the tuples a frozen dataclass stores
            if f.name != "base":
                object.__setattr__(self, f.name, _tuple(getattr(self, f.name)))
        for name, low, high in (
            ("num_edges", 2, 1000),
            ("num_modalities", 1, 16),
            ("num_devices", 1, 10_000),
            ("num_samples", 1, 10**9),
        ):
            value = getattr(self, name)
            check_interval(f"InstanceDistribution.{name}", value, low, high)
            if not all(isinstance(v, (int, np.integer)) for v in value):
                raise ValueError(f"InstanceDistribution.{name} must be a pair of integers (lo, hi), got {value!r}")
        if self.num_edges[1] < self.num_modalities[0]:
            raise ValueError(
                f"InstanceDistribution.num_edges: hi must be at least num_modalities' lo ({self.num_modalities[0]}: "
                f"every modality needs an edge of its own), got {self.num_edges!r}"
            )
        for name, low, high in (
            ("sample_bits", 1.0, 1e12),
            ("params", 1.0, 1e12),
            ("density_cycles", 1.0, 1e15),
            ("speed_max_mps", SPEED_MIN_MPS, 100.0),
            ("bandwidth_hz", 1e3, 1e10),
        ):
            check_interval(f"InstanceDistribution.{name}", getattr(self, name), low, high)
        self._check_choices("mobility", MOBILITY_MODELS)
        self._check_choices("fading", (False, True))
        for value in self.fading:
            check_bool("InstanceDistribution.fading", value)
        for key in self.exclude:
            ok = (
                isinstance(key, tuple)
                and len(key) == 4
                and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in key[:2])
                and key[2] in MOBILITY_MODELS
                and isinstance(key[3], bool)
            )
            if not ok:
                raise ValueError(
                    "InstanceDistribution.exclude must hold (N, K, mobility, fading) keys with a mobility of "
                    f"{MOBILITY_MODELS} and fading a bool, got {key!r}"
                )
        if self.base is not None:
            if not isinstance(self.base, dict):
                raise ValueError(f"InstanceDistribution.base must be a dict of config fields, got {self.base!r}")
            drawn = sorted(set(self.base) & set(DRAWN))
            if drawn:
                raise ValueError(f"InstanceDistribution.base: {drawn} are drawn by the distribution; drop them")
            ServiceMigrationConfig.from_kwargs(None, **self.base)  # unknown or bad fields fail now, by name
        if not self._keys_left():
            raise ValueError("InstanceDistribution.exclude removes every (N, K, mobility, fading) it could draw")

    def _check_choices(self, name: str, allowed: tuple) -> None:
        value = getattr(self, name)
        if not isinstance(value, tuple) or not value or any(v not in allowed or isinstance(v, list) for v in value):
            raise ValueError(f"InstanceDistribution.{name} must be a non-empty list of {allowed}, got {value!r}")

    def _keys_left(self) -> list[tuple]:
        excluded = set(self.exclude)
        return [
            (n, k, mobility, fading)
            for k in range(self.num_modalities[0], self.num_modalities[1] + 1)
            for n in range(max(k, self.num_edges[0]), self.num_edges[1] + 1)
            for mobility in self.mobility
            for fading in self.fading
            if (n, k, mobility, fading) not in excluded
        ]

    @classmethod
    def from_dict(cls, spec: dict) -> InstanceDistribution:
        """A distribution from JSON-like fields (lists for tuples); an unknown field is a named ValueError."""
        if not isinstance(spec, dict):
            raise ValueError(f"distribution must be a JSON object of InstanceDistribution fields, got {spec!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"distribution: unknown field(s) {unknown}; known: {sorted(known)}")
        return cls(**spec)

    def to_dict(self) -> dict:
        """JSON-ready fields (``from_dict`` inverts it)."""
        return {k: (list(map(list, v)) if k == "exclude" else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items()}  # fmt: skip

    def sample_kwargs(self, rng: np.random.Generator) -> dict:
        """One draw as ``gym.make`` keywords: the base fields and the drawn ones."""
        excluded = set(self.exclude)
        while True:  # rejection: __post_init__ proved that some key is left
            k = int(rng.integers(self.num_modalities[0], min(self.num_modalities[1], self.num_edges[1]) + 1))
            n = int(rng.integers(max(k, self.num_edges[0]), self.num_edges[1] + 1))
            mobility = self.mobility[rng.integers(len(self.mobility))]
            fading = bool(self.fading[rng.integers(len(self.fading))])
            if (n, k, mobility, fading) not in excluded:
                break
        area = ServiceMigrationConfig.from_kwargs(None, **(self.base or {})).area_m
        positions = _distinct_points(rng, n, area)

        def log_uniform(bounds):
            return float(np.exp(rng.uniform(*np.log(bounds))))

        modalities = tuple(
            Modality(
                f"modality-{i}",
                sample_bits=log_uniform(self.sample_bits),
                params=int(round(log_uniform(self.params))),
                density_cycles=log_uniform(self.density_cycles),
            )
            for i in range(k)
        )
        return {
            **(self.base or {}),
            "edge_positions_m": positions,
            "modalities": modalities,
            "num_devices": int(rng.integers(self.num_devices[0], self.num_devices[1] + 1)),
            "mobility": mobility,
            "speed_max_mps": float(rng.uniform(*self.speed_max_mps)),
            "fading": fading,
            "bandwidth_hz": log_uniform(self.bandwidth_hz),
            "num_samples": int(rng.integers(self.num_samples[0], self.num_samples[1] + 1)),
        }

    def sample(self, rng: np.random.Generator) -> ServiceMigrationConfig:
        """One drawn config."""
        return ServiceMigrationConfig.from_kwargs(None, **self.sample_kwargs(rng))

    def covers(self, cfg: ServiceMigrationConfig) -> bool:
        """Whether ``cfg`` could be drawn: explicit edge positions (draws never use the grid), every drawn field
        within its choices or range, its (N, K, mobility, fading) not excluded, and every other field equal to
        the base config's."""
        base = ServiceMigrationConfig.from_kwargs(None, **(self.base or {}))
        others = [f.name for f in fields(ServiceMigrationConfig) if f.name not in DRAWN]
        n, k = cfg.num_edges, cfg.num_modalities

        def within(bounds, values):
            return all(bounds[0] <= v <= bounds[1] for v in values)

        return (
            cfg.edge_positions_m is not None
            and within(self.num_edges, [n])
            and within(self.num_modalities, [k])
            and (n, k, cfg.mobility, cfg.fading) not in set(self.exclude)
            and cfg.mobility in self.mobility
            and cfg.fading in self.fading
            and within(self.sample_bits, [m.sample_bits for m in cfg.modalities])
            and within(self.params, [m.params for m in cfg.modalities])
            and within(self.density_cycles, [m.density_cycles for m in cfg.modalities])
            and within(self.num_devices, [cfg.num_devices])
            and cfg.speed_min_mps == SPEED_MIN_MPS
            and within(self.speed_max_mps, [cfg.speed_max_mps])
            and within(self.bandwidth_hz, [cfg.bandwidth_hz])
            and within(self.num_samples, [cfg.num_samples])
            and all(getattr(cfg, name) == getattr(base, name) for name in others)
        )


def _distinct_points(rng: np.random.Generator, count: int, area_m: float) -> tuple:
    """``count`` distinct (x, y) points uniform in the area, rounded to 1 m (redrawn on a collision)."""
    while True:
        points = np.round(rng.uniform(0.0, area_m, size=(count, 2)))
        if len(np.unique(points, axis=0)) == count:
            return tuple((float(x), float(y)) for x, y in points)


BOUND = {"backend": "bound"}

HELD_OUT = {
    "bound": dict(BOUND),
    "vehicles": {**BOUND, "mobility": "gauss_markov", "speed_max_mps": 30.0, "fading": True},
    "dense": {**BOUND, "edge_spacing_m": 2000.0, "num_devices": 100},
}
"""Held-out instances (gym.make keywords): the leaderboard's two (the paper's 8 edges and 3 modalities; the
second with Gauss-Markov devices up to 30 m/s and Rayleigh fading) and a grid of 16 edges serving 100 devices
(more edges than TRAIN ever draws). ``TRAIN`` covers none of them."""

TRAIN = InstanceDistribution(exclude=((8, 3, "random_waypoint", False), (8, 3, "gauss_markov", True)), base=BOUND)
"""The shipped training distribution: 4-12 edges anywhere in the 10 km area, 2-4 modalities of random sizes, 20-80
devices of every mobility model at up to 5-30 m/s, with and without fading, 10-40 MHz, 600-2000 samples; the keys
of the leaderboard's instances excluded (their grid edges are never drawn either)."""
