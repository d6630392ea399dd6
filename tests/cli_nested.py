"""A sub-command module with sub-sub-commands (as ``benchmarks.leaderboard.cli`` has), for tests/test_cli.py."""


def add_arguments(parser):
    sub = parser.add_subparsers(dest="command", required=True)  # the same dest name as a careless module would use
    first = sub.add_parser("run")
    first.add_argument("--count", type=int, required=True)
    sub.add_parser("fail")


def run(args) -> int:
    if args.command == "fail":
        raise ValueError("--count: something named went wrong")
    print(f"ran {args.command} with count {args.count}")
    return 0
