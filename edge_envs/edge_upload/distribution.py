"""Distributions over EdgeUpload instances, for agents that must play instances they never saw.

An :class:`InstanceDistribution` draws a config per episode: the DNN (among the shipped models, so the
number of layers L and every layer's latency and sizes change), the client-edge bandwidth, the loss
probability of a transmission and the confirmation delay; every other config field comes from a base config
(one client and one edge server by default, where exact-order gives the exact reference). ``sample(rng)``
returns an :class:`EdgeUploadConfig`, and ``covers(cfg)`` says whether a config could be drawn, which is how a
test proves that held-out instances lie outside a training distribution. L changes the observation and action
sizes, so a distribution is played by agents whose parameters do not depend on it (agents.upload_entity).

``TRAIN`` is the training distribution of the shipped generalist; ``HELD_OUT`` the named instances it is
judged on, which ``TRAIN`` never draws: the leaderboard's three (AlexNet at 224x224, NiN, and AlexNet over a
lossy link), whose models TRAIN never draws.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from edge_envs.config import DNN_MODELS, _tuple, check_interval
from edge_envs.edge_upload.config import EdgeUploadConfig

DRAWN = ("model", "local_edge_mbps", "loss_probability", "confirmation_s")
"""The config fields a distribution draws; the base gives the rest."""


@dataclass(frozen=True)
class InstanceDistribution:
    """Per episode: the model uniform over ``models``, the client-edge bandwidth log-uniform, the loss
    probability and the confirmation delay uniform in their ranges. ``base``: the other config fields."""

    models: tuple[str, ...] = ("alexnet", "vgg16", "resnet32")
    """DNNs drawn from (edge_envs.config.DNN_MODELS); their L: alexnet 9, vgg16 19, resnet32 18."""
    local_edge_mbps: tuple[float, float] = (2.0, 50.0)
    """Client-edge bandwidth, MB/s, log-uniform in [lo, hi] within [10^-3, 10^6] (the default: 10)."""
    loss_probability: tuple[float, float] = (0.0, 0.2)
    """Probability that a transmission fails, uniform in [lo, hi] within [0, 0.9] (the default: 0.05)."""
    confirmation_s: tuple[float, float] = (0.002, 0.05)
    """Delay of a transmission's confirmation, s, uniform in [lo, hi] within [0, 60] (the default: 0.01)."""
    base: dict | None = None
    """Other EdgeUploadConfig fields, fixed for every draw (e.g. ``{"edge_clock_ghz": [4.2, 8.0]}``)."""

    def __post_init__(self):
        for f in fields(self):  # lists given through JSON become the tuples a frozen dataclass stores
            if f.name != "base":
                object.__setattr__(self, f.name, _tuple(getattr(self, f.name)))
        models = self.models
        if not isinstance(models, tuple) or not models or any(m not in DNN_MODELS for m in models):
            raise ValueError(f"InstanceDistribution.models must be a non-empty list of {DNN_MODELS}, got {models!r}")
        for name, low, high in (
            ("local_edge_mbps", 1e-3, 1e6),
            ("loss_probability", 0.0, 0.9),
            ("confirmation_s", 0.0, 60.0),
        ):
            check_interval(f"InstanceDistribution.{name}", getattr(self, name), low, high)
        if self.base is not None:
            if not isinstance(self.base, dict):
                raise ValueError(f"InstanceDistribution.base must be a dict of config fields, got {self.base!r}")
            drawn = sorted(set(self.base) & set(DRAWN))
            if drawn:
                raise ValueError(f"InstanceDistribution.base: {drawn} are drawn by the distribution; drop them")
            EdgeUploadConfig.from_kwargs(None, **self.base)  # unknown or bad fields fail now, by name

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
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def sample_kwargs(self, rng: np.random.Generator) -> dict:
        """One draw as ``gym.make`` keywords: the base fields and the drawn ones."""
        return {
            **(self.base or {}),
            "model": self.models[rng.integers(len(self.models))],
            "local_edge_mbps": float(np.exp(rng.uniform(*np.log(self.local_edge_mbps)))),
            "loss_probability": float(rng.uniform(*self.loss_probability)),
            "confirmation_s": float(rng.uniform(*self.confirmation_s)),
        }

    def sample(self, rng: np.random.Generator) -> EdgeUploadConfig:
        """One drawn config."""
        return EdgeUploadConfig.from_kwargs(None, **self.sample_kwargs(rng))

    def covers(self, cfg: EdgeUploadConfig) -> bool:
        """Whether ``cfg`` could be drawn: its model among ``models``, every drawn number within its range, and
        every other field equal to the base config's."""
        base = EdgeUploadConfig.from_kwargs(None, **(self.base or {}))
        others = [f.name for f in fields(EdgeUploadConfig) if f.name not in DRAWN]
        return (
            cfg.model in self.models
            and all(getattr(self, name)[0] <= getattr(cfg, name) <= getattr(self, name)[1] for name in DRAWN[1:])
            and all(getattr(cfg, name) == getattr(base, name) for name in others)
        )


HELD_OUT = {
    "default": {},
    "nin": {"model": "nin"},
    "lossy": {"loss_probability": 0.3},
}
"""Held-out instances (gym.make keywords): the leaderboard's three (AlexNet at 224x224 over the 10 MB/s link, NiN
over it, AlexNet at 224x224 over a link that loses 30% of transmissions). ``TRAIN`` covers none of them."""

TRAIN = InstanceDistribution()
"""The shipped training distribution: AlexNet, VGG16 and ResNet32 at 32x32 (9-19 layers), 2-50 MB/s, 0-20% loss,
2-50 ms confirmations, one client and one edge server; neither AlexNet at 224x224 nor NiN (the held-out models), nor
the lossy instance's 30% loss."""
