"""agents.presets: one preset per env x algo pair, applied under the flags by ``edge-envs train``."""

import dataclasses

import pytest
import torch

import edge_envs
from agents import presets
from agents.a3c import A3COptions
from agents.envs import env_spaces, make_env
from agents.generalist import GENERALIST
from agents.mappo import MAPPOOptions
from agents.maskable import MaskableOptions
from agents.policy import A3C_ALGOS, MARL_ALGOS
from agents.priced import PRICED
from agents.runs import latest_run
from agents.sb3 import SB3Options
from agents.train import ALGOS, make_options
from edge_envs_cli import main

SUITE = (*edge_envs.ENV_IDS, *edge_envs.PETTINGZOO_MODULES)


def test_presets__every_algo_that_trains_an_env_has_exactly_one_default_preset():
    pairs = [(p.env_id, p.algo) for p in presets.PRESETS if p.variant == presets.DEFAULT]
    assert len(pairs) == len(set(pairs))
    expected = {(env_id, algo) for env_id in SUITE for algo in presets.algos_for(env_id)}
    assert set(pairs) == expected
    # every --algo trains some env; the generalist (instance distributions) and priced: their options' defaults
    assert {algo for _, algo in expected} == set(ALGOS) - {GENERALIST, PRICED}
    assert ("edge_partition_multi_v0", "ppo") not in expected  # SB3 trains Gymnasium envs only
    assert {("multiserver_fl_v0", "mappo"), ("edge_partition_multi_v0", "ippo")} <= expected  # PettingZoo's learners
    assert ("EdgePartition-v0", "mappo") not in expected
    assert ("EdgeUpload-v0", "maskable-ppo") in expected and ("EdgePartition-v0", "maskable-ppo") not in expected
    assert ("EdgeUpload-v0", "ppo") not in expected  # the masked agent is the one with a preset there


@pytest.mark.parametrize("chosen", presets.PRESETS, ids=lambda p: p.name)
def test_presets__options_build_and_env_kwargs_give_the_agent_spaces_it_handles(chosen):
    if chosen.algo in A3C_ALGOS:
        assert make_options(chosen.algo, chosen.env_id, preset=chosen.variant) == A3COptions(
            **{**chosen.options, "single_head": chosen.algo == "a3c"}
        )
    elif chosen.algo == "maskable-ppo":
        MaskableOptions(**chosen.options)
    elif chosen.algo == "rllib-ppo":
        assert chosen.options == {}  # the CLI gives rllib-ppo no options to preset
    elif chosen.algo in MARL_ALGOS:
        assert make_options(chosen.algo, chosen.env_id, preset=chosen.variant) == MAPPOOptions(**chosen.options)
    else:
        assert make_options(chosen.algo, chosen.env_id, preset=chosen.variant) == SB3Options(**chosen.options)
    assert chosen.why
    if chosen.algo != "rllib-ppo":
        env_spaces(make_env(chosen.env_id, chosen.env_kwargs))  # a discrete action space the agents act on


def test_make_options__preset_under_user_overrides():
    tuned = make_options("mtl-a3c", "EdgePartition-v0")
    assert tuned.reward_scale == 30.0 and tuned.normalize_observations and tuned.gamma == 0.95
    assert make_options("mtl-a3c", "edge_partition_multi_v0") == tuned  # the multi-agent agent's settings
    assert make_options("mtl-a3c", "EdgePartition-v0", {"reward_scale": 2.0}).reward_scale == 2.0  # the user's wins
    warm = make_options("mtl-a3c", "EdgePartition-v0", preset="warm-start")
    assert warm.imitation_teacher == "exact-slot" and warm.lr_actor == 3e-5 and warm.reward_scale == 30.0
    assert make_options("mtl-a3c", "tests.agents.bandit") == A3COptions()  # outside the suite: the defaults
    assert presets.preset("tests.agents.bandit", "mtl-a3c").name == "none"


def test_preset__unknown_variant_is_refused_naming_the_variants_there_are():
    with pytest.raises(ValueError, match=r"--preset 'fast'.*\['default', 'warm-start'\]"):
        presets.preset("EdgePartition-v0", "mtl-a3c", "fast")
    with pytest.raises(ValueError, match=r"--preset 'warm-start'"):
        make_options("mtl-a3c", "tests.agents.bandit", preset="warm-start")


