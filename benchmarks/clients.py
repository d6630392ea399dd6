"""Issue 27's table, rerun as a new user would: RL libraries the project did not write, run on the suite's envs.

Each row runs in a fresh Python process in an empty scratch folder, with this interpreter (so run it from a
venv that has the ``[clients]`` extra: RL Zoo, TorchRL, SuperSuit, Tianshou), and reads "works" with what
it did and its wall time, or "fails" with the error's last line. Rows a client cannot take (Tianshou has no
MultiDiscrete DQN) are not run.

    python -m benchmarks.clients            # about 5 minutes on 2 busy cores

Writes benchmarks/results/clients.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edge_envs.io import write_atomically

GYM_IDS = ("EdgePartition-v0", "ServiceMigration-v0", "EdgeUpload-v0")
PZ = {
    "edge_partition_multi_v0": "edge_partition_multi_v0.parallel_env()",
    "multiserver_fl_v0": "multiserver_fl_v0.parallel_env(num_vehicles=10, num_rounds=5)",
}
PACKAGES = ("torch", "gymnasium", "pettingzoo", "stable_baselines3", "rl_zoo3", "torchrl", "tensordict", "supersuit",
            "tianshou", "numpy")  # fmt: skip

TORCHRL_GYM = """
import edge_envs
from torchrl.envs import GymEnv
from torchrl.envs.utils import check_env_specs
env = GymEnv({env!r})
check_env_specs(env)
print(f"check_env_specs, {{env.rollout(300, break_when_any_done=False).batch_size[0]}} steps")
"""
TORCHRL_PZ = """
from edge_envs import {name}
from torchrl.envs import PettingZooWrapper
from torchrl.envs.utils import check_env_specs
env = PettingZooWrapper({make}, return_state=False)
check_env_specs(env)
steps = env.rollout(20, break_when_any_done=False).batch_size[0]
print(f"groups {{list(env.group_map)}}, check_env_specs, {{steps}} steps")
"""
SUPERSUIT = """
import supersuit
from stable_baselines3 import PPO
from edge_envs import {name}
vec = supersuit.pettingzoo_env_to_vec_env_v1({make})
vec = supersuit.concat_vec_envs_v1(vec, 1, num_cpus=0, base_class="stable_baselines3")
model = PPO("MlpPolicy", vec, n_steps=64, batch_size=64, n_epochs=1).learn(256)
print(f"PPO, {{model.num_timesteps}} agent steps")
"""
TIANSHOU = """
import gymnasium as gym
import edge_envs
from tianshou.algorithm.modelfree.dqn import DQN, DiscreteQLearningPolicy
from tianshou.algorithm.optim import AdamOptimizerFactory
from tianshou.data import Collector, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.utils.net.common import Net
from tianshou.utils.torch_utils import policy_within_training_step
env = gym.make({env!r})
envs = DummyVectorEnv([lambda: gym.make({env!r}) for _ in range(2)])
net = Net(state_shape=env.observation_space.shape, action_shape=env.action_space.n, hidden_sizes=[32])
policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space, eps_training=1.0)
algorithm = DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3))
collector = Collector(algorithm, envs, VectorReplayBuffer(1000, 2), exploration_noise=True)
collector.reset()
stats = collector.collect(n_step=300)
with policy_within_training_step(policy):
    algorithm.update(sample_size=32, buffer=collector.buffer)
print(f"DQN, {{stats.n_collected_steps}} steps collected, one update")
"""
ASYNC = """
import gymnasium as gym
import edge_envs
envs = gym.make_vec({env!r}, num_envs=2, vectorization_mode="async")
envs.reset(seed=0)
for _ in range(150):
    envs.step(envs.action_space.sample())
envs.close()
print("action_space.sample(), 150 batched steps")
"""
SPEED = """
import time
import gymnasium as gym
import edge_envs
env = gym.make("ServiceMigration-v0"{kwargs})
env.reset(seed=0)
env.action_space.seed(0)
start, steps = time.perf_counter(), 0
while time.perf_counter() - start < {seconds} or steps < 3:
    _, _, terminated, truncated, _ = env.step(env.action_space.sample())
    steps += 1
    if terminated or truncated:
        env.reset()
