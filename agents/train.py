"""``edge-envs train``: train an agent with a progress bar, TensorBoard logs and checkpoints.

Example::

    edge-envs train --env EdgePartition-v0 --algo mtl-a3c --steps 200000 --seed 1 --logdir runs
    tensorboard --logdir runs

Each run writes to ``{logdir}/{env_id}__{algo}__{seed}__{timestamp}/``: TensorBoard events and
``checkpoint.pt`` (rewritten atomically every ``--checkpoint-every`` updates and at the end).
``--resume`` continues the newest run of the same env, algorithm and seed from its checkpoint,
with its step count intact, up to ``--steps`` in all (episodes in progress restart). At the end
a table compares the trained agent with the env's baselines on the same evaluation episodes.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from agents.checkpoint import load_checkpoint, save_checkpoint

ALGOS = ("mtl-a3c", "a3c", "dqn", "ppo", "a2c")
CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainResult:
    """What a finished run leaves: where, how far, how long, its episodes and the trained policy."""

    run_dir: Path
    checkpoint: Path
    steps: int
    updates: int
    wall_s: float
    episodes: list  # (env step, agents.envs.Episode) in the order they finished
    policy: object


def run_name(env_id: str, algo: str, seed: int) -> str:
    """cleanrl-style run name ``{env_id}__{algo}__{seed}__{timestamp}`` (path-safe)."""
    safe_id = env_id.replace("/", "_").replace(":", "_")
    return f"{safe_id}__{algo}__{seed}__{time.strftime('%Y%m%d-%H%M%S')}"


def latest_run(logdir, env_id: str, algo: str, seed: int) -> Path:
    """Newest run directory of (env, algo, seed) under ``logdir`` that holds a checkpoint."""
    prefix = run_name(env_id, algo, seed).rsplit("__", 1)[0] + "__"
    runs = sorted(p.parent for p in Path(logdir).glob(f"{prefix}*/{CHECKPOINT}"))
    if not runs:
        raise FileNotFoundError(f"--resume: no run {prefix}* with a {CHECKPOINT} under {logdir}")
    return runs[-1]


def _make_trainer(algo: str, env_id: str, env_kwargs: dict, seed: int, steps: int, options: dict):
    if algo in ("mtl-a3c", "a3c"):
        from agents.a3c import A3CTrainer, options_for
        from agents.envs import env_spaces, make_env

        obs_dim, nvec = env_spaces(make_env(env_id, env_kwargs))
        a3c_options = options_for(env_id, {**options, "single_head": algo == "a3c"})
        return A3CTrainer(algo, env_id, env_kwargs, a3c_options, seed, obs_dim, nvec)
    from agents.sb3 import SB3Trainer

    return SB3Trainer(algo, env_id, env_kwargs, seed, steps, gamma=options.get("gamma", 0.95), n_envs=options.get("envs", 1))


def train(
    env_id: str,
    algo: str,
    steps: int,
    seed: int = 0,
    logdir="runs",
    env_kwargs: dict | None = None,
    options: dict | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train ``algo`` on ``env_id`` for ``steps`` env steps in all; ``options`` overrides A3COptions fields
    (SB3 agents read ``gamma`` and ``envs``, the number of env copies)."""
    from agents.monitor import RunMonitor
    from agents.policy import policy_from_payload

    if algo not in ALGOS:
        raise ValueError(f"unknown algo {algo!r}; choose from {list(ALGOS)}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be >= 0 (0: only at the end), got {checkpoint_every}")
    options, env_kwargs = dict(options or {}), dict(env_kwargs or {})
    payload = None
    if resume:
        run_dir = latest_run(logdir, env_id, algo, seed)
        payload = load_checkpoint(run_dir / CHECKPOINT)
        env_kwargs = json.loads(payload["env_kwargs"])
        if algo in ("mtl-a3c", "a3c"):  # the run's options, except how many workers to use now
            options = {**payload["options"], **{k: v for k, v in options.items() if k == "workers"}}
        else:  # SB3: the run's env copies (its hyperparameters come back with the checkpoint)
            options = {**options, "envs": int(payload.get("n_envs", 1))}
    else:
        run_dir = Path(logdir) / run_name(env_id, algo, seed)
    trainer = _make_trainer(algo, env_id, env_kwargs, seed, steps, options)  # bad options fail before the run folder exists
    run_dir.mkdir(parents=True, exist_ok=True)
    if payload is not None:
        trainer.restore(payload)
    checkpoint_path = run_dir / CHECKPOINT
    monitor = RunMonitor(run_dir, steps, start_steps=trainer.steps, progress=progress)
    start = time.perf_counter()
    try:
        trainer.train(steps, monitor, lambda p: save_checkpoint(checkpoint_path, p), checkpoint_every)
    finally:
        final = trainer.payload()
        save_checkpoint(checkpoint_path, final)
        monitor.close()
    wall_s = time.perf_counter() - start
    env = None
    if algo not in ("mtl-a3c", "a3c"):
        from agents.envs import make_env

        env = make_env(env_id, env_kwargs)
    policy = policy_from_payload(final, env)
    return TrainResult(run_dir, checkpoint_path, trainer.steps, trainer.updates, wall_s, monitor.episodes, policy)