def test_describe__names_the_preset_its_settings_and_the_flags_that_override_it():
    line = presets.describe(presets.preset("multiserver_fl_v0", "mtl-a3c"), {"gamma": 0.9, "workers": 1})
    assert line.startswith("preset multiserver_fl_v0/mtl-a3c (agents.presets): gamma=1.0, ")
    assert "env:action_levels=2" in line and line.endswith("; overridden by flags: gamma")


def test_train_command__prints_the_preset_and_a_flag_overrides_it(tmp_path, capsys):
    argv = ["train", "--env", "EdgePartition-v0", "--algo", "ppo", "--steps", "64", "--logdir", str(tmp_path)]
    assert main([*argv, "--envs", "2", "--eval-episodes", "0", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "preset EdgePartition-v0/ppo (agents.presets): envs=8; overridden by flags: envs" in out
    payload = torch.load(latest_run(tmp_path, "EdgePartition-v0", "ppo", 0) / "checkpoint.pt", weights_only=True)
    assert payload["options"]["envs"] == 2
    assert main([*argv, "--preset", "fast"]) == 2
    assert "--preset 'fast': EdgePartition-v0 x ppo has the presets ['default']" in capsys.readouterr().err


def test_train__a_new_run_gets_the_preset_env_kwargs_under_the_given_ones(tmp_path):
    from agents.train import train

    options = dataclasses.replace(make_options("mtl-a3c", "multiserver_fl_v0"), workers=1, rollout_steps=2)
    kwargs = {"num_rounds": 2, "num_servers": 2}
    result = train(
        "multiserver_fl_v0", "mtl-a3c", 4, logdir=tmp_path, env_kwargs=kwargs, options=options, progress=False
    )
    assert result.env_kwargs == {"action_levels": 2, **kwargs}  # Box weights become 2 levels per peer


EP_SMALL = {"num_blocks": 3, "num_servers": 2, "episode_slots": 20}
SMOKE = {
    # env -> (config small enough to learn in seconds, held-out episodes, algo -> training steps)
    "EdgePartition-v0": (EP_SMALL, 3, {"mtl-a3c": 1000, "a3c": 1000, "ppo": 1000, "a2c": 3000, "dqn": 1500}),
    "edge_partition_multi_v0": (EP_SMALL, 3, {"mtl-a3c": 1000, "a3c": 1000, "ippo": 3000, "mappo": 3000}),
    "ServiceMigration-v0": (
        {"backend": "bound"},
        2,
        {"mtl-a3c": 1000, "a3c": 1000, "ppo": 1000, "a2c": 1000, "dqn": 1000},
    ),
    # two edge servers and a cloud: a random order of uploads pays ten times the learned one
    "EdgeUpload-v0": ({"num_edge_servers": 2, "num_cloud_servers": 1}, 4, {"maskable-ppo": 1024}),
    "multiserver_fl_v0": (
        {"num_servers": 3, "num_vehicles": 6, "num_rounds": 4, "local_epochs": 1, "hidden_units": 8},
        2,
        {"mtl-a3c": 160, "a3c": 160, "ippo": 320, "mappo": 320},
    ),
}
MARGIN = 0.1
"""An agent beats random when its mean held-out return is above random's by 10% of random's magnitude."""


@pytest.mark.slow
@pytest.mark.numerics
@pytest.mark.parametrize(
    "env_id, algo",
    [pytest.param(p.env_id, p.algo, id=p.name) for p in presets.PRESETS if p.variant == presets.DEFAULT],
)
def test_presets__every_pair_beats_random_on_held_out_episodes_after_a_short_run(env_id, algo):
    from benchmarks.presets import Case, score

    if algo == "rllib-ppo":
        pytest.importorskip("ray", reason="rllib-ppo needs Ray RLlib (the [ray] extra)")
    env_kwargs, episodes, steps = SMOKE[env_id]
    steps = {"rllib-ppo": 4000, **steps}
    result = score(env_id, algo, Case(env_kwargs, steps, episodes), seed=0)
    assert result["agent"] > result["random"] + MARGIN * abs(result["random"]), result
