"""Frozen, versioned scenario sets: the episodes every leaderboard entry of an env is played on.

A set names its instances (config keyword arguments of the env plus the episode seeds), so any
episode can be rebuilt and replayed: ``make_env(scenario_set, instance)`` then
``env.reset(seed=seed)``. A set is frozen: its fingerprint (a hash of its definition) is written
into every result file, and ``validate`` refuses a file whose fingerprint differs. Changing a set
means bumping its version (``v1`` -> ``v2``) and re-running ``benchmarks/leaderboard/populate.py``.

An env joins the leaderboard with one entry in ``SETS``: its Gymnasium id (or the name of its
PettingZoo module under ``edge_envs``), its named instances, the ``info`` keys worth
reporting as episode metrics, and the most steps an episode can last. References come from the
env's baselines module (``baselines.references(env_id)``: ``{name: fn(env, seed) -> float}``, each an upper bound
on the return of the episode that ``env.reset(seed=seed)`` starts, or its exact optimum). For
example, an env whose info reports a per-step ``latency``::

    "EdgeUpload-v0": ScenarioSet(
        "EdgeUpload-v0", "v1",
        (Instance("default", {}, _seeds(10_000, 5), "the env's defaults"),
         Instance("alexnet", {"model": "alexnet_224"}, _seeds(20_000, 5), "another model")),
        {"latency": SUM},
        max_steps=lambda env: env.unwrapped.cfg.num_clients * env.unwrapped.num_layers,
    ),

then ``python -m benchmarks.leaderboard.populate --env EdgeUpload-v0`` records every baseline
and reference of the env, and the agents listed for it in ``populate.AGENTS``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import gymnasium as gym
from gymnasium import spaces

import edge_envs
from benchmarks.leaderboard.results import action_bytes

SUM, LAST = "sum", "last"  # how an info key becomes an episode metric: summed over steps, or its last value


@dataclass(frozen=True)
class Instance:
    """One named scenario: the env's config keywords and the seeds of its evaluation episodes."""

    name: str
    """Short name shown in the tables (e.g. "default", "unseen")."""
    kwargs: dict
    """Keyword arguments of the env constructor (config fields)."""
    seeds: tuple[int, ...]
    """Episode seeds: episode i starts with ``env.reset(seed=seeds[i])``."""
    about: str = ""
    """One line on what the instance tests."""


@dataclass(frozen=True)
class ScenarioSet:
    """The frozen evaluation episodes of one env."""

    env_id: str
    """Gymnasium id (``gym.make``) or PettingZoo module under ``edge_envs`` (``parallel_env()``)."""
    version: str
    """Bumped whenever an instance, a seed or the metrics change; result files record it."""
    instances: tuple[Instance, ...]
    metrics: dict = field(default_factory=dict)
    """info key -> SUM or LAST: the env's own metrics recorded per episode (multi-agent: summed over
    agents for SUM, averaged over agents for LAST)."""
    references: bool = True
    """Whether the baselines module's REFERENCES apply to this env."""
    max_steps: Callable[[object], int] = field(kw_only=True)
    """env -> the most steps an episode of it lasts; with the action space it bounds what ``validate`` inflates."""
    tests: str = field(default="", kw_only=True)
    """What the set's scenarios test, for the reader (per-slot or foresight, generalisation); not part of the
    fingerprint, so it may be reworded without re-recording."""

    @property
    def multi_agent(self) -> bool:
        return self.env_id in edge_envs.PETTINGZOO_MODULES

    @property
    def episodes(self) -> int:
        return sum(len(instance.seeds) for instance in self.instances)

    def definition(self) -> dict:
        """Everything that fixes the episodes (what the fingerprint hashes)."""
        return {
            "env": self.env_id,
            "version": self.version,
            "metrics": self.metrics,
            "instances": [asdict(instance) | {"seeds": list(instance.seeds)} for instance in self.instances],
        }

    def fingerprint(self) -> str:
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def instance(self, name: str) -> Instance:
        for instance in self.instances:
            if instance.name == name:
                return instance
        raise ValueError(
            f"{self.env_id} set {self.version} has no instance {name!r}; it has {[i.name for i in self.instances]}"
        )


def _seeds(first: int, count: int) -> tuple[int, ...]:
    return tuple(range(first, first + count))


