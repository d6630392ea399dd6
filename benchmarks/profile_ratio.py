"""Sum of per-layer latencies against the measured whole-model latency, for every profile in a folder.

The per-layer latencies feed the environments' block costs, so they must add up to a real forward
pass: the ratio (sum of per-layer medians / whole-model median) is expected within 0.85-1.15 for the
CPU profiles at batch 1 and the GPU profiles at batch 32 (at GPU batch 1 launch overheads dominate).
Every profile is listed with its source. An imported profile may publish no whole-model time
(PipeDream's do not): its row gives the sum of layers and the per-image time, and says so.

    python -m benchmarks.profile_ratio [--dir edge_envs/dnn/profiles]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

from edge_envs.dnn.profile import PROFILE_DIR, load_profile

EXPECTED = (0.85, 1.15)


class Row(NamedTuple):
    file: str
    source: str  # "measured" or "imported"
    device: str
    batch: int
    layers_s: float  # sum of the layers' medians, for a batch
    whole_s: float | None  # whole-model median for a batch; None: not in the profile
    ratio: float | None


def ratio_rows(folder: Path) -> list[Row]:
    """One row per profile file and batch size, in file order."""
    rows = []
    for path in sorted(folder.glob("*.json")):
        profile = load_profile(path)
        for batch in profile.batch_sizes:
            layers = float(profile.layer_latency(batch).sum())
            whole = None if profile.model_latency is None else profile.model_latency[batch].median_s
            rows.append(
                Row(
                    path.name,
                    profile.source.kind,
                    profile.device.name,
                    batch,
                    layers,
                    whole,
                    None if whole is None else layers / whole,
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--dir", type=Path, default=PROFILE_DIR, help="folder of profile files (default: the shipped ones)"
    )
    args = parser.parse_args(argv)
    rows = ratio_rows(args.dir)
    if not rows:
        print(f"no profiles in {args.dir}", file=sys.stderr)
        return 1
    print(
        f"{'profile':<24} {'source':<9} {'batch':>5} {'sum of layers ms':>17} {'per image ms':>13} "
        f"{'whole model ms':>15} {'ratio':>7}  device"
    )
    for row in rows:
        per_image = row.layers_s / row.batch * 1e3
        if row.ratio is None:
            whole, ratio, flag = f"{'not published':>15}", f"{'-':>7}", "  (no whole-model time: no ratio)"
        else:
            whole, ratio = f"{row.whole_s * 1e3:>15.3f}", f"{row.ratio:>7.3f}"
            flag = "" if EXPECTED[0] <= row.ratio <= EXPECTED[1] else "  (outside 0.85-1.15)"
        print(
            f"{row.file:<24} {row.source:<9} {row.batch:>5} {row.layers_s * 1e3:>17.3f} {per_image:>13.4f} "
            f"{whole} {ratio}  {row.device}{flag}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
