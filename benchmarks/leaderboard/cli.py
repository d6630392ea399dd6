"""``edge-envs leaderboard {run,validate,render}`` (also ``python -m benchmarks.leaderboard``).

* ``run --env ID --policy SPEC --name NAME``: play the policy on the env's scenario set in an
  isolated worker process, replay its actions, and write its result file atomically.
* ``validate [FILE ...]``: replay every result file (default: all of them); exit 2 if any is refused.
* ``render``: write LEADERBOARD.md and leaderboard.html from the result files (exit 2 if one breaks the schema).

With ``--results DIR`` (a folder of your own), ``run`` and ``render`` show your entries beside the
project's (read from the package's own results folder, in a checkout or an installed wheel),
yours marked "(yours)"; an entry of yours replaces the project's entry of the same name.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from benchmarks.leaderboard import policies
from benchmarks.leaderboard.results import (
    PROJECT_RESULTS,
    RESULTS_DIR,
    ResultError,
    check_results_dir,
    check_schema,
    read_result,
    result_files,
)
from benchmarks.leaderboard.scenarios import SETS, scenario_set

OK, REFUSED = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="leaderboard_command", required=True)
    run_parser = sub.add_parser("run", help="evaluate a policy on an env's scenario set and record the result")
    run_parser.add_argument("--env", required=True, choices=sorted(SETS), help="env id (or PettingZoo module)")
    run_parser.add_argument(
        "--policy",
        required=True,
        help="module:object, path/to/file.py:object, baseline:NAME, checkpoint:PATH[,PATH...], rllib:PATH[,PATH...] "
        "or sb3:ALGO:PATH; local-search:SPEC improves SPEC's EdgePartition placements by local search",
    )
    run_parser.add_argument("--name", required=True, help="entry name (1-64 letters, digits, spaces, .,_+()-)")
    run_parser.add_argument("--description", default="", help="one line on the policy")
    run_parser.add_argument("--version", dest="policy_version", default="", help="the policy's own version")
    run_parser.add_argument(
        "--time-limit",
        type=float,
        default=10.0,
        help="seconds allowed per call of the policy's act or reset (default 10)",
    )
    run_parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow sb3:ALGO:PATH and rllib:PATH: loading them runs pickle, i.e. any code the files carry",
    )
    run_parser.add_argument("--overwrite", action="store_true", help="replace an existing entry of the same name")
    run_parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    run_parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder (default: the project's)")
    validate_parser = sub.add_parser("validate", help="replay result files and check their returns and schema")
    validate_parser.add_argument("files", nargs="*", type=Path, help="result files (default: every file in --results)")
    validate_parser.add_argument(
        "--results", type=Path, default=RESULTS_DIR, help="results folder (default: the project's)"
    )
    render_parser = sub.add_parser("render", help="write LEADERBOARD.md and leaderboard.html from the result files")
    render_parser.add_argument(
        "--results", type=Path, default=RESULTS_DIR, help="results folder (default: the project's)"
    )
    render_parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: benchmarks/leaderboard/ for the project's results, else the --results folder)",
    )


def _run(args) -> int:
    from benchmarks.leaderboard.results import check_name, file_name
    from benchmarks.leaderboard.runner import PolicyError, record

    check_name(args.name)
    policies.check_spec(args.policy)
    if policies.inner(args.policy).split(":", 1)[0] in policies.PICKLE_KINDS and not args.trust_pickle:
        raise ValueError(
            "loading an SB3 zip or an RLlib module runs pickle (any code in the files): pass --trust-pickle for "
            "files you trust, "
            "or submit a checkpoint of `edge-envs train` (checkpoint:PATH, loaded with weights_only=True)"
        )
    if not math.isfinite(args.time_limit) or args.time_limit <= 0:
        raise ValueError(f"--time-limit must be a finite number of seconds > 0, got {args.time_limit}")
    check_results_dir(args.results)  # before playing: a run takes minutes
    kind = policies.kind_of(args.policy)
    target = args.results / file_name(args.env, args.name, kind)
    if target.exists() and not args.overwrite:
        raise ValueError(f"{target} exists: choose another --name, or pass --overwrite to replace the entry")
    try:
        path, result = record(
            args.env,
            args.policy,
            args.name,
            args.results,
            args.time_limit,
            not args.no_progress,
            args.description,
            args.policy_version,
            args.overwrite,
        )
    except PolicyError as error:
        print(f"leaderboard run: the policy failed, nothing was recorded: {error}", file=sys.stderr)
        return REFUSED
    except ResultError as error:
        print(
            f"leaderboard run: the episodes do not replay, nothing was recorded (does the policy draw from the env's "
            f"random generator or change the env?): {error}",
            file=sys.stderr,
        )
        return REFUSED
    returns = [e["return"] for e in result["episodes"]]
    print(f"{path}: {len(returns)} episodes, mean return {sum(returns) / len(returns):.6g}, replayed and recorded")
    _show_standings(args.results, args.env)
    return OK


def _show_standings(results_dir: Path, env_id: str) -> None:
    """Print the env's ranking: the project's entries and those of ``results_dir`` (marked yours)."""
    from benchmarks.leaderboard.render import standings

    yours, refused = _read_entries(path for path in result_files(results_dir))
    yours = {path: result for path, result in yours.items() if result["env"] == env_id}
    board, mine = _beside_the_project(yours, results_dir)
    for line in refused:
        print(f"warning: left out of the ranking: {line}", file=sys.stderr)
    print(standings(list(board.values()), env_id, mine))


def _validate(args) -> int:
    from benchmarks.leaderboard.validate import validate_files

    paths = args.files or result_files(args.results)
    if not paths:
        print(f"leaderboard validate: no result files in {args.results}", file=sys.stderr)
        return REFUSED
    outcome, warnings = validate_files(paths)
    for path, reason in outcome.items():
        print(f"{'ok' if reason is None else 'REFUSED'}  {path}" + ("" if reason is None else f": {reason}"))
        for warning in warnings.get(path, []):
            print(f"warning: {path}: {warning}", file=sys.stderr)
    refused = sum(reason is not None for reason in outcome.values())
    print(f"{len(outcome) - refused} of {len(outcome)} result files replay")
    _warn_of_copies([path for path, reason in outcome.items() if reason is None], result_files(args.results))
    return REFUSED if refused else OK


def _warn_of_copies(checked: list[Path], others: list[Path]) -> None:
    """Warn of each checked file whose actions are identical to those of another checked file or of ``others``."""
    from benchmarks.leaderboard import copies

    fingerprints = {}
    for path in checked:
        fingerprints[str(path)] = copies.fingerprint(read_result(path))
    checked_paths = {Path(path).resolve() for path in checked}
    for path in others:
        if path.resolve() in checked_paths:
            continue
        try:
            result = read_result(path)
            check_schema(result)
            check_schema(result, scenario_set(result["env"]))
            fingerprints[str(path)] = copies.fingerprint(result)
        except ValueError:  # a broken file is skipped here: it is only compared against, not validated
            continue
    for first, second in copies.identical(fingerprints):
        if Path(first).resolve() in checked_paths or Path(second).resolve() in checked_paths:
            print(copies.warning(first, second), file=sys.stderr)


def _read_entries(paths) -> tuple[dict[Path, dict], list[str]]:
    """path -> result for each file that follows the schema of its env's current set; and why each other one
    does not."""
    results, refused = {}, []
    for path in paths:
        try:
            result = read_result(path)
            check_schema(result, SETS.get(result.get("env")) if isinstance(result, dict) else None)
            if result["env"] not in SETS:
                raise ResultError(f"no scenario set for env {result['env']!r}")
            results[path] = result
        except ResultError as error:
            refused.append(f"{path}: {error}")
    return results, refused


def _is_project(results_dir: Path) -> bool:
    return Path(results_dir).resolve() == PROJECT_RESULTS


def _beside_the_project(yours: dict[Path, dict], results_dir: Path) -> tuple[dict[Path, dict], set]:
    """The project's entries of the envs in ``yours`` with yours, and the (env, name) of yours (none when
    ``results_dir`` is the project's own folder). An entry of yours replaces the project's of the same name."""
    if _is_project(results_dir):
        return dict(yours), set()
    key = lambda result: (result["env"], result["name"], result["kind"] == "reference")  # noqa: E731
    taken = {key(result) for result in yours.values()}
    envs = {result["env"] for result in yours.values()}
    project, broken = _read_entries(path for path in result_files(PROJECT_RESULTS))
    for line in broken:  # the project's own files are checked by CI; one being re-recorded is left out
        print(f"warning: a project entry is left out: {line}", file=sys.stderr)
    board = {path: r for path, r in project.items() if r["env"] in envs and key(r) not in taken}
    board.update(yours)
    mine = {(r["env"], r["name"]) for r in yours.values() if r["kind"] != "reference"}
    return board, mine


def _render(args) -> int:
    from benchmarks.leaderboard import copies
    from benchmarks.leaderboard.render import OUT_DIR, render

    paths = result_files(args.results)
    if not paths:  # a mistyped folder must not turn a real board into an empty one
        what = "holds no result files (*.json)" if args.results.is_dir() else "is not a folder"
        raise ValueError(f"--results {args.results} {what}: nothing rendered")
    yours, refused = _read_entries(paths)
    if refused:
        print(
            "leaderboard render: refused (fix or remove them, then render again):\n  " + "\n  ".join(refused),
            file=sys.stderr,
        )
        return REFUSED
    if not any(result["kind"] != "reference" for result in yours.values()):
        raise ValueError(f"--results {args.results} holds no entry to rank (references only): nothing rendered")
    board, mine = _beside_the_project(yours, args.results)
    fingerprints = {str(path): copies.fingerprint(result) for path, result in board.items()}
    for first, second in copies.identical(fingerprints):
        if Path(first) in yours or Path(second) in yours:  # the project's own pairs are said on its board
            print(copies.warning(first, second), file=sys.stderr)
    out = args.out or (OUT_DIR if _is_project(args.results) else args.results)
    md, page = render(list(board.values()), out, mine)
    print(
        f"wrote {md} and {page} from {len(board)} result files"
        + (f" ({len(yours)} of them yours, marked (yours))" if mine else "")
    )
    return OK


def run(args: argparse.Namespace) -> int:
    return {"run": _run, "validate": _validate, "render": _render}[args.leaderboard_command](args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge-envs leaderboard", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, OSError) as error:
        print(f"edge-envs leaderboard: error: {error}", file=sys.stderr)
        return REFUSED
