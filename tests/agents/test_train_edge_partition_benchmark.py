"""Smoke run of benchmarks/train_edge_partition.py: tiny configuration, files and tables produced."""

import json

import numpy as np
import pytest

from benchmarks import train_edge_partition as bench


@pytest.mark.slow
def test_train_edge_partition_benchmark__tiny_run_writes_tables_curves_and_refuses_joint_space(tmp_path):
    argv = [
        "--algos",
        "mtl-a3c,a3c",
        "--scenarios",
        "default,unseen",
        "--seeds",
        "1",
        "--steps",
        "64",
        "--imitation-steps",
        "32",
        "--episode-slots",
        "4",
        "--eval-episodes",
        "1",
        "--workers",
        "1",
        "--bins",
        "4",
        "--out",
        str(tmp_path),
    ]
    assert bench.main(argv) == 0
    table = (tmp_path / "train_edge_partition.md").read_text()
    assert "## default" in table and "## unseen" in table
    unseen = table.split("## unseen", 1)[1]
    assert f"a3c: {bench.NOT_ENUMERABLE}" in unseen  # 8^9 joint placements are refused, with the reason
    for name in ("| mtl-a3c | ", "| exact-slot | ", "| ga | ", "| pso | ", "| bound | "):
        assert name in unseen, name
    assert "gap to bound" in table and "ms / decision" in table and "Episodes to converge:" in table
    for scenario in ("default", "unseen"):
        assert (tmp_path / f"train_edge_partition_{scenario}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw = json.loads((tmp_path / "train_edge_partition.json").read_text())
    assert raw["scenarios"]["default"]["algos"]["a3c"][0]["steps"] >= 64  # 5^6 placements: the single head trains
    bound = np.mean(raw["scenarios"]["default"]["baselines"]["bound"]["returns"])
    for name, row in raw["scenarios"]["default"]["baselines"].items():
        assert np.mean(row["returns"]) <= bound + 1e-9 * abs(bound), name
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_episodes_to_converge__counts_episodes_until_95_percent_of_the_improvement():
    returns = np.r_[np.full(20, -100.0), np.linspace(-100, 0, 21)[1:], np.zeros(60)]
    converged = bench.episodes_to_converge(returns, smooth=1)
    assert 38 <= converged <= 40  # the ramp reaches -5 (95% of the way) at episode 39
    assert bench.episodes_to_converge(np.full(50, -3.0), smooth=5) == 5  # no improvement: at once
