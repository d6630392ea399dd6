"""``edge-envs train``: train an agent with a progress bar, TensorBoard logs and checkpoints.

Example::

    edge-envs train --env EdgePartition-v0 --algo mtl-a3c --steps 200000 --seed 1 --logdir runs
    tensorboard --logdir runs

Each run writes to its own new folder ``{logdir}/{env_id}__{algo}__{seed}__{timestamp}/`` (a
``-1``, ``-2``, ... suffix when two runs start in the same second): TensorBoard events and
``checkpoint.pt``, written atomically when the run starts, after its first update, every
``--checkpoint-every`` updates and at the end, so a kill loses at most that many updates.
``--resume`` continues the newest run of the same env, algorithm and seed from its checkpoint,
with its step count intact, up to ``--steps`` in all (episodes in progress restart; TensorBoard
drops what the killed run logged after the checkpoint). A resumed run keeps its env kwargs and
options: a flag that differs from them is refused, except ``--workers``. At the end a table
compares the trained agent with the env's baselines on the same held-out evaluation episodes.

Options are typed: ``A3COptions`` (agents.a3c) for mtl-a3c and a3c, ``SB3Options``
(agents.sb3) for ppo, a2c and dqn, ``MaskableOptions`` (agents.maskable) for maskable-ppo, ``MAPPOOptions``
(agents.mappo) for ippo and mappo (PettingZoo envs), built
in one place, ``make_options``: the env x algo preset (agents.presets, ``--preset`` for a named variant),
then the flags given; a flag the chosen algo does not use is refused by name. The run prints the
preset's name; the preset's env keywords (e.g. multiserver_fl's ``action_levels``) go under ``--env-kwargs``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import json
import math
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from agents import presets
from agents.a3c import A3COptions, A3CTrainer
from agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from agents.envs import env_spaces, make_env, parse_env_kwargs
from agents.evaluate import EVAL_SEED, baseline_names, compare, env_help, print_comparison, print_held_out
from agents.generalist import GENERALIST, GeneralistOptions, make_trainer
from agents.mappo import MAPPOOptions, MAPPOTrainer
from agents.maskable import MaskableOptions, MaskableTrainer
from agents.monitor import RunMonitor
from agents.policy import A3C_ALGOS, MARL_ALGOS, MASKABLE, a3c_options_from_payload, policy_from_payload
from agents.priced import PRICED, PricedOptions, PricedTrainer
from agents.runs import CHECKPOINT, latest_run, new_run_dir
from agents.sb3 import SB3Options, SB3Trainer
from edge_envs.io import remove_stale_temporaries

EXTERNAL_ALGOS = ("rllib-ppo",)
"""Trained by Ray RLlib (agents.rllib, the [ray] extra), which keeps its own checkpoint (``rllib_checkpoint/``):
no ``--resume``, no ``--checkpoint-every`` and none of the option flags; it alone takes ``--env-runners`` and
``--address``."""
ALGOS = (*A3C_ALGOS, "dqn", "ppo", "a2c", MASKABLE, *MARL_ALGOS, GENERALIST, PRICED, *EXTERNAL_ALGOS)
RLLIB_FLAGS = ("env_runners", "address")
MAX_SEED = 2**32 - 1  # numpy's legacy seeding (SB3) takes seeds below 2^32


@dataclass
class TrainResult:
    """What a finished run leaves: where, on what, how far, how long, its episodes and the trained policy."""

    run_dir: Path
    checkpoint: Path
    env_kwargs: dict
    steps: int
    updates: int
    wall_s: float
    episodes: list  # (env step, agents.envs.Episode) in the order they finished
    policy: object


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def options_class(algo: str):
    """The options dataclass of ``algo`` (None for rllib-ppo, which takes no option flags)."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algo (--algo) {algo!r}; choose from {list(ALGOS)}")
    if algo in EXTERNAL_ALGOS:
        return None
    if algo in MARL_ALGOS:
        return MAPPOOptions
    if algo == GENERALIST:
        return GeneralistOptions
    if algo == PRICED:
        return PricedOptions
    return A3COptions if algo in A3C_ALGOS else MaskableOptions if algo == MASKABLE else SB3Options


