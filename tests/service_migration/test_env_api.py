"""Issue 13 items for ServiceMigration-v0: ended episodes, reset options, the pair rho choices."""

import gymnasium as gym
import numpy as np
import pytest

import baselines
import edge_envs  # noqa: F401  (registers the ids)
from edge_envs.service_migration import Instance, ServiceMigrationEnv, ToyGenerator, core

FAST = dict(backend="bound")


@pytest.mark.parametrize("kwargs, ending", [(dict(max_rounds=2), "truncated"), (dict(beta=0.5), "terminated")])
def test_env__stepping_an_ended_episode_is_a_named_error(kwargs, ending):
    env = gym.make("ServiceMigration-v0", **FAST, **kwargs)
    env.reset(seed=0)
    flags = (False, False)
    while not any(flags):
        flags = env.step(np.array([0, 1, 2, 5]))[2:4]
    assert flags[("terminated", "truncated").index(ending)]
    with pytest.raises(RuntimeError, match="episode has ended.*call reset"):
        env.step(np.array([0, 1, 2, 5]))
    env.reset(seed=1)
    env.step(np.array([0, 1, 2, 5]))  # a new episode steps again


def test_env__step_before_reset_is_a_named_error():
    with pytest.raises(RuntimeError, match="call reset"):
        gym.make("ServiceMigration-v0", **FAST).unwrapped.step(np.array([0, 1, 2, 0]))


@pytest.mark.parametrize("options", [{"seed": 3}, {"instance": None}, {"instance": (0, 1, 2)}, [("instance", 1)], 5])
def test_env__reset_refuses_unknown_or_bad_options(options):
    env = gym.make("ServiceMigration-v0", **FAST)
    with pytest.raises(ValueError, match="options"):
        env.reset(seed=0, options=options)


def test_env__reset_option_instance_replays_that_instance():
    env = gym.make("ServiceMigration-v0", **FAST)
    _, info = env.reset(seed=0, options={"instance": Instance("mine", initial_edges=(7, 6, 5))})
    assert info["edges"].tolist() == [7, 6, 5] and env.unwrapped.instance.name == "mine"
    _, info = env.reset(seed=0, options=None)
    assert env.unwrapped.instance.name == "random:N8:K3"


def test_env__pair_choice_applies_eq31_of_that_pair_after_repair():
    env = gym.make("ServiceMigration-v0", **FAST).unwrapped
    _, info = env.reset(seed=4)
    costs = core.pair_costs(env.cfg, info["edges"], info["slowest_rates"], info["capability"])
    _, _, _, _, step = env.step(np.array([4, 4, 1, 1]))  # acoustic is repaired off edge 4; its rho* applies
    n = step["edges"][1]
    assert step["repaired"] and n != 4
    expected = core.optimal_rho(costs.psi_v[n, 1], costs.psi_s[n, 1], env.cfg.alpha)
    assert step["rho"] == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sm3fl__applied_rho_in_the_discrete_env_is_eq31_of_line12(seed):
    """Issue 15: the default (discrete) env applies Algorithm 1's closed-form rho exactly."""
    env = gym.make("ServiceMigration-v0", **FAST)
    assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
    policy = baselines.make_policy("sm3fl", env)
    obs, info = env.reset(seed=seed)
    for _ in range(5):
        costs = core.pair_costs(env.unwrapped.cfg, info["edges"], info["slowest_rates"], info["capability"])
        preference = core.preference_matrix(costs.psi_v, costs.psi_s, 0.02, 100.0)
        edges = baselines.service_migration.lpt_assignment(preference)
        k = np.arange(3)
        heaviest = int(np.argmax(costs.psi_v[edges, k]))
        eq31 = 0.02 + np.sqrt(
            (0.02**2 * costs.psi_v[edges[heaviest], heaviest] + 0.02 * costs.psi_s[edges[heaviest], heaviest])
            / costs.psi_v[edges[heaviest], heaviest]
        )
        obs, _, _, _, info = env.step(policy.act(obs, info))
        assert info["edges"].tolist() == edges.tolist()
        assert info["rho"] == pytest.approx(min(eq31, 1.0), rel=1e-12)


def test_env__encode_action_pair_needs_pair_levels():
    env = gym.make("ServiceMigration-v0", continuous_rho=True, **FAST).unwrapped
    with pytest.raises(ValueError, match="pair_rho_levels"):
        env.encode_action([0, 1, 2], pair=1)
    with pytest.raises(ValueError, match="exactly one"):
        env.encode_action([0, 1, 2])


def test_env__toy_instance_through_the_generator_argument():
    env = ServiceMigrationEnv(config=ToyGenerator.config(), generator=ToyGenerator())
    _, info = env.reset(seed=0)
    assert info["edges"].tolist() == [2, 0] and env.instance.name == "toy"


def test_env__horizontal_framework_offers_only_the_grid():
    env = gym.make("ServiceMigration-v0", framework="horizontal", **FAST)
    assert env.action_space.nvec[-1] == 20
    with pytest.raises(ValueError, match="pair"):
        env.unwrapped.encode_action([0, 1, 2], pair=0)


@pytest.mark.slow
@pytest.mark.numerics
def test_env__default_episode_under_sm3fl_lies_in_table2s_range():
    """Issue 15: the default env on the real backend gives the paper's Table 2 magnitudes: wall clock to target
    250-600 s (the paper: 247.57 s for SM3FL, 593.28 s for FedAvg)."""
    env = gym.make("ServiceMigration-v0", backend="real")
    policy = baselines.make_policy("sm3fl", env)
    obs, info = env.reset(seed=0)
    total = 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
        total += reward
        if terminated or truncated:
            break
    assert terminated
    assert -600.0 <= total <= -250.0
    assert total == pytest.approx(-info["wall_clock"])


def test_env__observed_pair_costs_are_eq32_relative_to_the_best_pair():
    env = gym.make("ServiceMigration-v0", **FAST)
    obs, info = env.reset(seed=6)
    cfg = env.unwrapped.cfg
    costs = core.pair_costs(cfg, info["edges"], info["slowest_rates"], info["capability"])
    preference = core.preference_matrix(costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)  # (N, K)
    observed = obs[42:].reshape(3, 8)  # modality-major
    np.testing.assert_allclose(observed, (preference.min() / preference).T, rtol=1e-6)
    assert observed.max() == 1.0 and observed.min() > 0.0


@pytest.mark.parametrize(
    "action, match",
    [
        ([[0, 1], [2, 3]], "shape"),
        ([0, [1, 2], 3, 4], "shape"),
        (None, "shape"),
        ("0123", "shape"),
        ([0, 1, 2, -1], "out of range"),
        ([0, 1, 2, 3.5], "integers"),
        ([True, False, True, False], "integers"),
    ],
)
def test_env__malformed_actions_are_named_errors(action, match):
    env = gym.make("ServiceMigration-v0", **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)
    assert env.unwrapped._state.round == 0


@pytest.mark.parametrize("action", [[0.5, 0.5, 0.5, np.nan], [0.1, 0.2, 0.3, 1.5], ["a", "b", "c", "d"]])
def test_env__malformed_box_actions_are_named_errors(action):
    env = gym.make("ServiceMigration-v0", continuous_rho=True, **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        env.step(np.array(action))