def field_docs(cls) -> dict[str, str]:
    """The one-line docstring under each field of a dataclass (cleanrl style), by field name."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body, docs = tree.body[0].body, {}
    for node, following in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            docs[node.target.id] = str(following.value.value)
    return docs


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per A3COptions field, its help the field's docstring (default: the dataclass's)."""
    from agents.a3c import A3COptions

    docs = field_docs(A3COptions)
    group = parser.add_argument_group("A3C options (mtl-a3c, a3c; --gamma also sets the SB3 agents' discount)")
    for f in dataclasses.fields(A3COptions):
        if f.name in ("single_head", "workers"):
            continue  # chosen by --algo and --workers
        flag = "--" + f.name.replace("_", "-")
        if f.name == "hidden":
            group.add_argument(flag, type=int, nargs="+", default=argparse.SUPPRESS, help=docs.get(f.name))
        elif isinstance(f.default, bool):  # --flag / --no-flag (type=bool would read "False" as true)
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=f"{docs.get(f.name)} (default {f.default})")
        else:
            group.add_argument(flag, type=type(f.default), default=argparse.SUPPRESS, help=f"{docs.get(f.name)} (default {f.default})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="Gymnasium id or PettingZoo module (e.g. EdgePartition-v0, edge_partition_multi_v0)")
    parser.add_argument("--algo", required=True, choices=ALGOS, help="agent to train")
    parser.add_argument("--steps", type=int, required=True, help="environment steps in all (a resumed run counts the steps already done)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the network, the workers and the envs")
    parser.add_argument("--logdir", default="runs", help="parent folder of the run folders (TensorBoard --logdir)")
    parser.add_argument("--env-kwargs", default="{}", help='JSON keyword arguments of the env, e.g. \'{"num_blocks": 12}\'')
    parser.add_argument("--workers", type=int, default=None, help="A3C worker processes (default: the number of cores)")
    parser.add_argument("--envs", type=int, default=1, help="SB3 agents: env copies stepped in lockstep (default 1; PPO splits its 2048-step rollout over them)")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="write the checkpoint every K updates (0: only at the end)")
    parser.add_argument("--resume", action="store_true", help="continue the newest run of this env, algo and seed")
    parser.add_argument("--eval-episodes", type=int, default=3, help="episodes of the final evaluation table (0: skip it)")
    parser.add_argument("--baselines", default="all", help="baselines in the final table: comma-separated names, 'all' or ''")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_option_flags(parser)


def run(args: argparse.Namespace) -> int:
    from agents.a3c import A3COptions
    from agents.evaluate import baseline_names, compare, format_table

    try:
        env_kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        raise SystemExit(f"--env-kwargs is not valid JSON: {error}") from None
    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(A3COptions) if hasattr(args, f.name)}
    if args.workers is not None:
        options["workers"] = args.workers
    if args.algo not in ("mtl-a3c", "a3c"):
        options["envs"] = args.envs
    elif args.envs != 1:
        raise SystemExit("--envs is for the SB3 agents (ppo, a2c, dqn); the A3C agents take --envs-per-worker")
    result = train(
        args.env, args.algo, args.steps, args.seed, args.logdir, env_kwargs, options, args.checkpoint_every, args.resume, not args.no_progress
    )
    print(f"run {result.run_dir}: {result.steps} steps, {result.updates} updates, {result.wall_s:.1f} s; checkpoint {result.checkpoint}")
    if args.eval_episodes > 0:
        names = []
        try:
            names = baseline_names(args.baselines, args.env)
        except (ImportError, ValueError) as error:
            print(f"(no baselines in the table: {error})")
        payload_kwargs = json.loads(load_checkpoint(result.checkpoint)["env_kwargs"])
        rows = compare(result.policy, args.env, payload_kwargs, args.eval_episodes, 10_000, names, label=args.algo)
        print(format_table(rows))
    return 0
