"""Trained agents as policies: ``act(observation, info) -> action``, optional ``reset(seed)``.

The leaderboard and the baselines' benchmarks take these unchanged. For a PettingZoo parallel
env, ``act`` maps the dict of observations to a dict of actions (one network for all agents).
``policy_from_payload(load_checkpoint(path), env)`` rebuilds any checkpoint written by
``edge-envs train``.
"""

from __future__ import annotations

import numpy as np

from agents import generalist, mappo, priced, sb3
from agents.a3c import A3COptions, build_network
from agents.checkpoint import CheckpointError, check_finite
from agents.networks import ActorCritic
from agents.spaces import JointActionCodec, env_action

A3C_ALGOS = ("mtl-a3c", "a3c")
MASKABLE = "maskable-ppo"  # agents.maskable's checkpoint.pt
MARL_ALGOS = mappo.ALGOS  # ippo, mappo: agents.mappo's shared actor


class A3CPolicy:
    """The actor of a trained (multi-task or single-head) A3C: argmax per branch, or a sample; with the
    env's (or one agent's) ``action_space``, each action as that space takes it (an int for Discrete)."""

    def __init__(
        self,
        model: ActorCritic,
        codec: JointActionCodec | None = None,
        deterministic: bool = True,
        seed: int | None = None,
        action_space=None,
    ):
        self.model = model.eval()
        self.codec = codec
        self.deterministic = deterministic
        self.action_space = action_space
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        action = self.model.act(obs, self._rng, self.deterministic)
        return self.codec.decode(action[:, 0]) if self.codec is not None else action

    def _env_action(self, action: np.ndarray):
        return action if self.action_space is None else env_action(self.action_space, action)

    def act(self, observation, info=None):
        if isinstance(observation, dict):  # PettingZoo parallel env: one network for every agent
            agents = list(observation)
            actions = self._act(np.stack([observation[a] for a in agents]))
            return {a: self._env_action(actions[i]) for i, a in enumerate(agents)}
        return self._env_action(self._act(np.asarray(observation)[None])[0])


def a3c_options_from_payload(payload: dict) -> A3COptions:
    """The A3COptions an A3C checkpoint was trained with; a named error when they are not A3C's."""
    algo = payload["algo"]
    try:
        options = A3COptions(**payload["options"])
    except TypeError as error:  # unknown or missing fields: options of another algorithm
        raise CheckpointError(f"a {algo} checkpoint holds options that are not A3COptions: {error}") from None
    if options.single_head != (algo == "a3c"):
        other = "a3c" if options.single_head else "mtl-a3c"
        raise CheckpointError(f"a {algo} checkpoint holds the network of {other} (single_head={options.single_head})")
    return options


def _action_space(env):
    """The action space of a Gymnasium env, or of a parallel env's first agent (the agents share one network)."""
    return env.action_space(env.possible_agents[0]) if hasattr(env, "possible_agents") else env.action_space


def policy_from_payload(payload: dict, env=None, deterministic: bool = True):
    """Policy of a loaded checkpoint; SB3 and maskable-ppo checkpoints need the env (their model is built on it).
    An A3C policy given the env acts as its action space takes actions (an int for Discrete)."""
    check_finite(payload)
    if payload["algo"] == generalist.GENERALIST:
        if not deterministic:
            raise ValueError("--stochastic: the generalist plays its argmax chain (or its candidates' cheapest)")
        return generalist.policy_from_payload(payload, env)
    if payload["algo"] == priced.PRICED:
        if not deterministic:
            raise ValueError("--stochastic: the priced agent is deterministic (its training explores, not its policy)")
        return priced.policy_from_payload(payload, env)
    if payload["algo"] in A3C_ALGOS:
        options = a3c_options_from_payload({**payload, "options": {**payload["options"], "workers": 1}})
        model, codec = build_network(payload["obs_dim"], payload["nvec"], options)
        try:
            model.load_state_dict(payload["model"])
        except RuntimeError as error:
            raise CheckpointError(
                f"the network of the checkpoint does not fit a {payload['algo']} model: {error}"
            ) from None
        return A3CPolicy(model, codec, deterministic, action_space=None if env is None else _action_space(env))
    if payload["algo"] in MARL_ALGOS:
        return mappo.policy_from_payload(payload, env, deterministic)
    if payload["algo"] not in (*sb3.ALGORITHMS, MASKABLE):
        known = [*A3C_ALGOS, *sb3.ALGORITHMS, MASKABLE, *MARL_ALGOS, generalist.GENERALIST, priced.PRICED]
        raise CheckpointError(f"unknown algo {payload['algo']!r} in the checkpoint; known: {known}")
    if env is None:
        raise ValueError(f"a {payload['algo']} checkpoint needs the env to rebuild its SB3 model")
    if payload["algo"] == MASKABLE:
        from agents import maskable  # sb3-contrib is imported only for its checkpoints

        return maskable.policy_from_payload(payload, env, deterministic)
    return sb3.policy_from_payload(payload, env, deterministic)
