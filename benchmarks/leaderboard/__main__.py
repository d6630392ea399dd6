"""``python -m benchmarks.leaderboard {run,validate,render}``: the leaderboard without the ``edge-envs`` entry point."""

import sys

from benchmarks.leaderboard.cli import main

if __name__ == "__main__":
    sys.exit(main())
