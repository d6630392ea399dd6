"""Golden trajectories: seeded episodes of every EdgePartition env hash to values recorded before a refactor.

Each case runs a seeded episode with actions from a seeded Generator and hashes (SHA-256) every
observation, reward, termination, truncation and every number of ``info``, so any change to the
trajectories, however small, fails here. The hashes were recorded on the code before the layout
refactor (issue 12); a change of dynamics must bump the env's version and record new ones.
"""

import hashlib

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs import edge_partition_multi_v0
from edge_envs.edge_partition import ToyGenerator


class Digest:
    """SHA-256 over the bytes of a sequence of values (shape and dtype included)."""

    def __init__(self):
        self._hash = hashlib.sha256()

    def add(self, value) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                self._hash.update(key.encode())
                self.add(value[key])
            return
        array = np.asarray(value)
        if array.dtype.kind in "biuf" and array.dtype != np.float32:
            array = array.astype(np.float64)
        self._hash.update(f"{array.dtype.str}{array.shape}".encode())
        self._hash.update(np.ascontiguousarray(array).tobytes())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def single_digest(steps: int, seed: int, **kwargs) -> str:
    env = gym.make("EdgePartition-v0", **kwargs)
    rng = np.random.default_rng(seed + 100)
    digest = Digest()
    obs, info = env.reset(seed=seed)
    digest.add(obs), digest.add(info)
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, env.action_space.nvec))
        for value in (obs, reward, terminated, truncated, info):
            digest.add(value)
        if terminated or truncated:
            obs, info = env.reset()
            digest.add(obs), digest.add(info)
    return digest.hexdigest()


def vector_digest(num_envs: int, steps: int, seed: int, **kwargs) -> str:
    venv = gym.make_vec("EdgePartition-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    rng = np.random.default_rng(seed + 100)
    digest = Digest()
    obs, _ = venv.reset(seed=seed)
    digest.add(obs)
    nvec = venv.single_action_space.nvec
    for _ in range(steps):
        for value in venv.step(rng.integers(0, nvec, size=(num_envs, len(nvec)))):
            digest.add(value)
    obs, _ = venv.reset()
    digest.add(obs)
    return digest.hexdigest()


def multi_digest(steps: int, seed: int, **kwargs) -> str:
    env = edge_partition_multi_v0.parallel_env(**kwargs)
    rng = np.random.default_rng(seed + 100)
    digest = Digest()
    obs, infos = env.reset(seed=seed)
    digest.add(obs), digest.add(infos)
    for _ in range(steps):
        if not env.agents:
            obs, infos = env.reset()
            digest.add(obs), digest.add(infos)
        actions = {agent: rng.integers(0, env.action_space(agent).nvec) for agent in env.agents}
        for value in env.step(actions):
            digest.add(value)
    return digest.hexdigest()


CASES = {
    "single_default": (single_digest, dict(steps=80, seed=0)),
    "single_contention_free": (single_digest, dict(steps=60, seed=1, contention_free=True, episode_slots=25)),
    "single_energy_runs_out": (single_digest, dict(steps=120, seed=2, energy_budget_j=300.0, task_rate=100)),
    "single_poisson_resnet": (
        single_digest,
        dict(steps=40, seed=3, model="resnet32", num_blocks=9, num_servers=7, task_rate=110, poisson_tasks=True),
    ),
    "single_toy": (single_digest, dict(steps=12, seed=4, config=ToyGenerator.config())),
    "vector_autoreset": (vector_digest, dict(num_envs=5, steps=70, seed=5, episode_slots=25)),
    "vector_energy_runs_out": (vector_digest, dict(num_envs=4, steps=90, seed=6, energy_budget_j=300.0, task_rate=100)),
    "vector_contention_free": (
        vector_digest,
        dict(num_envs=3, steps=30, seed=7, contention_free=True, episode_slots=20),
    ),
    "vector_wide_threads": (vector_digest, dict(num_envs=300, steps=6, seed=10, episode_slots=4)),
    "multi_default": (multi_digest, dict(steps=50, seed=8, episode_slots=40)),
    "multi_energy_runs_out": (multi_digest, dict(steps=60, seed=9, episode_slots=80, energy_budget_j=150.0)),
}

GOLDEN = {
    "multi_energy_runs_out": "19668ed706430c413897da5c76c4cd29daa44cbd412ce9d797bf50aea57ea3fe",
    "single_contention_free": "f1620db20c16761c6961578202fce3d76cedac2083b2c9f4dd2b039157f12018",
    "single_default": "6a42cf6efa177bbd64f2814068988f9903de613c65d90de639e91fc7391d32ba",
    "single_energy_runs_out": "58927b96e01782bc9de68534aa000322d5e5197e076bfd787feee9c985846ec4",
    "single_poisson_resnet": "66e0c6160f8155edfca500dc3c8b1b27f849cb152847e53a19de92fef49a1f1c",
    "single_toy": "61324d09025d52c57759eea2865fac0d365740fedc307a4642e268df8a32f99a",
    "vector_autoreset": "05823d4a1645e5ac33d7769b6472962f3b6a3c60e74141ad0ea202e67ffc3e88",
    "vector_contention_free": "9d485627eaddf619125b5dd7388838441f97df53b051c13e0c6a481bd0e2b717",
    "vector_energy_runs_out": "760c981a265a8a66335a9ff2dcb3a51e181182b97d851865a1c55dbd35b39e03",
    "vector_wide_threads": "7eed62605cd4c7b744691c382fac4368e0a4a8008c1eb81c499f410c8652c1d0",
    "multi_default": "e1dd0ef13464a17d173ec2a0b98b4c5e026a899880a3f1e2c5a35f716d78f0f5",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden__seeded_trajectories_are_bit_identical_to_the_recorded_ones(case):
    run, kwargs = CASES[case]
    assert run(**kwargs) == GOLDEN[case]


if __name__ == "__main__":  # prints the table to paste into GOLDEN: python -m tests.edge_partition.test_golden
    for name in sorted(CASES):
        run, kwargs = CASES[name]
        print(f"    {name!r}: {run(**kwargs)!r},")
