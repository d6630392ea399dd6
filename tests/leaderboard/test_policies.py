"""``--policy`` specs: what is built from them, and the errors for bad ones."""

import pytest

from benchmarks.leaderboard import policies


class _Env:
    pass


class WithEnv:
    def __init__(self, env):
        self.env = env

    def act(self, observation, info):
        return 0


class NoArgs:
    def act(self, observation, info):
        return 1


def test_build__classes_and_factories_get_the_env_when_they_take_it_and_objects_stay():
    env = _Env()
    assert policies.build(WithEnv, env).env is env
    assert policies.build(NoArgs, env).act(None, None) == 1
    instance = NoArgs()
    assert policies.build(instance, env) is instance
    assert policies.build(lambda e: WithEnv(e), env).env is env


def test_build__object_without_act_is_refused():
    with pytest.raises(ValueError, match="has no act"):
        policies.build(lambda: object(), _Env())
    with pytest.raises(ValueError, match="neither a policy"):
        policies.build(3, _Env())


def test_load_policy__file_path_spec_imports_the_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("class P:\n    def act(self, observation, info):\n        return 2\n")
    assert policies.load_policy(f"{path}:P", _Env()).act(None, None) == 2
    with pytest.raises(ValueError, match="has no 'Q'"):
        policies.load_policy(f"{path}:Q", _Env())
    with pytest.raises(FileNotFoundError):
        policies.load_policy(f"{tmp_path}/none.py:P", _Env())


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("baseline:greedy", "baseline"),
        ("checkpoint:a.pt", "agent"),
        ("sb3:ppo:m.zip", "agent"),
        ("my.module:Policy", "submission"),
    ],
)
def test_kind_of__follows_the_spec(spec, kind):
    assert policies.kind_of(spec) == kind


@pytest.mark.parametrize("spec", ["nocolon", ":x", "sb3:model.zip"])
def test_check_spec__malformed_spec_names_the_forms(spec):
    with pytest.raises(ValueError, match="--policy"):
        policies.check_spec(spec)
