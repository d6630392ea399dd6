"""Smoke run of benchmarks/train_edge_partition.py: tiny configuration, files and tables produced."""

import json

import numpy as np

from benchmarks import train_edge_partition as bench


def test_train_edge_partition_benchmark__tiny_run_writes_tables_curves_and_refuses_joint_space(tmp_path, capsys):
    argv = [
        "--algos",
        "mtl-a3c,a3c,ppo",
        "--blocks",
        "3,12",
        "--seeds",
        "1",
        "--steps",
        "128",
        "--episode-slots",
        "8",
        "--eval-episodes",
        "1",
        "--workers",
        "1",
        "--bins",
        "4",
        "--throughput-steps",
        "64",
        "--throughput-repeats",
        "1",
        "--out",
        str(tmp_path),
    ]
    assert bench.main(argv) == 0
    table = (tmp_path / "train_edge_partition.md").read_text()
    assert "## M = 3 blocks" in table and "## M = 12 blocks" in table
    m12 = table.split("## M = 12 blocks", 1)[1].split("## Throughput", 1)[0]
    assert f"| a3c | {bench.NOT_ENUMERABLE} |" in m12  # 5^12 joint placements are refused, with the reason
    assert "| mtl-a3c | " in m12 and "| greedy (baseline) | " in m12
    assert "Ratio mtl-a3c / PPO:" in table and "Episodes to converge:" in table
    for blocks in (3, 12):
        assert (tmp_path / f"train_edge_partition_M{blocks}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw = json.loads((tmp_path / "train_edge_partition.json").read_text())
    assert raw["throughput"]["ratio"] > 0
    assert raw["blocks"]["3"]["algos"]["a3c"][0]["steps"] >= 128  # 5^3 = 125 placements: the single head trains
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_episodes_to_converge__counts_episodes_until_95_percent_of_the_improvement():
    returns = np.r_[np.full(20, -100.0), np.linspace(-100, 0, 21)[1:], np.zeros(60)]
    converged = bench.episodes_to_converge(returns, smooth=1)
    assert 38 <= converged <= 40  # the ramp reaches -5 (95% of the way) at episode 39
    assert bench.episodes_to_converge(np.full(50, -3.0), smooth=5) == 5  # no improvement: at once
