"""Sum of per-layer latencies against the measured whole-model latency, for every profile in a folder.

The per-layer latencies feed the environments' block costs, so they must add up to a real forward
pass: the ratio (sum of per-layer medians / whole-model median) is expected within 0.85-1.15 for the
CPU profiles at batch 1 and the GPU profiles at batch 32 (at GPU batch 1 launch overheads dominate).

    python -m benchmarks.profile_ratio [--dir edge_envs/dnn/profiles]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_envs.dnn.profile import PROFILE_DIR, load_profile

EXPECTED = (0.85, 1.15)


def ratio_rows(folder: Path) -> list[tuple[str, str, int, float, float, float]]:
    """(file, device name, batch, sum of layer medians s, whole-model median s, ratio) per profile and batch."""
    rows = []
    for path in sorted(folder.glob("*.json")):
        profile = load_profile(path)
        for batch in profile.batch_sizes:
            layers = float(profile.layer_latency(batch).sum())
            whole = profile.model_latency[batch].median_s
            rows.append((path.name, profile.device.name, batch, layers, whole, layers / whole))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--dir", type=Path, default=PROFILE_DIR, help="folder of profile files (default: the shipped ones)")
    args = parser.parse_args(argv)
    rows = ratio_rows(args.dir)
    if not rows:
        print(f"no profiles in {args.dir}", file=sys.stderr)
        return 1
    print(f"{'profile':<24} {'batch':>5} {'sum of layers ms':>17} {'whole model ms':>15} {'ratio':>7}  device")
    for name, device, batch, layers, whole, ratio in rows:
        flag = "" if EXPECTED[0] <= ratio <= EXPECTED[1] else "  (outside 0.85-1.15)"
        print(f"{name:<24} {batch:>5} {layers * 1e3:>17.3f} {whole * 1e3:>15.3f} {ratio:>7.3f}  {device}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