# Episodes are 200 slots long (EdgePartition) and few per instance, so that populating every entry
# takes minutes and CI can replay every result file in seconds (a ServiceMigration round or a
# multi-device slot costs over ten times as much to replay as an EdgePartition slot).
_EP_SLOTS = {"episode_slots": 200}
_EP_METRICS = {"delay": SUM, "penalty": SUM, "energy": SUM, "outage": SUM}
_SM_METRICS = {
    "wall_clock": LAST,
    "round": LAST,
    "communication_cost": LAST,
    "computation_cost": LAST,
}


def _slots(env) -> int:
    return env.unwrapped.cfg.episode_slots


SETS: dict[str, ScenarioSet] = {
    "EdgePartition-v0": ScenarioSet(
        "EdgePartition-v0",
        "v2",
        (
            Instance(
                "default", dict(_EP_SLOTS), _seeds(10_000, 5), "per-slot: VGG16, M=6 blocks, N=4 servers, 60 tasks/s"
            ),
            Instance(
                "unseen",
                {**_EP_SLOTS, "model": "resnet32", "num_blocks": 9, "num_servers": 7, "task_rate": 110.0},
                _seeds(20_000, 5),
                "per-slot: ResNet32, M=9, N=7, 110 tasks/s: larger, more servers, saturated",
            ),
            Instance(
                "energy",
                {**_EP_SLOTS, "poisson_tasks": True, "task_rate": 90.0, "energy_budget_j": 300.0},
                _seeds(30_000, 5),
                "foresight (energy budget): Poisson tasks at 90/s and a tight 300 J budget",
            ),
            Instance(
                "bursty",
                {**_EP_SLOTS, "poisson_tasks": True, "task_rate": 110.0},
                _seeds(40_000, 5),
                "foresight (queue carry-over): Poisson bursts at 110 tasks/s fill the queues later slots wait behind",
            ),
            Instance(
                "deadlines",
                {**_EP_SLOTS, "task_rate": 100.0, "deadline_s": (0.1, 0.5), "penalty_weight": 10.0},
                _seeds(50_000, 5),
                "foresight (binding deadlines): 100 tasks/s, backlog carried over costs 10x its excess over 0.1-0.5 s",
            ),
        ),
        _EP_METRICS,
        max_steps=_slots,
        tests=(
            "Per-slot scenarios (`default`, `unseen`: exact-slot within 1% of the reference, so each slot is a "
            "contextual bandit and the best a policy can do is decide each slot as exact-slot does) and foresight"
            " ones (`energy`, `bursty`, `deadlines`: slots coupled through the energy budget, queue carry-over "
            "and binding deadlines; exact-slot's myopic headroom is on each line). `unseen` tests generalisation "
            "for agents trained on `default`; the generalist trains on a distribution that holds none of these "
            "instances."
        ),
    ),
    "edge_partition_multi_v0": ScenarioSet(
        "edge_partition_multi_v0",
        "v1",
        (
            Instance(
                "default",
                dict(_EP_SLOTS),
                _seeds(10_000, 3),
                "4 devices (AlexNet, VGG16, NiN, ResNet32), 4 servers, 40 tasks/s each",
            ),
            Instance(
                "crowded",
                {**_EP_SLOTS, "models": ("vgg16",) * 6, "task_rate": 30.0},
                _seeds(20_000, 3),
                "6 devices all running VGG16 at 30 tasks/s over 4 servers",
            ),
        ),
        _EP_METRICS,
        references=False,  # baselines.edge_partition's REFERENCES are for the single-device env
        max_steps=_slots,
        tests=(
            "Shared servers: each device's placement fills the queues the other devices wait behind, so rules "
            "that place each device alone collide (`default`: 4 different DNNs; `crowded`: 6 VGG16 devices over 4"
            " servers). No reference bounds the joint return: 100 is the best project entry. The learned agents "
            "are trained per instance (one checkpoint per number of devices)."
        ),
    ),
    "ServiceMigration-v0": ScenarioSet(
        "ServiceMigration-v0",
        "v1",
        (
            Instance(
                "bound",
                {"backend": "bound"},
                _seeds(10_000, 3),
                "default edges and devices; Corollary 1's rounds to target",
            ),
            Instance(
                "vehicles",
                {"backend": "bound", "mobility": "gauss_markov", "speed_max_mps": 30.0, "fading": True},
                _seeds(20_000, 3),
                "devices on Gauss-Markov paths up to 30 m/s, Rayleigh fading",
            ),
            # The real backend (split training on UCI mfeat every round, about 1.5 s an episode) is left
            # out of v1: CI replays every result file, and each entry would add tens of seconds.
        ),
        _SM_METRICS,
        max_steps=lambda env: env.unwrapped.cfg.max_rounds,
        tests=(
            "Sequential: a round's placements and sample ratio set the next round's migration cost and the rounds"
            " to target (foresight). `vehicles` adds mobility and fading that the agents, trained on `bound`, "
            "never saw (generalisation)."
        ),
    ),
    "EdgeUpload-v0": ScenarioSet(
        "EdgeUpload-v0",
        "v1",
        (
            Instance("default", {}, _seeds(10_000, 5), "AlexNet (224x224), one client, one edge server"),
            # VGG16 at 224x224 is left out: its exact-order reference takes about 30 s an episode.
            Instance("nin", {"model": "nin"}, _seeds(20_000, 5), "NiN (32x32 input): another architecture"),
            Instance("lossy", {"loss_probability": 0.3}, _seeds(30_000, 5), "AlexNet over a link that loses 30%"),
        ),
        {"time": LAST, "transmissions": SUM},
        max_steps=lambda env: env.unwrapped.cfg.num_clients * env.unwrapped.num_layers,  # each uploads every layer
        tests=(
            "Sequential: which partition goes up next decides how fast the queries run meanwhile (foresight); "
            "`nin` is another architecture, `lossy` a link that loses packets."
        ),
    ),
    "multiserver_fl_v0": ScenarioSet(
        "multiserver_fl_v0",
        "v1",
        (
            # 10 rounds of real training (not the default 30): CI replays every result file.
            Instance("default", {"num_rounds": 10}, _seeds(10_000, 2), "5 RSUs, 50 vehicles on digits, 10 rounds"),
            Instance(
                "faulty",
                {"num_rounds": 10, "num_faulty": 1},
                _seeds(20_000, 2),
                "one RSU sends label-flipped models",
            ),
        ),
        {"test_acc": LAST, "f1": LAST, "latency_s": SUM},
        max_steps=lambda env: env.unwrapped.cfg.num_rounds,
        tests=(
            "Trust across servers: each RSU weighs its peers' models every round; in `faulty` one RSU shares "
            "corrupted models that the rules and agents must weigh down."
        ),
    ),
}


