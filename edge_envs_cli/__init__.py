"""The ``edge-envs`` command: one sub-command per module, imported only when it is the one used.

It sits above every package of the project (``edge_envs``, ``agents``, ``baselines``,
``benchmarks``), so the environments never import the layers built on them. Each sub-command's
module defines ``add_arguments(parser)`` and ``run(args) -> int``; it may add sub-sub-commands
of its own (``parser.add_subparsers``), and ``run`` then dispatches on them.

Bad input ends in one line ``edge-envs CMD: error: ...`` and exit status 2, never a traceback:
argparse's own errors, and every ``ValueError`` or ``OSError`` (a missing or unreadable file)
that a sub-command raises.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
COMMANDS = {
    "profile": ("edge_envs.dnn.profiler", "measure per-layer DNN latencies and write a profile JSON"),
    "train": ("agents.train", "train an agent on an environment, with TensorBoard logs and checkpoints"),
    "evaluate": ("agents.evaluate", "evaluate a trained checkpoint on an environment"),
    "leaderboard": ("benchmarks.leaderboard.cli", "run, validate and render leaderboard submissions"),
}

DESCRIPTION = "Edge-computing RL environments: profile DNNs, train agents, evaluate them, run the leaderboard."
EPILOG = "Run `edge-envs COMMAND --help` for a command's options, e.g. `edge-envs train --help`."

_COMMAND = "_edge_envs_command"  # namespace attribute of the chosen command (a name no sub-command uses)
_RUN = "_edge_envs_run"


class _Parser(argparse.ArgumentParser):
    """argparse with errors on one line (usage is one ``--help`` away); nested parsers inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _chosen(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (its first argument that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _Parser(prog="edge-envs", description=DESCRIPTION, epilog=EPILOG)
    sub = parser.add_subparsers(dest=_COMMAND, required=True, metavar="COMMAND")
    chosen = _chosen(argv)
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name != chosen:
            continue
        # Only the chosen command's module is imported: the others may pull in torch or SB3 (seconds).
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is None or not module_name.startswith(error.name):
                raise  # a module it imports is missing: a broken install, shown in full
            sub_parser.error(f"this installation lacks {module_name}")
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(**{_RUN: module.run})
    args = parser.parse_args(argv)
    command = getattr(args, _COMMAND)
    try:
        return int(getattr(args, _RUN)(args) or 0)
    except (ValueError, OSError) as error:  # bad input (option, config, file): the message, no traceback
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"edge-envs {command}: error: {message}", file=sys.stderr)
        return 2