def make_options(
    algo: str, env_id: str, overrides: dict | None = None, base: dict | None = None, preset: str = presets.DEFAULT
) -> A3COptions | SB3Options | MaskableOptions | MAPPOOptions:
    """The options of a run, built in this one place: ``base`` (a resumed run's options) or the pair's
    preset (``agents.presets``; ``preset`` names a variant) over the dataclass defaults, then ``overrides``
    (the flags given); a flag that is not an option of ``algo`` is refused by name."""
    cls = options_class(algo)
    overrides = dict(overrides or {})
    known = set() if cls is None else {f.name for f in dataclasses.fields(cls)} - {"single_head"}
    foreign = sorted(set(overrides) - known)
    if foreign:
        allowed = ", ".join(_flag(name) for name in sorted(known)) or "none of the option flags"
        raise ValueError(
            f"{', '.join(_flag(name) for name in foreign)} not an option of {algo}; its options: {allowed}"
        )
    if cls is None:
        raise ValueError(f"{algo} has no options dataclass (it trains through {_EXTERNAL_MODULE[algo]})")
    if cls is A3COptions:
        overrides["single_head"] = algo == "a3c"
    start = base if base is not None else presets.preset(env_id, algo, preset).options
    return cls(**{**start, **overrides})


def _options_from_payload(algo: str, payload: dict) -> A3COptions | SB3Options | MaskableOptions | MAPPOOptions:
    if algo in A3C_ALGOS:
        return a3c_options_from_payload(payload)
    cls = options_class(algo)
    try:
        return cls(**payload["options"])
    except TypeError as error:
        raise CheckpointError(f"a {algo} checkpoint holds options that are not {cls.__name__}: {error}") from None


def _check_run(run_dir: Path, payload: dict, algo: str, env_id: str, seed: int) -> None:
    """A named error unless the checkpoint found for --resume was written by this algo, env and seed."""
    for key, wanted in (("algo", algo), ("env_id", env_id), ("seed", seed)):
        if payload[key] != wanted:
            raise CheckpointError(
                f"--resume: {run_dir / CHECKPOINT} was written for {key} {payload[key]!r}, not {wanted!r}"
            )


def _check_resume(run_dir: Path, payload: dict, algo: str, env_id: str, seed: int, env_kwargs, options):
    """The env kwargs and options a resumed run continues with: the run's; given ones must agree."""
    _check_run(run_dir, payload, algo, env_id, seed)
    run_kwargs = json.loads(payload["env_kwargs"])
    if env_kwargs is not None and env_kwargs != run_kwargs:
        raise ValueError(
            f"--resume keeps the run's --env-kwargs {json.dumps(run_kwargs)}, got {json.dumps(env_kwargs)}: "
            "drop the flag or start a new run"
        )
    run_options = _options_from_payload(algo, payload)
    if options is None:
        return run_kwargs, run_options
    changed = [
        f"{_flag(f.name)} {getattr(options, f.name)!r} (the run's: {getattr(run_options, f.name)!r})"
        for f in dataclasses.fields(run_options)
        if f.name != "workers" and getattr(options, f.name) != getattr(run_options, f.name)
    ]
    if changed:
        raise ValueError(
            f"--resume keeps the run's options; these differ: {'; '.join(changed)}. Drop them or start a new run"
        )
    return run_kwargs, options


def _check_logdir(logdir) -> Path:
    logdir = Path(logdir)
    if logdir.exists() and not logdir.is_dir():
        raise ValueError(f"--logdir {logdir} is a file, not a folder")
    try:
        logdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--logdir {logdir} cannot be created: {error.strerror or error}") from None
    try:
        tempfile.TemporaryFile(dir=logdir).close()  # a unique name: runs starting together do not collide
    except OSError as error:
        raise ValueError(f"--logdir {logdir} is not writable: {error.strerror or error}") from None
    return logdir


def _make_trainer(algo: str, env_id: str, env_kwargs: dict, seed: int, steps: int, options):
    if algo in A3C_ALGOS:
        obs_dim, nvec = env_spaces(make_env(env_id, env_kwargs))
        return A3CTrainer(algo, env_id, env_kwargs, options, seed, obs_dim, nvec)
    if algo == MASKABLE:
        return MaskableTrainer(env_id, env_kwargs, seed, options)
    if algo in MARL_ALGOS:
        return MAPPOTrainer(algo, env_id, env_kwargs, options, seed)
    if algo == GENERALIST:
        return make_trainer(env_id, env_kwargs, options, seed)
    if algo == PRICED:
        return PricedTrainer(env_id, env_kwargs, options, seed)
    return SB3Trainer(algo, env_id, env_kwargs, seed, steps, options)


