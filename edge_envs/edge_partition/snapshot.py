"""Save the picture of a seeded EdgePartition-v0 episode: ``python -m edge_envs.edge_partition.snapshot``.

The README's picture (docs/edge_partition.png) is made by this module with its defaults.
"""

from __future__ import annotations

import argparse

import matplotlib.image
import numpy as np

from edge_envs.edge_partition.core import DEVICE
from edge_envs.edge_partition.env import EdgePartitionEnv


def main(argv: list[str] | None = None) -> int:
    """Step a seeded episode a few slots (every block on server 1, then spread) and save its picture."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", default="docs/edge_partition.png", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="the episode's seed")
    parser.add_argument("--slots", type=int, default=5, help="slots to step before the picture (at least 1)")
    args = parser.parse_args(argv)
    if args.slots < 1:
        parser.error(f"--slots must be at least 1, got {args.slots}")
    env = EdgePartitionEnv(render_mode="rgb_array")
    env.reset(seed=args.seed)
    N, M = env.cfg.num_servers, env.cfg.num_blocks
    for _ in range(args.slots - 1):  # every block on server 1: its queue builds up
        env.step(np.ones(M, dtype=np.int64))
    env.step(np.array([DEVICE] + [1 + m * N // M for m in range(M - 1)]))  # then spread
    matplotlib.image.imsave(args.out, env.render())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
