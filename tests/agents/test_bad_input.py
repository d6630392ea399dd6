"""Bad input to the agents' API: each case raises a ValueError (or a subclass) that names what is
wrong and what is allowed (issue 13). The command-line cases are in tests/test_cli_bad_input.py."""

import gymnasium as gym
import pytest
import torch

from agents.a3c import A3COptions
from agents.envs import make_env, parse_env_kwargs
from agents.evaluate import baseline_names, mean_ci95, run_episodes, t_quantile_975
from agents.optim import SharedRMSprop
from agents.policy import policy_from_payload
from agents.sb3 import SB3Options
from agents.spaces import JointActionCodec, action_nvec, observation_dim
from agents.train import make_options, train
from tests.agents.bandit import ENV_ID

TRAIN_CASES = {
    "unknown algo": ({"algo": "sac"}, r"unknown algo \(--algo\) 'sac'; choose from \['mtl-a3c', 'a3c', 'dqn', 'ppo'"),
    "steps zero": ({"steps": 0}, r"steps \(--steps\) must be an integer in \[1, inf\], got 0"),
    "steps fractional": ({"steps": 1.5}, r"steps \(--steps\) must be an integer"),
    "steps boolean": ({"steps": True}, r"steps \(--steps\) must be an integer"),
    "seed negative": ({"seed": -1}, r"seed \(--seed\) must be an integer in \[0, 4294967295\], got -1"),
    "seed a string": ({"seed": "1"}, r"seed \(--seed\) must be an integer"),
    "checkpoint every negative": ({"checkpoint_every": -2}, r"checkpoint_every \(--checkpoint-every\) must"),
    "options a dict": ({"options": {"workers": 1}}, r"mtl-a3c takes A3COptions options \(agents.train.make_options\)"),
    "options of the other trainer": ({"options": SB3Options()}, r"mtl-a3c takes A3COptions options"),
    "SB3 options for PPO as A3C's": ({"algo": "ppo", "options": A3COptions(workers=1)}, r"ppo takes SB3Options"),
    "single head for mtl-a3c": ({"options": A3COptions(workers=1, single_head=True)}, r"single_head must be False"),
    "env kwargs a list": ({"env_kwargs": [1]}, r"env_kwargs \(--env-kwargs\) must be a dict of config fields"),
    "env kwargs unknown keyword": ({"env_kwargs": {"bogus": 1}}, r"does not take these keywords \(--env-kwargs\)"),
    "unknown env id": ({"env_id": "Bogus-v0"}, r"unknown env id \(--env\) 'Bogus-v0'"),
}  # fmt: skip


@pytest.mark.parametrize("change, message", TRAIN_CASES.values(), ids=TRAIN_CASES.keys())
def test_train__bad_input_is_a_named_error_before_any_run_folder(tmp_path, change, message):
    call = {"env_id": ENV_ID, "algo": "mtl-a3c", "steps": 16, "logdir": tmp_path, "progress": False, **change}
    with pytest.raises(ValueError, match=message):
        train(**call)
    assert list(tmp_path.iterdir()) == []


def test_train__logdir_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"--logdir .*file is a file, not a folder"):
        train(ENV_ID, "ppo", 16, logdir=tmp_path / "file", progress=False)


