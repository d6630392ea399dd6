"""Every project entry of the leaderboard: each baseline, each trained agent and each reference, then the tables.

    python -m benchmarks.leaderboard.populate                      # every env of the scenario sets
    python -m benchmarks.leaderboard.populate --env EdgePartition-v0
    python -m benchmarks.leaderboard.populate --train              # retrain the agents first
    python -m benchmarks.leaderboard.populate --env EdgeUpload-v0 --agent maskable-ppo --train  # one agent only

Entries of baselines, agents and references that no longer exist are removed first (submissions
are kept). Baselines are every name ``baselines.available(env)`` lists (reference policies such as an exact
per-step solver included); references are the env's ``REFERENCES``; agents are the checkpoints in
``benchmarks/leaderboard/agents/``, trained by ``--train`` with the settings of ``AGENTS`` (one
checkpoint per instance size, since a network's input and output sizes are fixed; the generalist's one
checkpoint, trained on an instance distribution, plays every size); the agents of ``REFINED_AGENTS`` are also
entered with their placements improved by local search (``local-search:`` specs over the same checkpoints,
entries named ALGO+local-search). The committed checkpoints hold the policy only (no optimizer state: they load
and act, they do not resume).
Each agent is trained with the same call as
``edge-envs train --env ENV --algo ALGO --steps STEPS --seed SEED --env-kwargs KWARGS [--preset VARIANT] [--workers 1]``
where KWARGS are the instance's config keywords: the settings are the env x algo preset's (agents.presets,
which also adds keywords such as multiserver_fl's ``action_levels``, whose discrete levels the leaderboard
maps back to the instance's Box weights); ``--workers 1`` makes an A3C run reproducible. Entries are
re-recorded (``--overwrite``) through the same isolated runner as ``leaderboard run``; with ``--agent``
only the named agents are (re)trained and recorded.

The rllib-ppo agents (RLModule folders, which unpickle) need Ray RLlib, the ``[ray]`` extra, which
pins another gymnasium and so lives in a venv of its own: train and record them with that venv's
Python (``.venv-ray/bin/python -m benchmarks.leaderboard.populate --env ENV --agent rllib-ppo``);
elsewhere they are skipped and their entries kept. ``validate`` replays every entry from its
recorded actions, so it needs no Ray.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from agents.generalist import GENERALIST
from agents.presets import DEFAULT
from agents.priced import PRICED
from benchmarks.leaderboard.policies import REFINED
from benchmarks.leaderboard.render import OUT_DIR
from benchmarks.leaderboard.results import RESULTS_DIR, ResultError, read_result, result_files, write_result
from benchmarks.leaderboard.scenarios import SETS, references, scenario_set

ROOT = Path(__file__).resolve().parents[2]  # the repository root: specs name checkpoints relative to it
AGENT_DIR = ROOT / "benchmarks" / "leaderboard" / "agents"
ONE_WORKER = {"workers": 1}  # an A3C run with one worker is reproducible bit for bit
PRICED_STEPS = 32_200  # the warm start (200 slots) and 10 iterations of 16 episodes of 200 slots
RLLIB = "rllib-ppo"  # needs Ray RLlib (the [ray] extra): trained and recorded only where it is installed


@dataclass(frozen=True)
class Agent:
    """A trained agent of the project: one checkpoint per instance it is trained on."""

    env_id: str
    algo: str
    steps: dict
    """instance name -> training steps (the instance's config keywords are the training env's)."""
    options: dict = field(default_factory=dict)
    instance_options: dict = field(default_factory=dict)
    """instance name -> options over ``options`` for that instance only (e.g. its warm start's teacher)."""
    seed: int = 1
    env_kwargs: dict = field(default_factory=dict)
    """Config keywords added to the instance's for training (the preset's come under them)."""
    preset: str = DEFAULT
    """The env x algo preset's variant the agent trains with (agents.presets)."""

    def train_kwargs(self, instance: str) -> dict:
        if self.algo == GENERALIST:  # one checkpoint for every instance, trained on a distribution
            return dict(self.env_kwargs)
        return {**scenario_set(self.env_id).instance(instance).kwargs, **self.env_kwargs}

    def checkpoint(self, instance: str) -> Path:
        """The agent's checkpoint file (rllib-ppo: its RLModule folder) for ``instance``."""
        suffix = "" if self.algo == RLLIB else ".pt"
        return AGENT_DIR / f"{self.env_id}__{self.algo}__{instance}{suffix}"

    def options_for(self, instance: str) -> dict:
        """The options (over the preset's) the agent trains with on ``instance``."""
        return {**self.options, **self.instance_options.get(instance, {})}

    def spec(self) -> str:
        kind = "rllib" if self.algo == RLLIB else "checkpoint"
        return f"{kind}:" + ",".join(str(self.checkpoint(name).relative_to(ROOT)) for name in self.steps)

    def command(self, instance: str) -> str:
        import json

        kwargs = json.dumps(self.train_kwargs(instance))
        flags = " ".join(_flag(name, value) for name, value in self.options_for(instance).items())
        preset = "" if self.preset == DEFAULT else f"--preset {self.preset} "
        return (
            f"edge-envs train --env {self.env_id} --algo {self.algo} --steps {self.steps[instance]} --seed {self.seed} "
            f"--env-kwargs '{kwargs}' {preset}{flags}"
        ).strip()


def _flag(name: str, value) -> str:
    """The ``edge-envs train`` flag that sets option ``name`` to ``value`` (booleans: --name / --no-name)."""
    flag = name.replace("_", "-")
    if isinstance(value, bool):
        return f"--{flag}" if value else f"--no-{flag}"
    if isinstance(value, (tuple, list)):  # e.g. --hidden 256 256
        return f"--{flag} " + " ".join(str(v) for v in value)
    return f"--{flag} {value}"


MARL_STEPS = {"default": 8_000, "crowded": 8_000}
MARL_TEACHERS = {"default": {"imitation_teacher": "greedy"}, "crowded": {"imitation_teacher": "chain-dp"}}

AGENTS = (
    # every agent trains with its env x algo preset (agents.presets); the leaderboard's settings are its variants
    Agent("EdgePartition-v0", "mtl-a3c", {"default": 100_000, "unseen": 100_000}, ONE_WORKER, preset="warm-start"),
    Agent("EdgePartition-v0", "ppo", {"default": 50_000, "unseen": 50_000}),
    Agent("EdgePartition-v0", RLLIB, {"default": 50_000, "unseen": 50_000}),
    # one checkpoint for every instance: trained on the distribution TRAIN, which holds none of them (issue 31)
    Agent("EdgePartition-v0", GENERALIST, {"distribution": 16_000}, seed=0, env_kwargs={"distribution": "train"}),
    # the foresight instances: exact-slot-queue's knobs learned by evolution strategies (agents.priced); on the
    # other instances it plays the energy checkpoint (any size: its candidates only where M and N match)
    Agent("EdgePartition-v0", PRICED, {"energy": PRICED_STEPS, "bursty": PRICED_STEPS, "deadlines": PRICED_STEPS}),
    # the multi-agent learners: one checkpoint per instance (a network's agent ids, and the load it learned to
    # share, depend on the number of devices); benchmarks/marl.py trains IPPO and MAPPO the same way with seeds
    # 1-3. Their warm start imitates a deterministic rule that each device can follow from its own observation
    # (MAPPO seed 1, warm start alone, 6000-12000 labelled agent-steps: greedy -64 on default and chain-dp -2.8e3
    # on crowded, 0.66 and 0.998 of the blocks cloned; GA 0.43 and -470 / -6.6e3, best-single-server 0.84 and
    # -110, LPT 0.63 and -1.2e5: their choices are joint searches over every device, which one device cannot see)
    Agent("edge_partition_multi_v0", "mtl-a3c", {"default": 300_000, "crowded": 1_000_000}, ONE_WORKER),  # marl.STEPS
    *(
        Agent("edge_partition_multi_v0", algo, MARL_STEPS, instance_options=MARL_TEACHERS, preset="warm-start")
        for algo in ("ippo", "mappo")
    ),
    Agent("ServiceMigration-v0", "ppo", {"bound": 4096}, preset="warm-start"),
    Agent("ServiceMigration-v0", "mtl-a3c", {"bound": 4096}, ONE_WORKER, preset="warm-start"),
    Agent("ServiceMigration-v0", RLLIB, {"bound": 30_000}),  # trained and recorded where the [ray] extra is installed
    # one checkpoint for every instance: DAgger from sm3fl on the distribution TRAIN, which holds none of them
    Agent("ServiceMigration-v0", GENERALIST, {"distribution": 8000}, seed=0, env_kwargs={"distribution": "train"}),
    Agent("EdgeUpload-v0", "maskable-ppo", {"default": 20_000, "nin": 20_000}),
    # one checkpoint for every instance: DAgger from recursive-efficiency on the distribution TRAIN, whose models
    # (AlexNet, VGG16, ResNet32 at 32x32) are none of the instances'
    Agent("EdgeUpload-v0", GENERALIST, {"distribution": 6000}, seed=0, env_kwargs={"distribution": "train"}),
    Agent("EdgeUpload-v0", RLLIB, {"default": 20_000, "nin": 20_000}),
    Agent("multiserver_fl_v0", "mtl-a3c", {"default": 15_000}, ONE_WORKER),
    Agent("multiserver_fl_v0", "ippo", {"faulty": 1600}, preset="warm-start"),
    Agent("multiserver_fl_v0", "mappo", {"faulty": 1600}, preset="warm-start"),
)

# agents whose placement local search improves at each step (a `local-search:` spec over the agent's own
# checkpoints; entry name ALGO+local-search): the learned start beside the local-search baseline's rule starts
REFINED_AGENTS = (("edge_partition_multi_v0", "mtl-a3c"), ("EdgePartition-v0", GENERALIST))


def refined_entries(env_id: str) -> list[tuple[str, str]]:
    """(name, spec) of each refined agent of ``env_id``."""
    return [
        (f"{agent.algo}+{REFINED}", f"{REFINED}:{agent.spec()}")
        for agent in AGENTS
        if agent.env_id == env_id and (agent.env_id, agent.algo) in REFINED_AGENTS
    ]


def keep_policy(checkpoint: Path, destination: Path) -> None:
    """Write the policy-only copy of a training checkpoint to ``destination`` (no optimizer state: the copy
    loads and acts, it does not resume)."""
    from agents.checkpoint import load_checkpoint, save_checkpoint

    payload = load_checkpoint(checkpoint)
    payload["optimizer"] = {}
    for key in ("format", "version", "sha256"):
        payload.pop(key)
    save_checkpoint(destination, payload)


def train_agent(agent: Agent) -> None:
    """Train ``agent`` on each of its instances and keep each policy-only checkpoint in AGENT_DIR."""
    from agents.train import make_options, train

    for name, steps in agent.steps.items():
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as logdir:
            if agent.algo == RLLIB:  # as `edge-envs train --algo rllib-ppo` does; the RLModule folder is kept
                from agents import rllib

                options = rllib.options_for_steps(steps)
                summary = rllib.train(agent.env_id, steps, logdir, agent.train_kwargs(name), options, agent.seed)
                rllib.export_module(summary["checkpoint"], agent.env_id, agent.checkpoint(name))
                print(
                    f"trained {agent.algo} on {agent.env_id} {name}: {summary['steps']} steps, "
                    f"{time.perf_counter() - started:.0f} s ({agent.command(name)})",
                    flush=True,
                )
                continue
            # maskable-ppo too: it trains through the same loop as ppo
            checkpoint = train(
                agent.env_id,
                agent.algo,
                steps,
                seed=agent.seed,
                logdir=logdir,
                env_kwargs=agent.train_kwargs(name),
                options=make_options(agent.algo, agent.env_id, agent.options_for(name), preset=agent.preset),
                progress=False,
                preset=agent.preset,
            ).checkpoint
            keep_policy(checkpoint, agent.checkpoint(name))
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


def _has_ray() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


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


def populate(env_id: str, results_dir: Path, time_limit: float, only_agents: list[str] | None = None) -> bool:
    """Record every baseline, reference and agent of ``env_id`` (with ``only_agents``: those agents alone);
    False if any failed."""
    import baselines
    from benchmarks.leaderboard.runner import reference_result

    ok = True
    if only_agents is None:
        names = [name for name in baselines.available(env_id) if name not in baselines.aliases(env_id)]
        keep = {
            "baseline": names,
            "reference": list(references(scenario_set(env_id))),
            "agent": [agent.algo for agent in AGENTS if agent.env_id == env_id]
            + [name for name, _ in refined_entries(env_id)],
        }
        prune(env_id, results_dir, keep)
        for name in names:  # an alias is listed beside its policy's entry, not ranked twice
            ok &= _record(env_id, f"baseline:{name}", name, results_dir, time_limit)
        for name in references(scenario_set(env_id)):
            started = time.perf_counter()
            write_result(reference_result(env_id, name), results_dir, overwrite=True)
            print(f"{env_id:24s} reference {name} {time.perf_counter() - started:6.1f} s", flush=True)
    for agent in AGENTS:
        if agent.env_id != env_id or (only_agents is not None and agent.algo not in only_agents):
            continue
        if agent.algo == RLLIB and not _has_ray():
            print(f"SKIPPED {env_id} {agent.algo}: needs Ray RLlib (the [ray] extra); its entry is kept", flush=True)
            continue
        if not all(agent.checkpoint(name).exists() for name in agent.steps):
            print(f"SKIPPED {env_id} {agent.algo}: no checkpoints in {AGENT_DIR} (run with --train)", flush=True)
            ok = False
            continue
        ok &= _record(env_id, agent.spec(), agent.algo, results_dir, time_limit)
    for name, spec in refined_entries(env_id):
        if only_agents is None or name.split("+")[0] in only_agents:
            ok &= _record(env_id, spec, name, results_dir, time_limit)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", choices=sorted(SETS), help="only this env (repeatable; default: all)")
    parser.add_argument("--train", action="store_true", help="train the agents of AGENTS first (minutes)")
    parser.add_argument(
        "--agent",
        action="append",
        choices=sorted({agent.algo for agent in AGENTS}),
        help="only this agent of each env (repeatable; no baselines, references nor pruning)",
    )
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per decision (default 30)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder (default: the project's)")
    args = parser.parse_args(argv)
    if Path.cwd().resolve() != ROOT:
        parser.error(f"run from the repository root {ROOT} (the agents' specs name their checkpoints relative to it)")
    started, ok = time.perf_counter(), True
    for env_id in args.env or list(SETS):
        if args.train:
            for agent in AGENTS:
                if agent.env_id == env_id and (args.agent is None or agent.algo in args.agent):
                    if agent.algo == RLLIB and not _has_ray():
                        print(f"SKIPPED training {env_id} {agent.algo}: needs Ray RLlib (the [ray] extra)", flush=True)
                        continue
                    train_agent(agent)
        ok &= populate(env_id, args.results, args.time_limit, args.agent)
    from benchmarks.leaderboard.cli import main as leaderboard

    if args.results == RESULTS_DIR:
        ok &= leaderboard(["render", "--out", str(OUT_DIR)]) == 0
    print(f"populated in {time.perf_counter() - started:.0f} s" + ("" if ok else " (with failures above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
