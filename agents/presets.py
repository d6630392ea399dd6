"""Training presets: the settings every env x algo pair trains with, in one place (as RL Baselines3 Zoo's
hyperparameter files are).

A preset holds the options of the pair's agent that differ from its dataclass defaults (``A3COptions``
for mtl-a3c and a3c, ``SB3Options`` for ppo, a2c and dqn, ``MaskableOptions`` for maskable-ppo;
rllib-ppo takes none) and the env config keywords the agent needs to act at all (multiserver_fl's
discrete weight levels). ``edge-envs train`` applies the pair's preset under the flags given (an
explicit flag wins) and prints the preset's name. A pair may also have named variants
(``--preset warm-start``): the settings of a benchmark that the leaderboard's agents train with.

Each preset says why it holds what it holds; ``benchmarks/presets.py`` trains every pair and writes
its held-out score against random and the best baseline to ``benchmarks/results/presets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import edge_envs
from agents.envs import env_spaces, make_env
from agents.spaces import MAX_JOINT_ACTIONS

DEFAULT = "default"
NONE = "none"
"""The variant (and name) of the empty preset of a pair without one."""


@dataclass(frozen=True)
class Preset:
    """Settings of one env x algo pair (or of one of its named variants)."""

    env_id: str
    algo: str
    options: dict
    """fields of the algo's options dataclass, over its defaults"""
    why: str
    """what was measured (or why nothing needs changing)"""
    env_kwargs: dict = field(default_factory=dict)
    """env config keywords the training env gets under the user's --env-kwargs"""
    variant: str = DEFAULT

    @property
    def name(self) -> str:
        if self.variant == NONE:
            return NONE
        return f"{self.env_id}/{self.algo}" + ("" if self.variant == DEFAULT else f"/{self.variant}")


