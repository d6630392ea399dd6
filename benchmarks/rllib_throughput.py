"""Env steps per second of PPO training: RLlib with 1 and 2 env runners against SB3, in one run.

Every row trains PPO on ``EdgePartition-v0`` (200-slot episodes) for the same number of env steps with
the same batch (2000 steps), minibatch (250), epochs (4) and 64x64 networks, and reports env steps per
second of the whole training (sampling and learning). The machine is shared and noisy, so the
figure that matters is the ratio to SB3 measured in the same run. Needs the ``[ray]`` extra.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.files import publish

ENV_ID = "EdgePartition-v0"
ENV_KWARGS = {"episode_slots": 200}
BATCH, MINIBATCH, EPOCHS = 2000, 250, 4


def sb3_sps(steps: int, seed: int) -> float:
    """SB3 PPO (one env, the same batch, minibatch, epochs and networks) env steps per second."""
    import gymnasium as gym
    from stable_baselines3 import PPO

    import edge_envs  # noqa: F401

    model = PPO(
        "MlpPolicy",
        gym.make(ENV_ID, **ENV_KWARGS),
        n_steps=BATCH,
        batch_size=MINIBATCH,
        n_epochs=EPOCHS,
        gamma=0.95,
        seed=seed,
        device="cpu",
    )
    start = time.perf_counter()
    model.learn(steps)
    return steps / (time.perf_counter() - start)


def rllib_sps(steps: int, env_runners: int, seed: int) -> float:
    from agents.rllib import RLlibOptions, train

    options = RLlibOptions(env_runners=env_runners, train_batch=BATCH, minibatch=MINIBATCH, epochs=EPOCHS)
    with tempfile.TemporaryDirectory() as run_dir:
        return train(ENV_ID, steps, run_dir, ENV_KWARGS, options, seed=seed)["sps"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per row (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/rllib_throughput.md"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = [("SB3 PPO, 1 env", sb3_sps(args.steps, args.seed))]
    for runners in (1, 2):
        rows.append(
            (f"RLlib PPO, {runners} env runner{'s' * (runners > 1)}", rllib_sps(args.steps, runners, args.seed))
        )
    base = rows[0][1]
    lines = [
        f"# PPO training throughput on {ENV_ID} ({args.steps} env steps per row)",
        "",
        "| trainer | env steps/s | ratio to SB3 |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {sps:,.0f} | {sps / base:.2f} |" for name, sps in rows]
    lines.append("")
    publish(args.out, lines, "benchmarks.rllib_throughput", argv, started)


if __name__ == "__main__":
    main()
