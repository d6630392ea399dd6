"""Every project entry of the leaderboard: each baseline, each trained agent and each reference, then the tables.

    python -m benchmarks.leaderboard.populate                      # every env of the scenario sets
    python -m benchmarks.leaderboard.populate --env EdgePartition-v0
    python -m benchmarks.leaderboard.populate --train              # retrain the agents first

Entries of baselines, agents and references that no longer exist are removed first (submissions
are kept). Baselines are every name ``baselines.available(env)`` lists (reference policies such as an exact
per-step solver included); references are the env's ``REFERENCES``; agents are the checkpoints in
``benchmarks/leaderboard/agents/``, trained by ``--train`` with the settings of ``AGENTS`` (one
checkpoint per instance size, since a network's input and output sizes are fixed). The committed
checkpoints hold the policy only (no optimizer state: they load and act, they do not resume).
Each agent is trained with the same call as
``edge-envs train --env ENV --algo ALGO --steps STEPS --seed SEED --env-kwargs KWARGS [--workers 1 | --envs 8]``
where KWARGS are the instance's config keywords. Entries are re-recorded (``--overwrite``)
through the same isolated runner as ``leaderboard run``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.leaderboard.render import OUT_DIR
from benchmarks.leaderboard.results import RESULTS_DIR, ResultError, read_result, result_files, write_result
from benchmarks.leaderboard.scenarios import SETS, references, scenario_set

ROOT = Path(__file__).resolve().parents[2]  # the repository root: specs name checkpoints relative to it
AGENT_DIR = ROOT / "benchmarks" / "leaderboard" / "agents"


@dataclass(frozen=True)
class Agent:
    """A trained agent of the project: one checkpoint per instance it is trained on."""

    env_id: str
    algo: str
    steps: dict
    """instance name -> training steps (the instance's config keywords are the training env's)."""
    options: dict = field(default_factory=dict)
    seed: int = 1

    def checkpoint(self, instance: str) -> Path:
        return AGENT_DIR / f"{self.env_id}__{self.algo}__{instance}.pt"

    def spec(self) -> str:
        return "checkpoint:" + ",".join(str(self.checkpoint(name).relative_to(ROOT)) for name in self.steps)

    def command(self, instance: str) -> str:
        import json

        kwargs = json.dumps(scenario_set(self.env_id).instance(instance).kwargs)
        flags = " ".join(f"--{k} {v}" for k, v in self.options.items())
        return (
            f"edge-envs train --env {self.env_id} --algo {self.algo} --steps {self.steps[instance]} --seed {self.seed} "
            f"--env-kwargs '{kwargs}' {flags}"
        ).strip()


AGENTS = (
    Agent("EdgePartition-v0", "mtl-a3c", {"default": 200_000, "unseen": 200_000}, {"workers": 1}),
    Agent("EdgePartition-v0", "ppo", {"default": 50_000, "unseen": 50_000}, {"envs": 8}),
    Agent("edge_partition_multi_v0", "mtl-a3c", {"default": 100_000}, {"workers": 1}),
    Agent("ServiceMigration-v0", "ppo", {"bound": 30_000}, {"envs": 4}),
)


def train_agent(agent: Agent) -> None:
    """Train ``agent`` on each of its instances and keep each policy-only checkpoint in AGENT_DIR."""
    from agents.checkpoint import load_checkpoint, save_checkpoint
    from agents.train import make_options, train

    scenarios = scenario_set(agent.env_id)
    for name, steps in agent.steps.items():
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as logdir:
            run = train(
                agent.env_id,
                agent.algo,
                steps,
                seed=agent.seed,
                logdir=logdir,
                env_kwargs=scenarios.instance(name).kwargs,
                options=make_options(agent.algo, agent.env_id, agent.options),
                progress=False,
            )
            payload = load_checkpoint(run.checkpoint)
        payload["optimizer"] = {}  # policy-only: the optimizer state only matters for resuming training
        for key in ("format", "version", "sha256"):
            payload.pop(key)
        save_checkpoint(agent.checkpoint(name), payload)
        print(
            f"trained {agent.algo} on {agent.env_id} {name}: {steps} steps, {time.perf_counter() - started:.0f} s "
            f"({agent.command(name)})",
            flush=True,
        )


def _record(env_id: str, spec: str, name: str, results_dir: Path, time_limit: float) -> bool:
    from benchmarks.leaderboard.runner import PolicyError, record

    started = time.perf_counter()
    try:
        path, result = record(env_id, spec, name, results_dir, time_limit, progress=False, overwrite=True)
    except (PolicyError, ResultError, ValueError) as error:
        print(f"FAILED {env_id} {name}: {error}", flush=True)
        return False
    mean = sum(e["return"] for e in result["episodes"]) / len(result["episodes"])
    print(f"{env_id:24s} {name:20s} mean return {mean:12.6g}  {time.perf_counter() - started:6.1f} s", flush=True)
    return True


def prune(env_id: str, results_dir: Path, keep: dict) -> None:
    """Remove the project entries of ``env_id`` that no longer exist (a renamed baseline, a dropped agent);
    ``keep`` maps a kind ("baseline", "agent", "reference") to the names it still has. Submissions stay."""
    for path in result_files(results_dir):
        result = read_result(path)
        if (
            result.get("env") == env_id
            and result.get("kind") in keep
            and result.get("name") not in keep[result["kind"]]
        ):
            path.unlink()
            print(f"removed {path.name}: {env_id} has no {result['kind']} {result['name']!r} any more", flush=True)


def populate(env_id: str, results_dir: Path, time_limit: float) -> bool:
    """Record every baseline, reference and agent of ``env_id``; False if any failed."""
    import baselines
    from benchmarks.leaderboard.runner import reference_result

    agents = [agent.algo for agent in AGENTS if agent.env_id == env_id]
    keep = {
        "baseline": baselines.available(env_id),
        "reference": list(references(scenario_set(env_id))),
        "agent": agents,
    }
    prune(env_id, results_dir, keep)
    ok = True
    for name in baselines.available(env_id):
        ok &= _record(env_id, f"baseline:{name}", name, results_dir, time_limit)
    for name in references(scenario_set(env_id)):
        started = time.perf_counter()
        write_result(reference_result(env_id, name), results_dir, overwrite=True)
        print(f"{env_id:24s} reference {name} {time.perf_counter() - started:6.1f} s", flush=True)
    for agent in AGENTS:
        if agent.env_id != env_id:
            continue
        if not all(agent.checkpoint(name).is_file() for name in agent.steps):
            print(f"SKIPPED {env_id} {agent.algo}: no checkpoints in {AGENT_DIR} (run with --train)", flush=True)
            ok = False
            continue
        ok &= _record(env_id, agent.spec(), agent.algo, results_dir, time_limit)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", choices=sorted(SETS), help="only this env (repeatable; default: all)")
    parser.add_argument("--train", action="store_true", help="train the agents of AGENTS first (minutes)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per decision (default 30)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder (default: the project's)")
    args = parser.parse_args(argv)
    if Path.cwd().resolve() != ROOT:
        parser.error(f"run from the repository root {ROOT} (the agents' specs name their checkpoints relative to it)")
    started, ok = time.perf_counter(), True
    for env_id in args.env or list(SETS):
        if args.train:
            for agent in AGENTS:
                if agent.env_id == env_id:
                    train_agent(agent)
        ok &= populate(env_id, args.results, args.time_limit)
    from benchmarks.leaderboard.cli import main as leaderboard

    if args.results == RESULTS_DIR:
        ok &= leaderboard(["render", "--out", str(OUT_DIR)]) == 0
    print(f"populated in {time.perf_counter() - started:.0f} s" + ("" if ok else " (with failures above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
