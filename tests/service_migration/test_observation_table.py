"""The observation table of ServiceMigrationEnv's docstring is the observation's layout."""

import re

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs.net import topology
from edge_envs.service_migration import ServiceMigrationEnv, core


def table_slices(num_edges: int, num_modalities: int) -> list[slice]:
    """The slices of the docstring's "## Observation Space" table, its N and K replaced by the sizes."""
    section = ServiceMigrationEnv.__doc__.split("## Observation Space")[1].split("## Rewards")[0]
    cells = [line.split("|")[1].strip() for line in section.splitlines() if line.strip().startswith("| ")]
    assert cells[0] == "slice" and cells[1].startswith("---")
    slices = []
    for cell in cells[2:]:
        python = re.sub(r"(\d)\s*([NK])", r"\1*\2", cell.replace("K N", "K*N").replace("KN", "K*N"))
        python = python.replace("N", str(num_edges)).replace("K", str(num_modalities))
        if python.startswith("["):
            start, stop = (eval(part) for part in python.strip("[)").split(","))  # noqa: S307 (the test's own text)
        else:
            start = eval(python)  # noqa: S307
            stop = start + 1
        slices.append(slice(start, stop))
    return slices


def expected_parts(env, info) -> list[np.ndarray]:
    """Each row's content, computed from ``info`` and the config as the table words it."""
    cfg = env.unwrapped.cfg
    placement = np.zeros((cfg.num_modalities, cfg.num_edges))
    placement[np.arange(cfg.num_modalities), info["edges"]] = 1.0
    farthest = topology.distances(info["device_positions"], cfg.edge_positions).max(axis=0)
    costs = core.pair_costs(cfg, info["edges"], info["slowest_rates"], info["capability"])
    preference = core.preference_matrix(costs.psi_v, costs.psi_s, cfg.alpha, cfg.beta)
    return [
        np.minimum(info["capability"] / cfg.capability_mean_hz, 100.0),
        farthest / (cfg.area_m * np.sqrt(2.0)),
        placement.ravel(),
        [info["progress"]],
        [info["round"] / cfg.max_rounds],
        (preference.min() / preference).T.ravel(),
    ]


@pytest.mark.parametrize("kwargs", [{}, {"num_devices": 4, "max_rounds": 50}])
def test_observation__the_docstring_table_gives_every_feature_its_place(kwargs):
    env = gym.make("ServiceMigration-v0", backend="bound", **kwargs)
    cfg = env.unwrapped.cfg
    slices = table_slices(cfg.num_edges, cfg.num_modalities)
    assert [s.start for s in slices] == [0] + [s.stop for s in slices[:-1]]  # the rows tile the vector in order
    assert slices[-1].stop == env.observation_space.shape[0]
    obs, info = env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(4):  # past the first round: progress, round count and placement have moved
        obs, _, _, _, info = env.step(
            env.unwrapped.encode_action(rng.permutation(cfg.num_edges)[: cfg.num_modalities], pair=0)
        )
    assert info["round"] == 4 and info["progress"] > 0
    for where, part in zip(slices, expected_parts(env, info), strict=True):
        np.testing.assert_allclose(obs[where], np.asarray(part, dtype=np.float32), rtol=1e-6)


def test_observation__without_pair_costs_the_table_stops_before_its_last_row():
    env = gym.make("ServiceMigration-v0", backend="bound", observe_pair_costs=False)
    cfg = env.unwrapped.cfg
    assert table_slices(cfg.num_edges, cfg.num_modalities)[-2].stop == env.observation_space.shape[0]


VEHICLES = {"backend": "bound", "mobility": "gauss_markov", "speed_max_mps": 30.0, "fading": True}
"""The leaderboard's ``vehicles`` instance of ServiceMigration-v0 (benchmarks/leaderboard/scenarios.py)."""


def test_observation__pair_block_alone_gives_sm3fl_its_distinct_edges_under_fading():
    # Issue 34.3: agents put two modalities on one edge in most rounds of `vehicles`, baselines never. The
    # observation is not what they lack: SM3FL's assignment (LPT over Eq. 32's preference, no conflicts) is
    # a function of the pair block alone, which holds each pair's cost with this round's faded rates.
    from baselines.service_migration import SM3FL, lpt_assignment

    env = gym.make("ServiceMigration-v0", **VEHICLES)
    cfg = env.unwrapped.cfg
    N, K = cfg.num_edges, cfg.num_modalities
    pair_block = table_slices(N, K)[-1]
    policy = SM3FL(env)
    obs, info = env.reset(seed=20_000)
    moved = 0
    for _ in range(30):
        edges = lpt_assignment(1.0 / obs[pair_block].astype(float).reshape(K, N).T)  # best/own -> own/best
        expected = policy.decide(info)[0]
        assert edges.tolist() == expected.tolist() and len(set(edges.tolist())) == K
        moved += (edges != info["edges"]).any()
        obs, _, _, _, info = env.step(policy.act(obs, info))
    assert moved >= 5  # the assignment follows the rounds' costs, not a fixed placement


@pytest.mark.parametrize("fading", [False, True])
def test_observation__distance_column_ranks_the_edges_slowest_uploads_only_without_fading(fading):
    # The column agents trained without fading can lean on: each edge's farthest device. Without fading it
    # is the edge's slowest upload (H(n, k), Eq. 25); with fading the slowest device is a faded one.
    env = gym.make("ServiceMigration-v0", **{**VEHICLES, "fading": fading})
    cfg = env.unwrapped.cfg
    obs, info = env.reset(seed=20_000)
    agree = []
    for _ in range(20):
        upload = core.upload_per_rho(cfg, info["slowest_rates"])[:, 0]
        distance = obs[cfg.num_edges : 2 * cfg.num_edges]
        agree.append(np.argsort(distance, kind="stable").tolist() == np.argsort(upload, kind="stable").tolist())
        obs, _, _, _, info = env.step(env.unwrapped.encode_action(info["edges"], pair=0))
    assert all(agree) if not fading else sum(agree) <= 2
