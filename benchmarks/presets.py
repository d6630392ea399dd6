"""Every env x algo preset (agents.presets) trained once and scored against random and the best baseline.

Each pair trains with its preset (one A3C worker, so a run is reproducible) for the steps of ``CASES`` on
the env config there, then the agent (argmax actions), a uniformly random policy and the env's strongest
baselines play the same held-out episodes (seeds 10000, 10001, ...). A row gives the mean return per
episode (per agent per episode on the PettingZoo envs), the agent's share of the way from random to the
best baseline (0%: random, 100%: the best baseline) and the training time. rllib-ppo runs only where Ray
RLlib (the [ray] extra) is installed.

    python -m benchmarks.presets --jobs 3                     # every pair, about 40 min on 2 busy cores
    python -m benchmarks.presets --env edge_partition_multi_v0 --steps-scale 0.1

Writes benchmarks/results/presets.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import baselines
from agents import presets
from agents.envs import make_env
from agents.evaluate import EVAL_SEED, run_episodes
from agents.train import make_options, train
from benchmarks.files import RESULTS_DIR, publish


@dataclass(frozen=True)
class Case:
    """The env config a pair is benchmarked on and each algo's training steps on it."""

    env_kwargs: dict
    steps: dict
    """algo -> env steps (agent steps on a PettingZoo env)"""
    episodes: int = 3


CASES = {
    # 100-slot episodes of the default scenario (600 slots make the search baselines slow to score); the
    # single-head a3c's 15,625-way softmax makes its steps ~10x dearer than mtl-a3c's
    "EdgePartition-v0": Case(
        {"episode_slots": 100},
        {"mtl-a3c": 50_000, "a3c": 20_000, "ppo": 20_000, "a2c": 20_000, "dqn": 20_000, "rllib-ppo": 20_000},
    ),
    # the leaderboard's 'default' instance (4 devices, 4 servers)
    "edge_partition_multi_v0": Case({"episode_slots": 200}, {"mtl-a3c": 50_000, "a3c": 20_000, "rllib-ppo": 20_000}),
    # the bound backend (Corollary 1's rounds to target; the real backend trains a model every round)
    "ServiceMigration-v0": Case(
        {"backend": "bound"},
        {"mtl-a3c": 2_000, "a3c": 2_000, "ppo": 2_000, "a2c": 2_000, "dqn": 2_000, "rllib-ppo": 2_000},
        episodes=2,
    ),
    "EdgeUpload-v0": Case({}, {"maskable-ppo": 10_000, "rllib-ppo": 10_000}, episodes=5),
    # the leaderboard's 'default' instance (10 rounds; each trains the vehicles' models)
    "multiserver_fl_v0": Case({"num_rounds": 10}, {"mtl-a3c": 300, "a3c": 300, "rllib-ppo": 300}, episodes=2),
}
RESULTS = RESULTS_DIR / "presets.md"


class UniformRandom:
    """Uniformly random actions from each agent's action space, seeded by ``reset(seed)``."""

    def __init__(self, env):
        self.env = env
        self.rng = np.random.default_rng(0)

    def reset(self, seed=None) -> None:
        self.rng = np.random.default_rng(seed)

    def _sample(self, space):
        if hasattr(space, "nvec"):
            return self.rng.integers(0, space.nvec).astype(space.dtype)
        if hasattr(space, "n"):
            return int(self.rng.integers(space.n))
        return self.rng.uniform(space.low, space.high).astype(space.dtype)

    def act(self, observation, info):
        if hasattr(self.env, "possible_agents"):
            return {agent: self._sample(self.env.action_space(agent)) for agent in observation}
        return self._sample(self.env.action_space)


def random_returns(env_id: str, env_kwargs: dict, episodes: int) -> list[float]:
    """Returns of the env's 'random' baseline (else ``UniformRandom``) on the held-out episodes."""
    env = make_env(env_id, env_kwargs)
    known = baselines.available(env_id)
    player = baselines.make_policy("random", env) if "random" in known else UniformRandom(env)
    return [e.episode_return for e in run_episodes(player, env, episodes, EVAL_SEED)]


def train_pair(env_id: str, algo: str, env_kwargs: dict, steps: int, seed: int = 0, options: dict | None = None):
    """Train ``algo`` on ``env_id`` with its preset (one A3C worker; ``options`` over the preset):
    (policy, the env kwargs it trained on, wall seconds)."""
    chosen = presets.preset(env_id, algo)
    kwargs = {**chosen.env_kwargs, **env_kwargs}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as logdir:
        if algo == "maskable-ppo":
            from agents.maskable import MaskableOptions, train_maskable

            settings = MaskableOptions(**{**chosen.options, **(options or {})})
            policy = train_maskable(env_id, steps, seed, kwargs, options=settings)
        elif algo == "rllib-ppo":
            from agents import rllib

            summary = rllib.train(env_id, steps, Path(logdir), kwargs, rllib.options_for_steps(steps), seed)
            policy = rllib.RLlibPolicy.from_checkpoint(summary["checkpoint"], env_id)
        else:
            extra = {"workers": 1} if algo in ("mtl-a3c", "a3c") else {}
            settings = make_options(algo, env_id, {**extra, **(options or {})})
            policy = train(env_id, algo, steps, seed, logdir, kwargs, settings, progress=False).policy
    return policy, kwargs, time.perf_counter() - started