def train(
    env_id: str,
    algo: str,
    steps: int,
    seed: int = 0,
    logdir="runs",
    env_kwargs: dict | None = None,
    options: A3COptions | SB3Options | MaskableOptions | MAPPOOptions | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
    progress: bool = True,
    preset: str = presets.DEFAULT,
) -> TrainResult:
    """Train ``algo`` on ``env_id`` for ``steps`` env steps in all. ``options``: ``make_options(algo,
    env_id, ...)``; None: the ``preset``'s (resuming: the run's). A new run's env gets the preset's env
    kwargs under ``env_kwargs`` (resuming, None: the run's)."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algo (--algo) {algo!r}; choose from {list(ALGOS)}")
    if algo in EXTERNAL_ALGOS:
        raise ValueError(f"{algo} trains through `edge-envs train` or {_EXTERNAL_MODULE[algo]}, not agents.train.train")
    for name, value, low, high in (
        ("steps (--steps)", steps, 1, math.inf),
        ("seed (--seed)", seed, 0, MAX_SEED),
        ("checkpoint_every (--checkpoint-every)", checkpoint_every, 0, math.inf),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    wanted = options_class(algo)
    if options is not None and not isinstance(options, wanted):
        raise ValueError(
            f"{algo} takes {wanted.__name__} options (agents.train.make_options), got {type(options).__name__}"
        )
    if isinstance(options, A3COptions) and options.single_head != (algo == "a3c"):
        raise ValueError(f"A3COptions.single_head must be {algo == 'a3c'} for {algo}")
    if env_kwargs is not None and not isinstance(env_kwargs, dict):
        raise ValueError(f"env_kwargs (--env-kwargs) must be a dict of config fields, got {type(env_kwargs).__name__}")
    logdir = _check_logdir(logdir)
    payload = None
    if resume:
        run_dir = latest_run(logdir, env_id, algo, seed)
        remove_stale_temporaries(run_dir / CHECKPOINT)  # left by a kill during a write
        payload = load_checkpoint(run_dir / CHECKPOINT)
        env_kwargs, options = _check_resume(run_dir, payload, algo, env_id, seed, env_kwargs, options)
    if payload is None:
        env_kwargs = {**presets.preset(env_id, algo, preset).env_kwargs, **(env_kwargs or {})}
    options = options if options is not None else make_options(algo, env_id, preset=preset)
    if algo != MASKABLE and env_kwargs.get("illegal_action") == "raise":
        raise ValueError(
            f"{algo} does not read {env_id}'s action mask, so illegal_action='raise' would stop it at its first "
            f"forbidden action: use --algo {MASKABLE}, or leave illegal_action at its default 'nearest' (a "
            "forbidden action is replaced by the nearest legal one)"
        )
    # bad input (env id, kwargs, options) fails here, before a run folder exists
    trainer = _make_trainer(algo, env_id, env_kwargs, seed, steps, options)
    if payload is None:
        run_dir = new_run_dir(logdir, env_id, algo, seed)
        save_checkpoint(run_dir / CHECKPOINT, trainer.payload())  # from the start, --resume finds the run
    else:
        trainer.restore(payload)
    checkpoint_path = run_dir / CHECKPOINT
    checkpoint = functools.partial(save_checkpoint, checkpoint_path)
    monitor = RunMonitor(run_dir, steps, start_steps=trainer.steps, progress=progress, resumed=payload is not None)
    start = time.perf_counter()
    try:
        trainer.train(steps, monitor, checkpoint, checkpoint_every)
    finally:
        final = trainer.payload()
        checkpoint(final)
        monitor.close()
    wall_s = time.perf_counter() - start
    policy = policy_from_payload(final, None if algo == GENERALIST else make_env(env_id, env_kwargs))
    return TrainResult(
        run_dir, checkpoint_path, env_kwargs, trainer.steps, trainer.updates, wall_s, monitor.episodes, policy
    )


_EXTERNAL_MODULE = {"rllib-ppo": "agents.rllib.train"}


def _train_external(args: argparse.Namespace, env_kwargs: dict | None):
    """Train rllib-ppo into a new run folder; (policy, run folder, wall seconds)."""
    if args.resume:
        raise ValueError(f"--resume is not available for {args.algo} (it keeps its own checkpoint format)")
    if args.checkpoint_every is not None:
        raise ValueError(f"--checkpoint-every is not available for {args.algo} (it keeps its own checkpoint)")
    logdir = _check_logdir(args.logdir)
    start = time.perf_counter()
    try:
        from agents import rllib  # the optional [ray] extra
    except ImportError as error:
        raise ValueError(f"--algo rllib-ppo needs Ray RLlib: {error}") from error
    options = rllib.options_for_steps(args.steps, getattr(args, "env_runners", 0), getattr(args, "address", None))
    run_dir = new_run_dir(logdir, args.env, args.algo, args.seed)
    summary = rllib.train(args.env, args.steps, run_dir, env_kwargs, options, args.seed)
    policy = rllib.RLlibPolicy.from_checkpoint(summary["checkpoint"], args.env)
    return policy, run_dir, time.perf_counter() - start


def field_docs(cls) -> dict[str, str]:
    """The one-line docstring under each field of a dataclass and of its dataclass bases (cleanrl
    style), by field name."""
    docs = {}
    for klass in reversed([k for k in cls.__mro__ if dataclasses.is_dataclass(k)]):
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, following in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
            ):
                docs[node.target.id] = str(following.value.value)
    return docs


_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


OPTION_CLASSES = (A3COptions, SB3Options, MaskableOptions, MAPPOOptions, GeneralistOptions, PricedOptions)


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per field of A3COptions, SB3Options, MaskableOptions and MAPPOOptions, its help the field's
    docstring; a flag not given is absent from the namespace (the dataclass default, the env's preset or a resumed
    run's value applies). A flag serves every algo whose options have the field (``make_options`` refuses
    it for the others)."""
    titles = (
        "A3C options (mtl-a3c, a3c; --gamma and --imitation-* also set the SB3 agents' and ippo/mappo's, --gamma and "
        "--reward-scale maskable-ppo's)",
        "SB3 options (ppo, a2c, dqn)",
        "MaskablePPO options (maskable-ppo)",
        "IPPO / MAPPO options (ippo, mappo; also --gamma, --rollout-steps, --entropy-coef, --max-grad-norm, --hidden, "
        "--reward-scale, --normalize-observations and --envs above)",
        "generalist options (EdgePartition-v0, ServiceMigration-v0, EdgeUpload-v0 on instance distributions; "
        "agents.generalist)",
        "priced options (exact-slot-queue's knobs learned by evolution strategies; agents.priced)",
    )
    seen = {"single_head"}
    for cls, title in zip(OPTION_CLASSES, titles, strict=True):
        description = "defaults: the options' own; the env x algo preset (agents/presets.py) may set others"
        docs, group = field_docs(cls), parser.add_argument_group(title, description)
        for f in dataclasses.fields(cls):
            if f.name in seen:
                continue
            seen.add(f.name)
            shown = repr(f.default) if isinstance(f.default, str) else f.default  # '' reads as empty
            default = "" if f.default is dataclasses.MISSING else f" (default {shown})"
            kwargs = {"default": argparse.SUPPRESS, "help": docs.get(f.name, "") + default}
            if f.type.startswith("tuple"):
                group.add_argument(_flag(f.name), type=int, nargs="+", **kwargs)
            elif f.type == "bool":  # --flag / --no-flag (type=bool would read "False" as true)
                group.add_argument(_flag(f.name), action=argparse.BooleanOptionalAction, **kwargs)
            else:
                group.add_argument(_flag(f.name), type=_TYPES[f.type], **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        required=True,
        help=env_help(),
    )
    parser.add_argument("--algo", required=True, choices=ALGOS, help="agent to train")
    parser.add_argument(
        "--steps",
        type=int,
        required=True,
        help="environment steps in all (a resumed run counts the steps already done)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the network, the workers and the envs (0 to 2^32 - 1)"
    )
    parser.add_argument("--logdir", default="runs", help="parent folder of the run folders (TensorBoard --logdir)")
    parser.add_argument(
        "--env-kwargs",
        default=None,
        help="JSON object of env config fields, e.g. '{\"num_blocks\": 12}' (resuming: the run's)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        help="write the checkpoint every K updates (SB3 agents and maskable-ppo: also after the first; 0: only at "
        "the start and end; default 100)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the newest run of this env, algo and seed, with its env kwargs and options",
    )
    parser.add_argument(
        "--eval-episodes", type=int, default=3, help="held-out episodes of the final evaluation table (0: skip it)"
    )
    parser.add_argument(
        "--baselines",
        default="all",
        help="baselines in the final table: comma-separated names, 'all', 'strongest' or ''",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--preset",
        default=presets.DEFAULT,
        help="the env x algo preset the options start from (agents.presets; flags override it): "
        "'default' or a named variant such as 'warm-start'",
    )
    _add_option_flags(parser)
    group = parser.add_argument_group("Ray RLlib options (rllib-ppo, the [ray] extra)")
    group.add_argument(
        "--env-runners",
        type=int,
        default=argparse.SUPPRESS,
        help="remote env-runner processes (default 0: sample in the driver)",
    )
    group.add_argument(
        "--address", default=argparse.SUPPRESS, help="address of a running Ray cluster (HOST:6379 or auto)"
    )


def run(args: argparse.Namespace) -> int:
    env_kwargs = parse_env_kwargs(args.env_kwargs) if args.env_kwargs is not None else None
    if args.eval_episodes < 0:
        raise ValueError(f"--eval-episodes must be >= 0 (0: no table), got {args.eval_episodes}")
    names = baseline_names(args.baselines, args.env) if args.eval_episodes else []  # a bad name fails before training
    option_names = {f.name for cls in OPTION_CLASSES for f in dataclasses.fields(cls)}
    overrides = {name: value for name, value in vars(args).items() if name in option_names}
    chosen = presets.preset(args.env, args.algo, args.preset)
    if not args.resume:  # a resumed run keeps its own env kwargs and options
        print(presets.describe(chosen, overrides), flush=True)
    if args.algo in EXTERNAL_ALGOS:
        if overrides:
            make_options(args.algo, args.env, overrides)  # refuses every option flag by name
        env_kwargs = {**chosen.env_kwargs, **(env_kwargs or {})}
        policy, run_dir, wall_s = _train_external(args, env_kwargs)
        print(f"run {run_dir}: {args.steps} steps, {wall_s:.1f} s")
        return _final_table(args, policy, env_kwargs, names)
    rllib_flags = [_flag(name) for name in RLLIB_FLAGS if hasattr(args, name)]
    if rllib_flags:
        raise ValueError(f"{', '.join(rllib_flags)} not an option of {args.algo}; only rllib-ppo takes it")
    base = None
    if args.resume:
        run_dir = latest_run(args.logdir, args.env, args.algo, args.seed)
        payload = load_checkpoint(run_dir / CHECKPOINT)
        _check_run(run_dir, payload, args.algo, args.env, args.seed)
        base = dataclasses.asdict(_options_from_payload(args.algo, payload))
        print(f"resuming {run_dir} with its env kwargs and options", file=sys.stderr)
    options = make_options(args.algo, args.env, overrides, base, args.preset)
    _check_dependent_flags(overrides, options)
    result = train(
        args.env,
        args.algo,
        args.steps,
        args.seed,
        args.logdir,
        env_kwargs,
        options,
        100 if args.checkpoint_every is None else args.checkpoint_every,
        args.resume,
        not args.no_progress,
        args.preset,
    )
    print(
        f"run {result.run_dir}: {result.steps} steps, {result.updates} updates, {result.wall_s:.1f} s; "
        f"checkpoint {result.checkpoint}"
    )
    return _final_table(args, result.policy, result.env_kwargs, names)


def _check_dependent_flags(overrides: dict, options) -> None:
    """Refuse a flag that only acts with another option set: --chain-prior without chained branches, an
    --imitation-* setting without a warm start."""
    unused = []
    if "chain_prior" in overrides and not getattr(options, "chain_branches", True):
        unused.append("--chain-prior (it acts only with --chain-branches)")
    if not getattr(options, "imitation_steps", 1):
        unused += [f"{_flag(name)} (it acts only with --imitation-steps > 0)" for name in sorted(overrides)
                   if name.startswith("imitation_") and name != "imitation_steps"]  # fmt: skip
    if unused:
        raise ValueError(f"{'; '.join(unused)}: drop it or set the option it needs")


def _final_table(args: argparse.Namespace, policy, env_kwargs: dict | None, names: list[str]) -> int:
    """The trained agent beside the baselines ``names`` on the held-out episodes (none with --eval-episodes 0)."""
    if args.eval_episodes > 0 and args.algo == GENERALIST:
        print_held_out(policy, env_kwargs, args.eval_episodes, names, progress=not args.no_progress, env_id=args.env)
    elif args.eval_episodes > 0:
        rows = compare(
            policy,
            args.env,
            env_kwargs,
            args.eval_episodes,
            EVAL_SEED,
            names,
            label=args.algo,
            progress=not args.no_progress,
        )
        print_comparison(rows)
    return 0