# EdgePartition's per-slot costs are a few hundredths of a second, so unscaled advantages drown under
# the entropy bonus and the branches settle on one fixed placement whatever the state (hence
# reward_scale); standardised observations (server speeds and rates vary by a few hundredths in [0, 1])
# made the learned placement robust across seeds. Four env copies per worker times 8-step rollouts give
# updates of 32 steps, the paper's batch size (Section 5.1). RMSProp with epsilon 0.1 under the root is
# plain SGD at ~3x the rate for gradients this small, too slow to learn which server suits which state;
# with epsilon 1e-5 and rates 3e-4 (actor) and 1e-3 (critic), 300k-step runs with 200-slot episodes
# (2 workers, 5 held-out episodes; greedy -13.6) reached -11.0 to -11.5 over seeds 0-3, where epsilon
# 0.1 with rates 0.001 / 0.01 reached -11.4 to -14.6. gamma stays the paper's 0.95.
_EDGE_PARTITION_A3C = {
    "lr_actor": 3e-4,
    "lr_critic": 1e-3,
    "rmsprop_eps": 1e-5,
    "entropy_coef": 0.001,
    "envs_per_worker": 4,
    "rollout_steps": 8,
    "reward_scale": 30.0,
    "normalize_observations": True,
}
_EP_WHY = "300k steps, seeds 0-3: -11.0 to -11.5 vs greedy -13.6 (epsilon 0.1, rates 0.001/0.01: -11.4 to -14.6)"
_MULTI_WHY = (
    "EdgePartition-v0's settings: on the dataclass defaults mtl-a3c learned one fixed placement (-130.4 per agent "
    "vs random -78.9 on 'default'); with these, 100k steps scored -6.18 vs GA -5.65 (issue 34). On the "
    "leaderboard's episodes (benchmarks/marl.py, seeds 1-3, one worker): 'default' (4 agents) 300k steps -25.2 "
    "vs GA -22.6, PSO -28.0 (100k: -37.8; 1M: -25.4 but seeds from -38 to -24); 'crowded' (6 VGG16 devices) "
    "1M steps -800 vs GA -244, PSO -407 (300k: -1220; reward scale 3 or 300 instead of 30: worse)"
)
# ServiceMigration: the actor moves slowly (rate 3e-5, RMSProp epsilon 1e-5, entropy 0.001); chained branches
# let each modality's branch see the edge the previous one chose, so two modalities need not meet on one edge
# (prior 0: no bonus for following). The warm start (DAgger on exact-round's labels) is the benchmark's.
_SERVICE_MIGRATION_A3C = {
    "chain_branches": True,
    "chain_prior": 0.0,
    "lr_actor": 3e-5,
    "lr_critic": 1e-3,
    "rmsprop_eps": 1e-5,
    "entropy_coef": 0.001,
}
_SERVICE_MIGRATION_WARM = {
    "imitation_teacher": "exact-round",
    "imitation_rounds": 4,
    "imitation_epochs": 60,
    "imitation_lr": 3e-3,
    "imitation_steps": 16_000,
}
_SM_WHY = "benchmarks/results/agents_service_migration.md (bound backend, rewards / 100)"
# multiserver_fl: the A3C agents act on 2 weight levels per peer (level l of L is weight l / (L - 1));
# undiscounted, rewards x10 and standardised advantages, rates and epsilon as EdgePartition's.
_MULTISERVER_A3C = {
    "gamma": 1.0,
    "reward_scale": 10.0,
    "normalize_advantage": True,
    "rmsprop_eps": 1e-5,
    "lr_actor": 3e-4,
    "lr_critic": 1e-3,
}
# IPPO / MAPPO (agents.mappo; the critic learns standardised returns, so no reward scale). On 'default' with
# 200-slot episodes (seed 1, sampled training returns per device; random -78, greedy -12): the paper's settings
# (gamma 0.99, 64-step rollouts, 5 epochs of 2 minibatches, rate 5e-4) -130 after 32k steps and a greedy -204
# summed over devices after 150k; gamma 0.95 (mtl-a3c's), 32-step rollouts, 10 epochs of 4 minibatches -65 at
# 32k, and with rate 2e-3 -55: many small steps, as mtl-a3c takes, learn this near-bandit problem faster.
_MULTI_PPO = {"gamma": 0.95, "rollout_steps": 32, "epochs": 10, "minibatches": 4, "lr": 2e-3}
# The leaderboard's variant: a warm start by imitation of a deterministic rule (agents.mappo; 2 rounds of DAgger
# on 2 copies, so each rollout spans whole 200-slot episodes), then PPO at a 10x lower rate with a small entropy
# bonus, to refine the warm start rather than unlearn it. The teacher: greedy, which each device follows from its
# own observation (the leaderboard's agents set one per instance: populate.AGENTS). GA's and PSO's choices are
# joint searches with ties and noise: the network repeated only 0.43 of GA's blocks.
_MULTI_WARM = {
    **{"gamma": 0.95, "rollout_steps": 32, "epochs": 10, "minibatches": 4, "lr": 2e-4, "entropy_coef": 0.001},
    **{"imitation_teacher": "greedy", "imitation_steps": 6000, "imitation_rounds": 2},
    **{"imitation_envs": 2, "imitation_epochs": 100},
}
_MULTI_WARM_WHY = "warm-started on 6000 agent-steps labelled by a rule, then PPO at rate 2e-4 (benchmarks/marl.py)"
_MULTI_PPO_WHY = "gamma 0.95, 32-step rollouts, 10 epochs of 4 minibatches, rate 2e-3: -55 vs -130 per device at 32k"
# multiserver_fl: 10-round episodes of real training, so rollouts of one episode; undiscounted as mtl-a3c's.
_MULTISERVER_PPO = {"gamma": 1.0, "rollout_steps": 10, "envs": 2, "epochs": 10, "minibatches": 4}
_MULTISERVER_WARM = {
    **_MULTISERVER_PPO,
    **{"lr": 2e-4, "entropy_coef": 0.001, "imitation_teacher": "spaa", "imitation_steps": 1600},
    **{"imitation_rounds": 2, "imitation_envs": 2, "imitation_epochs": 30},
}
_MULTISERVER_WARM_WHY = (
    "warm-started on 1600 agent-steps labelled by SPAA, then PPO at rate 2e-4 (benchmarks/marl.py: on 'faulty', "
    "IPPO's test accuracy 0.679 after 400 labelled and 400 PPO steps, 0.698 after 1600 and 1600; SPAA 0.685)"
)
_MULTISERVER_PPO_WHY = "2 weight levels as mtl-a3c; undiscounted, rollouts of one 10-round episode on 2 copies"
_RLLIB_WHY = "RLlib PPO's defaults, batches sized by the run's length (agents.rllib.options_for_steps); the [ray] extra"

