"""Every env's reset refuses a bad seed, bad options and a generator's non-instance alike (edge_envs.reset)."""

import gymnasium as gym
import numpy as np
import pytest

import edge_envs
from edge_envs import edge_partition_multi_v0, multiserver_fl_v0
from edge_envs.reset import ResetOptionsWarning, check_reset_options, check_seed

# cheap settings: every check below runs before an instance is drawn
GYM_KWARGS = {
    "EdgePartition-v0": dict(episode_slots=5),
    "ServiceMigration-v0": dict(backend="bound"),
    "EdgeUpload-v0": dict(),
}
PZ_MAKERS = {
    "edge_partition_multi_v0": lambda **kw: edge_partition_multi_v0.parallel_env(episode_slots=5, **kw),
    "multiserver_fl_v0": lambda **kw: multiserver_fl_v0.parallel_env(num_vehicles=10, num_rounds=2, **kw),
}


def _none(rng):
    return None


def test_reset__every_env_is_covered():
    assert set(GYM_KWARGS) == set(edge_envs.ENV_IDS) and set(PZ_MAKERS) == set(edge_envs.PETTINGZOO_MODULES)


@pytest.mark.parametrize("seed", [True, np.bool_(False), 1.5, "3", -1, [1]])
@pytest.mark.parametrize("env_id", GYM_KWARGS)
def test_reset__gymnasium_env_refuses_a_seed_that_is_not_a_non_negative_integer(env_id, seed):
    with pytest.raises(ValueError, match=r"seed: expected None or an integer >= 0, got"):
        gym.make(env_id, **GYM_KWARGS[env_id]).reset(seed=seed)


@pytest.mark.parametrize("seed", [True, 2.0, -3])
@pytest.mark.parametrize("name", PZ_MAKERS)
def test_reset__pettingzoo_env_refuses_a_seed_that_is_not_a_non_negative_integer(name, seed):
    with pytest.raises(ValueError, match=r"seed: expected None or an integer >= 0, got"):
        PZ_MAKERS[name]().reset(seed=seed)


@pytest.mark.parametrize("options", [{"bogus": 1}, "x", [1], 3])
@pytest.mark.parametrize("env_id", GYM_KWARGS)
def test_reset__gymnasium_env_refuses_unknown_options_naming_what_it_takes(env_id, options):
    with pytest.raises(ValueError, match=r"options: \w+'s reset takes .*\(None or .*got"):
        gym.make(env_id, **GYM_KWARGS[env_id]).reset(seed=0, options=options)


@pytest.mark.parametrize("name", PZ_MAKERS)
def test_reset__pettingzoo_env_warns_about_unknown_option_keys_and_refuses_non_dicts(name):
    env = PZ_MAKERS[name]()
    with pytest.warns(ResetOptionsWarning, match=r"takes no options \(None or \{\}\), got \['bogus'\]; ignored"):
        env.reset(seed=0, options={"bogus": 1})
    with pytest.raises(ValueError, match=r"options: \w+'s reset takes no options"):
        env.reset(seed=0, options="x")


def test_reset__numpy_integer_seed_is_the_same_as_the_int():
    env = gym.make("EdgeUpload-v0")
    assert np.array_equal(env.reset(seed=np.int64(4))[0], env.reset(seed=4)[0])


@pytest.mark.parametrize(
    "make, instance",
    [
        (lambda: gym.make("ServiceMigration-v0", backend="bound", generator=_none), "service_migration"),
        (lambda: PZ_MAKERS["multiserver_fl_v0"](generator=_none), "multiserver_fl"),
    ],
)
def test_reset__a_generator_returning_none_raises_a_type_error(make, instance):
    with pytest.raises(TypeError, match=rf"generator must return an edge_envs.{instance}.Instance, got NoneType"):
        make().reset(seed=0)


def test_check_reset_options__allowed_keys_pass_and_others_are_named():
    assert check_reset_options(None, "E") == {}
    assert check_reset_options({"instance": 1}, "E", ("instance",)) == {"instance": 1}
    with pytest.raises(ValueError, match=r"options: E's reset takes options among \['instance'\] .* got \['x'\]"):
        check_reset_options({"x": 1, "instance": 2}, "E", ("instance",))
    with pytest.warns(ResetOptionsWarning):
        assert check_reset_options({"x": 1, "instance": 2}, "E", ("instance",), strict=False) == {"instance": 2}


def test_check_seed__returns_a_python_int_or_none():
    assert check_seed(None) is None
    assert check_seed(np.uint8(7)) == 7 and type(check_seed(np.uint8(7))) is int