def test_train__logdir_that_is_not_writable(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.TemporaryFile", refuse)  # as a read-only folder does (root ignores chmod)
    with pytest.raises(ValueError, match=r"--logdir .* is not writable: Permission denied"):
        train(ENV_ID, "ppo", 16, logdir=tmp_path, progress=False)


OPTION_CASES = {
    "A3C option for an SB3 agent": (("ppo", {"lr_actor": 0.1}), r"--lr-actor not an option of ppo; its options:"),
    "SB3 option for an A3C agent": (("a3c", {"envs": 2}), r"--envs not an option of a3c"),
    "unknown option": (("mtl-a3c", {"learning_rate": 0.1}), r"--learning-rate not an option of mtl-a3c"),
    "single head set by hand": (("mtl-a3c", {"single_head": True}), r"--single-head not an option of mtl-a3c"),
    "unknown algo": (("td3", {}), r"unknown algo \(--algo\) 'td3'"),
    "SB3 discount above 1": (("ppo", {"gamma": 1.5}), r"SB3Options.gamma \(--gamma\) must be a number in \[0.0, 1.0\]"),
    "SB3 discount NaN": (("a2c", {"gamma": float("nan")}), r"SB3Options.gamma \(--gamma\) must be a number"),
    "SB3 discount infinite": (("dqn", {"gamma": float("inf")}), r"SB3Options.gamma \(--gamma\) must be a number"),
    "SB3 discount a string": (("ppo", {"gamma": "0.9"}), r"SB3Options.gamma \(--gamma\) must be a number"),
    "SB3 env copies zero": (("ppo", {"envs": 0}), r"SB3Options.envs \(--envs\) must be an integer in \[1, 1024\]"),
    "SB3 env copies fractional": (("a2c", {"envs": 2.5}), r"SB3Options.envs \(--envs\) must be an integer"),
    "A3C discount NaN": (("mtl-a3c", {"gamma": float("nan")}), r"A3COptions.gamma must be in \[0, 1\], got nan"),
    "A3C workers zero": (("a3c", {"workers": 0}), r"A3COptions.workers must be >= 1, got 0"),
}  # fmt: skip


@pytest.mark.parametrize("call, message", OPTION_CASES.values(), ids=OPTION_CASES.keys())
def test_make_options__bad_input_is_a_named_error(call, message):
    algo, overrides = call
    with pytest.raises(ValueError, match=message):
        make_options(algo, ENV_ID, overrides)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{bad", r"--env-kwargs is not valid JSON \(Expecting property name"),
        ("", r"--env-kwargs is not valid JSON"),
        ("[1]", r"--env-kwargs must be a JSON object of config fields"),
        ("1e400", r"--env-kwargs must be a JSON object"),
        ("true", r"--env-kwargs must be a JSON object"),
    ],
)
def test_parse_env_kwargs__anything_but_a_json_object_is_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_env_kwargs(text)


@pytest.mark.parametrize(
    "env_id, message",
    [
        ("Bogus-v0", r"unknown env id \(--env\) 'Bogus-v0' \(Environment `Bogus` doesn't exist.\); edge-envs has \["),
        ("EdgePartition-v9", r"unknown env id \(--env\) 'EdgePartition-v9'"),
        ("no_such_pkg:Env-v0", r"unknown env id \(--env\) 'no_such_pkg:Env-v0'"),
        ("", r"env id \(--env\) must be a non-empty string, got ''"),
        (None, r"env id \(--env\) must be a non-empty string, got None"),
    ],
)
def test_make_env__unknown_ids_are_named(env_id, message):
    with pytest.raises(ValueError, match=message):
        make_env(env_id)


def test_make_env__unknown_keyword_is_named():
    with pytest.raises(ValueError, match=r"does not take these keywords \(--env-kwargs\).*'bogus'"):
        make_env(ENV_ID, {"bogus": 1})


@pytest.mark.parametrize("episodes", [0, -1, 1.5, True])
def test_run_episodes__episode_count_must_be_a_positive_integer(episodes):
    with pytest.raises(ValueError, match=rf"episodes must be an integer >= 1, got {episodes!r}"):
        run_episodes(None, make_env(ENV_ID), episodes)


def test_statistics__empty_samples_and_zero_degrees_of_freedom_are_refused():
    with pytest.raises(ValueError, match="mean_ci95 needs at least one value"):
        mean_ci95([])
    with pytest.raises(ValueError, match="df must be an integer >= 1, got 0"):
        t_quantile_975(0)


def test_baseline_names__unknown_names_and_envs_without_baselines_are_named():
    with pytest.raises(
        ValueError, match=r"--baselines: unknown baseline\(s\) \['gredy'\] for EdgePartition-v0; available: \["
    ):
        baseline_names("gredy", "EdgePartition-v0")
    with pytest.raises(ValueError, match=rf"--baselines: {ENV_ID} has no baselines"):
        baseline_names("greedy", ENV_ID)


def test_policy_from_payload__sb3_needs_the_env_and_unknown_algorithms_are_named():
    payload = {"algo": "ppo", "model": {"w": torch.zeros(2)}}
    with pytest.raises(ValueError, match="a ppo checkpoint needs the env to rebuild its SB3 model"):
        policy_from_payload(payload)
    with pytest.raises(ValueError, match=r"unknown algo 'sac' in the checkpoint; known: \['mtl-a3c', 'a3c', 'ppo'"):
        policy_from_payload({**payload, "algo": "sac"})


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: JointActionCodec([5] * 12), r"joint action space has 244140625 actions .* more than the 100000"),
        (lambda: JointActionCodec([3, 3]).decode(9), r"joint action index out of range \[0, 9\): 9"),
        (lambda: JointActionCodec([3, 3]).decode(-1), r"joint action index out of range"),
        (lambda: JointActionCodec([3, 3]).encode([1, 3]), r"action \[1, 3\] does not fit nvec \[3, 3\]"),
        (lambda: JointActionCodec([3, 3]).encode([1]), r"action \[1\] does not fit nvec \[3, 3\]"),
        (lambda: action_nvec(gym.spaces.Box(0, 1, (2,))), r"agents need a MultiDiscrete or Discrete action space"),
        (lambda: action_nvec(gym.spaces.MultiDiscrete([[2, 2]])), r"agents need a 1-D MultiDiscrete action space"),
        (lambda: action_nvec(gym.spaces.Discrete(3, start=1)), r"agents need Discrete actions that start at 0"),
        (lambda: observation_dim(gym.spaces.Discrete(3)), r"agents need a flat 1-D Box observation space"),
        (lambda: observation_dim(gym.spaces.Box(0, 1, (2, 2))), r"agents need a flat 1-D Box observation space"),
    ],
)
def test_spaces__what_the_agents_cannot_act_on_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 1.0}, r"alpha must be in \[0, 1\), got 1.0"),
        ({"eps": 0.0}, r"eps must be > 0, got 0.0"),
        ({"lr": float("nan")}, r"learning rate must be > 0, got nan"),
    ],
)
def test_shared_rmsprop__bad_settings_are_named(kwargs, message):
    lr = kwargs.pop("lr", 0.01)
    with pytest.raises(ValueError, match=message):
        SharedRMSprop([([torch.zeros(2, requires_grad=True)], lr)], **kwargs)


def test_shared_rmsprop__state_of_another_network_is_refused():
    optimizer = SharedRMSprop([([torch.zeros(2, requires_grad=True)], 0.01)])
    with pytest.raises(ValueError, match=r"optimizer state does not match the model's parameters"):
        optimizer.load_state_dict({"square_avg": [torch.zeros(3)]})
