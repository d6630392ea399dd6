"""Checks every env's ``reset`` shares: the seed, the options and the instance a generator draws.

One definition for all envs, so ``reset(seed=True)``, ``reset(options={"bogus": 1})`` or a generator
that returns ``None`` get the same named error whichever env is asked.
"""

from __future__ import annotations

import warnings

import numpy as np


class ResetOptionsWarning(UserWarning):
    """Reset options a PettingZoo env ignores: PettingZoo's own API test resets with ``options={"options": 1}``,
    so those envs warn about unknown keys of a dict instead of refusing them."""


def check_seed(seed) -> int | None:
    """``seed`` as ``None`` or a Python int >= 0 (numpy integers accepted; booleans, floats and the rest refused)."""
    if seed is None:
        return None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return int(seed)
    raise ValueError(f"seed: expected None or an integer >= 0, got {seed!r}")


def check_reset_options(options, env: str, allowed: tuple[str, ...] = (), strict: bool = True) -> dict:
    """``options`` as a dict: ``None`` or a dict whose keys are among ``allowed``.

    Anything else raises a ValueError naming ``env`` and what it takes. With ``strict=False`` (the
    PettingZoo envs) unknown keys of a dict only warn (:class:`ResetOptionsWarning`) and are dropped.
    """
    if options is None:
        return {}
    takes = f"options among {list(allowed)} (None or a dict)" if allowed else "no options (None or {})"
    if not isinstance(options, dict):
        raise ValueError(f"options: {env}'s reset takes {takes}, got {type(options).__name__}")
    unknown = sorted(str(key) for key in options if key not in allowed)
    if not unknown:
        return dict(options)
    message = f"options: {env}'s reset takes {takes}, got {unknown}"
    if strict:
        raise ValueError(message)
    warnings.warn(message + "; ignored", ResetOptionsWarning, stacklevel=3)
    return {key: value for key, value in options.items() if key in allowed}


def draw_instance(generator, rng: np.random.Generator, instance_type: type):
    """``generator(rng)``, refused with a TypeError unless it is an ``instance_type`` (a custom generator's
    mistake would otherwise surface deep in the core as an AttributeError)."""
    instance = generator(rng)
    if not isinstance(instance, instance_type):
        package = instance_type.__module__.rpartition(".")[0]
        raise TypeError(
            f"generator must return an {package}.{instance_type.__name__}, got {type(instance).__name__} "
            f"from {generator!r}"
        )
    return instance