def others(env_id: str, env_kwargs: dict, episodes: int, strongest: bool = True) -> dict:
    """Mean held-out returns of random and (``strongest``) of each of the env's strongest baselines."""
    means = {"random": float(np.mean(random_returns(env_id, env_kwargs, episodes)))}
    for name in baselines.strongest(env_id) if strongest else []:
        env = make_env(env_id, env_kwargs)
        played = run_episodes(baselines.make_policy(name, env), env, episodes, EVAL_SEED)
        means[name] = float(np.mean([e.episode_return for e in played]))
    return means


def agent_return(env_id: str, algo: str, case: Case, seed: int = 0, scale: float = 1.0, options=None) -> dict:
    """Train the pair and play the held-out episodes: the agent's mean return, its steps, training time and the
    env kwargs it played on."""
    steps = max(64, int(case.steps[algo] * scale))
    policy, kwargs, wall_s = train_pair(env_id, algo, case.env_kwargs, steps, seed, options)
    played = run_episodes(policy, make_env(env_id, kwargs), case.episodes, EVAL_SEED)
    return {
        "steps": steps,
        "train_s": wall_s,
        "agent": float(np.mean([e.episode_return for e in played])),
        "kwargs": kwargs,
    }


def score(env_id: str, algo: str, case: Case, seed: int = 0, options=None) -> dict:
    """``agent_return`` beside random's mean return on the same episodes (the learning smoke test's check)."""
    result = agent_return(env_id, algo, case, seed, options=options)
    return {**result, "random": others(env_id, result["kwargs"], case.episodes, strongest=False)["random"]}


def row(env_id: str, algo: str, result: dict, means: dict) -> str:
    best_name, best = max(
        ((name, value) for name, value in means.items() if name != "random"),
        key=lambda item: item[1],
        default=("-", float("nan")),
    )
    span = best - means["random"]
    share = 100.0 * (result["agent"] - means["random"]) / span if span > 0 else float("nan")
    return (
        f"| {env_id} | {algo} | {presets.preset(env_id, algo).name} | {result['steps']} | {result['agent']:.4g} | "
        f"{means['random']:.4g} | {best_name} {best:.4g} | {share:.0f}% | {result['train_s']:.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", choices=sorted(CASES), help="only this env (repeatable)")
    parser.add_argument("--algo", action="append", help="only this algo (repeatable)")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="multiply every pair's training steps")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file")
    parser.add_argument("--jobs", type=int, default=2, help="pairs trained at once (processes of one thread)")
    args = parser.parse_args(argv)
    if args.steps_scale <= 0:
        parser.error(f"--steps-scale must be > 0, got {args.steps_scale}")
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    started = time.perf_counter()
    has_ray = importlib.util.find_spec("ray") is not None
    lines = [
        "# Presets: each env x algo pair trained with its preset",
        "",
        "Mean return per held-out episode (per agent per episode on PettingZoo envs); 'of the way': the agent's share "
        "of the way from random (0%) to the best of the env's strongest baselines (100%). One training seed "
        f"({args.seed}), one A3C worker; env configs and steps: `benchmarks.presets.CASES`.",
        "",
        "| env | algo | preset | steps | agent | random | best baseline | of the way | training (s) |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    pairs, skipped = [], []
    for env_id in args.env or list(CASES):
        for algo in presets.algos_for(env_id):
            if args.algo and algo not in args.algo:
                continue
            if algo == "rllib-ppo" and not has_ray:
                skipped.append(f"{env_id} {algo}")
                continue
            pairs.append((env_id, algo))
    # the agents and, once per env config, the baselines, in --jobs processes (one thread each)
    configs = {}
    for env_id, algo in pairs:
        kwargs = {**presets.preset(env_id, algo).env_kwargs, **CASES[env_id].env_kwargs}
        configs.setdefault(json.dumps([env_id, kwargs], sort_keys=True), (env_id, kwargs))
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        agents = {pair: pool.submit(agent_return, *pair, CASES[pair[0]], args.seed, args.steps_scale) for pair in pairs}
        means = {
            key: pool.submit(others, env_id, kwargs, CASES[env_id].episodes)
            for key, (env_id, kwargs) in configs.items()
        }
        for (env_id, algo), future in agents.items():
            result = future.result()
            lines.append(
                row(env_id, algo, result, means[json.dumps([env_id, result["kwargs"]], sort_keys=True)].result())
            )
            print(lines[-1], flush=True)
    if skipped:
        lines += ["", f"Not run (needs Ray RLlib, the [ray] extra): {', '.join(skipped)}."]
    lines.append("")
    publish(args.out, lines, "benchmarks.presets", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
