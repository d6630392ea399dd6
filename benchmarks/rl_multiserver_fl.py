"""An RL policy trained on multiserver_fl_v0 against SPAA and the other rules, on held-out seeds.

Train first with the project's multi-task A3C (one network shared by the five RSU agents; discrete
weight levels through ``action_levels``), for example::

    python -m edge_envs.cli train --env multiserver_fl_v0 --algo mtl-a3c --steps 30000 --workers 2 \\
        --env-kwargs '{"action_levels": 2, "num_rounds": 20, "num_faulty": 1}' --logdir runs --eval-episodes 0 \\
        --gamma 1.0 --reward-scale 10 --normalize-advantage --rmsprop-eps 1e-5 --lr-actor 3e-4 --lr-critic 1e-3

then compare on the checkpoint's env kwargs (held-out seeds 100, 101, ...; training used others)::

    python -m benchmarks.rl_multiserver_fl --checkpoint runs/<run>/checkpoint.pt

Writes benchmarks/results/rl_multiserver_fl.md (atomically) and prints it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import baselines
from agents.checkpoint import load_checkpoint
from agents.policy import policy_from_payload
from benchmarks.files import RESULTS_DIR, publish
from edge_envs import multiserver_fl_v0

RESULTS = RESULTS_DIR / "rl_multiserver_fl.md"
RULES = ("spaa", "dwaa", "sa", "ba", "wa", "single-server")


def run(make_policy, kwargs: dict, seed: int) -> dict:
    env = multiserver_fl_v0.parallel_env(**kwargs)
    policy = make_policy(env)
    obs, infos = env.reset(seed=seed)
    honest = np.array(env.possible_agents)[~env.core_state.instance.faulty]
    total, started = 0.0, time.perf_counter()
    while env.agents:
        obs, rewards, _, _, infos = env.step(policy.act(obs, infos))
        total += float(np.mean([rewards[a] for a in honest]))
    return {
        "return": total,
        "test_acc": float(np.mean([infos[a]["test_acc"] for a in honest])),
        "f1": float(np.mean([infos[a]["f1"] for a in honest])),
        "wall_s": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--env-kwargs", default=None, help="JSON env kwargs (default: the checkpoint's)")
    parser.add_argument("--seeds", type=int, default=5, help="held-out seeds 100, 101, ...")
    parser.add_argument("--out", default=str(RESULTS), help="result file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    payload = load_checkpoint(args.checkpoint)
    kwargs = json.loads(args.env_kwargs if args.env_kwargs is not None else payload["env_kwargs"])
    probe = multiserver_fl_v0.parallel_env(**kwargs)
    trained = policy_from_payload(payload, probe)
    rows = [("mtl-a3c (trained)", lambda env: trained, kwargs)]
    rows += [(name, (lambda env, name=name: baselines.make_policy(name, env)), kwargs) for name in RULES]
    box = {**kwargs, "action_levels": 0}  # the rules' own continuous weights, for reference
    rows += [
        (f"{name} (Box weights)", (lambda env, name=name: baselines.make_policy(name, env)), box)
        for name in ("spaa", "ba")
    ]
    lines = [
        f"# RL policy vs server-level rules on multiserver_fl_v0 {kwargs}",
        "",
        f"Held-out seeds 100-{99 + args.seeds}; return = sum of rewards (mean over honest servers); "
        "last-round test accuracy and macro F1 over honest servers; mean ± std over seeds.",
        "",
        "| policy | return | test accuracy | F1 | wall per episode (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, make, env_kwargs in rows:
        runs = [run(make, env_kwargs, 100 + s) for s in range(args.seeds)]
        cell = {k: (np.mean([r[k] for r in runs]), np.std([r[k] for r in runs])) for k in runs[0]}
        lines.append(
            f"| {name} | {cell['return'][0]:.3f} ± {cell['return'][1]:.3f} | "
            f"{cell['test_acc'][0]:.3f} ± {cell['test_acc'][1]:.3f} | {cell['f1'][0]:.3f} ± {cell['f1'][1]:.3f} "
            f"| {cell['wall_s'][0]:.1f} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        f"Checkpoint: `{args.checkpoint}`: {payload['algo']}, seed {payload['seed']}, {payload['steps']} "
        f"agent-steps, {payload['updates']} updates, options {payload['options']}.",
        "The rules act through the same discrete levels (weights rounded to levels relative to the largest); "
        "the (Box weights) rows run the same scenario with continuous weights.",
        "",
    ]
    publish(Path(args.out), lines, "benchmarks.rl_multiserver_fl", argv, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
