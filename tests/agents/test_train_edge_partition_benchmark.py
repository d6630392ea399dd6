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
    for name in ("| mtl-a3c | ", "| exact-slot | ", "| ga | ", "| pso | ", "Reference: bound "):
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


def test_train_edge_partition__replot_redraws_the_curves_from_the_json_alone(tmp_path):
    import shutil

    from benchmarks import train_edge_partition

    shutil.copy(train_edge_partition.RESULTS / "train_edge_partition.json", tmp_path)
    assert train_edge_partition.main(["--replot", "--out", str(tmp_path)]) == 0
    drawn = sorted(p.name for p in tmp_path.glob("*.png"))
    assert drawn == [f"train_edge_partition_{s}.png" for s in ("bursty", "default", "unseen")]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in tmp_path.glob("*.png"))


def test_edge_partition_table__reference_apart_one_format_best_first():
    from benchmarks.edge_partition_eval import BOUND, table

    rows = {
        BOUND: {"returns": [-9.0, -11.0], "decision_s": np.nan},
        "greedy": {"returns": [-20.0, -20.0], "decision_s": 1e-4},
        "exact-slot": {"returns": [-10.0, -12.0], "decision_s": 2e-4, "proved_share": 0.5},
    }
    lines = table(rows, {"header": ["train s"], "greedy": ["-"], "exact-slot": ["-"]})
    assert lines[0] == "Reference: bound -10.00 ± 1.41 (an upper bound on any policy's return)."
    header = (
        "| policy | return (mean ± std) | gap to bound | vs exact-slot | ms / decision | proved optimal | train s |"
    )
    assert lines[2] == header
    # cost 11 vs the bound's 10: +10%; greedy's 20: +100% of the bound's, +81.82% of exact-slot's
    assert lines[4] == "| exact-slot | -11.00 ± 1.41 | +10.00% | +0.00% | 0.2 | 50.0% | - |"
    assert lines[5] == "| greedy | -20.00 ± 0.00 | +100.00% | +81.82% | 0.1 | - | - |"
    assert len(lines) == 6  # the bound is no policy row
