"""Baselines of the toy env, in the form ``baselines/<env>.py`` takes: POLICIES, STRONGEST, REFERENCES."""

from __future__ import annotations

from tests.toy_env import core


class Local:
    """Runs every task on the device."""

    def __init__(self, env):
        self.env = env

    def act(self, observation, info) -> int:
        return core.LOCAL


class Greedy:
    """The faster of the two actions for the current slot (the core's ``delay``, no second copy of it);
    the slots do not interact, so this minimises the episode's delay."""

    def __init__(self, env):
        self.env = env

    def act(self, observation, info) -> int:
        state = self.env.unwrapped.state
        return min((core.LOCAL, core.OFFLOAD), key=lambda action: core.delay(state, action))


POLICIES = {"greedy": Greedy, "local": Local}
STRONGEST = ("greedy",)
REFERENCES: dict = {}