PRESETS: tuple[Preset, ...] = (
    Preset("EdgePartition-v0", "mtl-a3c", _EDGE_PARTITION_A3C, _EP_WHY),
    Preset(
        "EdgePartition-v0",
        "mtl-a3c",
        {
            **_EDGE_PARTITION_A3C,
            "chain_branches": True,
            "branch_context": True,
            "hidden": (256, 256),
            "imitation_teacher": "exact-slot",
            "imitation_steps": 32_000,
            "imitation_rounds": 4,
            "imitation_epochs": 20,
            "lr_actor": 3e-5,
        },
        "the main job's settings (benchmarks/main_job.py): branch context lets the branches split the blocks over "
        "servers as exact-slot does; the actor's rate is 10x below so that A3C refines the warm start",
        variant="warm-start",
    ),
    Preset("EdgePartition-v0", "a3c", _EDGE_PARTITION_A3C, "mtl-a3c's settings (the same scales and rates)"),
    Preset("EdgePartition-v0", "ppo", {"envs": 8}, "8 copies in lockstep: each 2048-step rollout spans 8 instances"),
    Preset("EdgePartition-v0", "a2c", {"envs": 8}, "8 copies in lockstep, as ppo"),
    Preset("EdgePartition-v0", "dqn", {}, "SB3 defaults, exploration over the first half of the run"),
    Preset("EdgePartition-v0", "rllib-ppo", {}, _RLLIB_WHY),
    Preset("edge_partition_multi_v0", "mtl-a3c", _EDGE_PARTITION_A3C, _MULTI_WHY),
    Preset("edge_partition_multi_v0", "a3c", _EDGE_PARTITION_A3C, "mtl-a3c's settings"),
    Preset("edge_partition_multi_v0", "rllib-ppo", {}, _RLLIB_WHY),
    Preset("edge_partition_multi_v0", "ippo", _MULTI_PPO, _MULTI_PPO_WHY),
    Preset("edge_partition_multi_v0", "mappo", _MULTI_PPO, _MULTI_PPO_WHY),
    Preset("edge_partition_multi_v0", "ippo", _MULTI_WARM, _MULTI_WARM_WHY, variant="warm-start"),
    Preset("edge_partition_multi_v0", "mappo", _MULTI_WARM, _MULTI_WARM_WHY, variant="warm-start"),
    Preset("ServiceMigration-v0", "mtl-a3c", _SERVICE_MIGRATION_A3C, _SM_WHY),
    Preset(
        "ServiceMigration-v0",
        "mtl-a3c",
        {**_SERVICE_MIGRATION_A3C, **_SERVICE_MIGRATION_WARM},
        "warm-started on 16k rounds labelled by exact-round; " + _SM_WHY,
        {"reward_scale": 0.01},
        "warm-start",
    ),
    Preset(
        "ServiceMigration-v0",
        "a3c",
        {k: v for k, v in _SERVICE_MIGRATION_A3C.items() if not k.startswith("chain")},
        "mtl-a3c's rates (no chain: one joint head)",
    ),
    Preset("ServiceMigration-v0", "ppo", {}, "SB3 defaults; " + _SM_WHY),
    Preset(
        "ServiceMigration-v0",
        "ppo",
        _SERVICE_MIGRATION_WARM,
        "warm-started on 16k rounds labelled by exact-round; " + _SM_WHY,
        {"reward_scale": 0.01},
        "warm-start",
    ),
    Preset("ServiceMigration-v0", "a2c", {}, "SB3 defaults"),
    Preset("ServiceMigration-v0", "dqn", {}, "SB3 defaults over the 11,776 joint actions"),
    Preset("ServiceMigration-v0", "rllib-ppo", {}, _RLLIB_WHY),
    Preset("EdgeUpload-v0", "maskable-ppo", {}, "MaskableOptions' defaults (512-step rollouts, entropy 0.01)"),
    Preset("EdgeUpload-v0", "rllib-ppo", {}, _RLLIB_WHY),
    Preset(
        "multiserver_fl_v0",
        "mtl-a3c",
        _MULTISERVER_A3C,
        "the leaderboard agent's settings: 15k steps on 2 weight levels",
        {"action_levels": 2},
    ),
    Preset("multiserver_fl_v0", "a3c", _MULTISERVER_A3C, "mtl-a3c's settings", {"action_levels": 2}),
    Preset("multiserver_fl_v0", "rllib-ppo", {}, _RLLIB_WHY),
    Preset("multiserver_fl_v0", "ippo", _MULTISERVER_PPO, _MULTISERVER_PPO_WHY, {"action_levels": 2}),
    Preset("multiserver_fl_v0", "mappo", _MULTISERVER_PPO, _MULTISERVER_PPO_WHY, {"action_levels": 2}),
    *(
        Preset("multiserver_fl_v0", algo, _MULTISERVER_WARM, _MULTISERVER_WARM_WHY, {"action_levels": 2}, "warm-start")
        for algo in ("ippo", "mappo")
    ),
)
_BY_KEY = {(p.env_id, p.algo, p.variant): p for p in PRESETS}