def scenario_set(env_id: str) -> ScenarioSet:
    """The current scenario set of ``env_id``; a ValueError names the envs that have one."""
    if env_id not in SETS:
        raise ValueError(f"no leaderboard scenario set for {env_id!r}; envs with one: {sorted(SETS)}")
    return SETS[env_id]


def make_env(scenarios: ScenarioSet, instance: Instance):
    """A fresh env of ``instance`` (Gymnasium: ``gym.make``; PettingZoo: ``parallel_env``)."""
    if scenarios.multi_agent:
        return importlib.import_module(f"edge_envs.{scenarios.env_id}").parallel_env(**instance.kwargs)
    return gym.make(scenarios.env_id, **instance.kwargs)


def actions_limit(scenarios: ScenarioSet, env) -> int:
    """The most bytes of JSON the recorded actions of one episode in ``env`` can take: its most steps
    times the most bytes of one action (what ``validate`` inflates at most)."""
    if scenarios.multi_agent:
        space = spaces.Dict({agent: env.action_space(agent) for agent in env.possible_agents})
    else:
        space = env.action_space
    return 2 + scenarios.max_steps(env) * action_bytes(space)


@functools.cache
def actions_limits(env_id: str) -> dict[str, int]:
    """Instance name -> :func:`actions_limit` of its env (each env built once)."""
    scenarios = scenario_set(env_id)
    limits = {}
    for instance in scenarios.instances:
        env = make_env(scenarios, instance)
        limits[instance.name] = actions_limit(scenarios, env)
        env.close()
    return limits


def references(scenarios: ScenarioSet) -> dict:
    """``{name: fn(env, seed) -> float}`` of the env's baselines module (empty when it has none)."""
    import baselines

    return baselines.references(scenarios.env_id) if scenarios.references else {}