print(f"{{steps / (time.perf_counter() - start):.3g}} steps/s (random actions, {{steps}} steps)")
"""
RENDER = """
import gymnasium as gym
import edge_envs
from edge_envs import multiserver_fl_v0
env = {make}
env.reset(seed=0)
print(f"frame {{env.render().shape}}")
"""


def rows() -> list[tuple[str, str, list[str] | None]]:
    """(client, env, command) per row; command None: the client does not take the env's action space."""
    python = sys.executable
    table = []
    for env in GYM_IDS:
        table.append(("RL Zoo `rl_zoo3.train --algo ppo` (defaults, 2048 steps)", env,
                      [python, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", env, "--gym-packages", "edge_envs",
                       "-n", "2048", "--log-folder", "logs", "--verbose", "0"]))  # fmt: skip
    for env in GYM_IDS:
        table.append(("TorchRL `GymEnv`", env, [python, "-c", TORCHRL_GYM.format(env=env)]))
    for name, make in PZ.items():
        table.append(("TorchRL `PettingZooWrapper`", name, [python, "-c", TORCHRL_PZ.format(name=name, make=make)]))
    for name, make in PZ.items():
        if name == "edge_partition_multi_v0":
            make = "edge_partition_multi_v0.parallel_env(black_death=True)"
            name += " (`black_death=True`)"
        module = name.split(" ")[0]
        table.append(("SuperSuit `pettingzoo_env_to_vec_env_v1` + SB3 PPO", name,
                      [python, "-c", SUPERSUIT.format(name=module, make=make)]))  # fmt: skip
    for env in GYM_IDS:
        command = [python, "-c", TIANSHOU.format(env=env)] if env == "EdgeUpload-v0" else None
        table.append(("Tianshou 2.0 DQN", env, command))
    for env in GYM_IDS:
        table.append(("`gym.make_vec(..., vectorization_mode='async')`", env, [python, "-c", ASYNC.format(env=env)]))
    cli = [python, "-m", "edge_envs_cli", "train", "--no-progress", "--eval-episodes", "0", "--logdir", "runs"]
    table.append(("`edge-envs train --algo ppo`", "EdgeUpload-v0",
                  [*cli, "--algo", "ppo", "--env", "EdgeUpload-v0", "--steps", "2048"]))  # fmt: skip
    table.append(("`edge-envs train --algo mtl-a3c` (Box actions: refused, naming action_levels)", "multiserver_fl_v0",
                  [*cli, "--algo", "mtl-a3c", "--env", "multiserver_fl_v0", "--steps", "16", "--env-kwargs",
                   '{"action_levels": 0, "num_vehicles": 10}']))  # fmt: skip
    for env, make in (
        ("EdgeUpload-v0", "gym.make('EdgeUpload-v0', render_mode='rgb_array')"),
        ("multiserver_fl_v0", "multiserver_fl_v0.parallel_env(render_mode='rgb_array', num_vehicles=10)"),
    ):
        table.append(('`render_mode="rgb_array"`', env, [python, "-c", RENDER.format(make=make)]))
    for label, kwargs in (("default (`bound`)", ""), ('`backend="real"`', ", backend='real'")):
        table.append((f"ServiceMigration-v0 steps/s, {label} backend", "ServiceMigration-v0",
                      [python, "-c", SPEED.format(kwargs=kwargs, seconds=20)]))  # fmt: skip
    return table


def run_row(command: list[str], timeout_s: float) -> str:
    """'works: what it printed (wall s)' or 'fails: the error's last line'; a refusal the row expects (exit 2
    with one line naming the fix) reads 'refused: ...'."""
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return f"fails: over {timeout_s:.0f} s"
        wall = time.perf_counter() - start
    out = [line for line in done.stdout.strip().splitlines() if line.strip()]
    err = [line for line in done.stderr.strip().splitlines() if line.strip() and "Warning" not in line]
    if done.returncode == 0:
        return f"works: {out[-1] if out else 'trained'} ({wall:.0f} s)"
    if done.returncode == 2 and len(err) == 1:
        return f"refused: {err[0]}"
    return f"fails: {(err or out or ['exit ' + str(done.returncode)])[-1][:300]}"


def versions() -> str:
    found = []
    for package in PACKAGES:
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/clients.md"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per row")
    args = parser.parse_args(argv)
    lines = [
        "# Clients of the ecosystem, unmodified (issue 27's table, rerun)",
        "",
        "Written by `python -m benchmarks.clients` (each row a fresh process in an empty folder). Versions: "
        + versions()
        + ".",
        "",
        "| client | env | result |",
        "| --- | --- | --- |",
    ]
    for client, env, command in rows():
        result = "not run: Tianshou's DQN takes Discrete actions, this env's are MultiDiscrete"
        if command is not None:
            result = run_row(command, args.timeout).replace("|", "\\|")
        lines.append(f"| {client} | {env} | {result} |")
        print(lines[-1], flush=True)
    write_atomically(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