def algos_for(env_id: str) -> list[str]:
    """The ``--algo`` values that can train ``env_id`` (a suite env at its default config): rllib-ppo
    everywhere; where the env masks actions, maskable-ppo (the others train there too, their forbidden actions
    replaced by the nearest legal ones, but have no preset); elsewhere the A3C
    agents, and SB3's on Gymnasium envs (dqn and a3c only where the joint action space is small enough to
    enumerate)."""
    env = make_env(env_id, _kwargs(env_id))
    joint = 1
    for n in env_spaces(env)[1]:
        joint *= int(n)
    small = joint <= MAX_JOINT_ACTIONS
    gymnasium = not hasattr(env, "possible_agents")
    masked = gymnasium and hasattr(env.unwrapped, "action_masks")
    if masked:
        return ["maskable-ppo", "rllib-ppo"]
    algos = ["mtl-a3c", *(["a3c"] if small else [])]
    if gymnasium:
        algos += [*(["dqn"] if small else []), "ppo", "a2c"]
    else:  # IPPO everywhere, MAPPO where the env has a global state
        algos += ["ippo", *(["mappo"] if getattr(env, "state_space", None) is not None else [])]
    return [*algos, "rllib-ppo"]


def _kwargs(env_id: str) -> dict:
    """The env kwargs the A3C agents' preset gives ``env_id`` (what makes its action space discrete)."""
    found = _BY_KEY.get((env_id, "mtl-a3c", DEFAULT))
    return dict(found.env_kwargs) if found else {}


def preset(env_id: str, algo: str, variant: str = DEFAULT) -> Preset:
    """The preset of ``env_id`` x ``algo`` (``variant``: one of its named variants). An env outside the suite
    (a user's module) gets an empty preset named ``none``; a suite env's unknown variant is a ValueError that
    names the variants there are."""
    found = _BY_KEY.get((env_id, algo, variant))
    if found is not None:
        return found
    known = sorted(v for e, a, v in _BY_KEY if (e, a) == (env_id, algo))
    if variant == DEFAULT and env_id not in (*edge_envs.ENV_IDS, *edge_envs.PETTINGZOO_MODULES):
        why = "no preset: an env outside the suite trains on the dataclass defaults"
        return Preset(env_id, algo, {}, why, variant=NONE)
    if variant == DEFAULT and not known:
        return Preset(env_id, algo, {}, f"no preset: {algo} does not train {env_id}", variant=NONE)
    raise ValueError(f"--preset {variant!r}: {env_id} x {algo} has the presets {known}")


def describe(chosen: Preset, overrides: dict) -> str:
    """One line for ``edge-envs train``: the preset's name and settings, and the flags that override it."""
    settings = {**chosen.options, **{f"env:{k}": v for k, v in chosen.env_kwargs.items()}}
    shown = ", ".join(f"{k}={v}" for k, v in settings.items()) or "the defaults"
    line = f"preset {chosen.name} (agents.presets): {shown}"
    overridden = sorted(set(overrides) & set(chosen.options))
    return line + (f"; overridden by flags: {', '.join(overridden)}" if overridden else "")
