"""The ``edge-envs`` command: one sub-command per module, imported only when used."""

from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
COMMANDS = {
    "profile": ("edge_envs.dnn.profiler", "measure per-layer DNN latencies and write a profile JSON"),
    "train": ("agents.train", "train an agent on an environment, with TensorBoard logs and checkpoints"),
    "evaluate": ("agents.evaluate", "evaluate a trained checkpoint on an environment"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge-envs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    argv = sys.argv[1:] if argv is None else argv
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        # Only the chosen command's module is imported (torch-heavy modules stay unloaded).
        if argv and argv[0] == name:
            module = importlib.import_module(module_name)
            module.add_arguments(sub_parser)
            sub_parser.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError) as error:  # bad input (config, checkpoint, option): the message, no traceback
        print(f"edge-envs {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
