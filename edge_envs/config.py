"""Validation shared by every environment's frozen ``Config`` dataclass (DESIGN: environment template).

Each env's config subclasses :class:`Config`, gives every field a one-line docstring with its unit and
range, and checks each field in ``__post_init__`` with the helpers below, so a bad value raises a
``ValueError`` that names the field and what is allowed. Numpy scalars are accepted; booleans are not
numbers; NaN and infinities never pass.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

DNN_MODELS = ("alexnet", "vgg16", "nin", "resnet32", "alexnet_224", "vgg16_224")
"""The DNNs every env can run (``edge_envs.dnn`` builds and profiles them): the one list of their names,
here so that the configs check a name without importing torch."""


def check_range(name: str, value, low: float, high: float, integer: bool = False) -> None:
    """``value`` is a finite real (an integer if ``integer``) in ``[low, high]``."""
    kind = "an integer" if integer else "a number"
    bad_type = (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or (integer and not isinstance(value, numbers.Integral))
    )
    if bad_type or not math.isfinite(value) or not (low <= value <= high):
        raise ValueError(f"{name} must be {kind} in [{low}, {high}], got {value!r}")


def check_interval(name: str, value, low: float, high: float) -> None:
    """``value`` is a pair ``(lo, hi)`` of finite reals with ``low <= lo <= hi <= high``."""
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and low <= v <= high
            for v in value
        )
    )
    if not ok or value[0] > value[1]:
        raise ValueError(f"{name} must be a pair (lo, hi) with {low} <= lo <= hi <= {high}, got {value!r}")


def check_choice(name: str, value, allowed) -> None:
    """``value`` is one of ``allowed``."""
    if isinstance(value, bool) or value not in tuple(allowed):
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def check_bool(name: str, value) -> None:
    """``value`` is ``True`` or ``False`` (numpy booleans included)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise ValueError(f"{name} must be True or False, got {value!r}")


class UnknownFieldError(TypeError, ValueError):
    """A keyword that names no field of the config.

    A ``TypeError``, as Python raises for an unexpected keyword argument, so wrappers that probe
    keywords (TorchRL's ``GymEnv`` tries ``frameskip`` and matches Python's wording, "unexpected keyword
    argument 'frameskip'") fall back; also a ``ValueError``, as every
    other malformed config is.
    """


def _tuple(value):
    """Lists given through ``gym.make`` keywords (or JSON) become the tuples a frozen config stores."""
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Config:
    """Base of every env config: ``from_kwargs`` builds one from a base config and field overrides."""

    @classmethod
    def from_kwargs(cls, config=None, **overrides):
        """``config`` (or the defaults) with ``overrides`` applied; unknown names raise an UnknownFieldError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UnknownFieldError(  # Python's wording, which keyword probes (TorchRL's) match
                f"unknown {cls.__name__} field(s) {unknown} ({cls.__name__} got an unexpected keyword argument "
                f"{unknown[0]!r}); known: {sorted(known)}"
            )
        if config is not None and not isinstance(config, cls):
            raise ValueError(f"config must be a {cls.__name__}, got {type(config).__name__}")
        base = {f.name: getattr(config, f.name) for f in fields(cls)} if config is not None else {}
        return cls(**{**base, **{k: _tuple(v) for k, v in overrides.items()}})
