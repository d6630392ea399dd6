"""Smoke runs of the multiserver_fl benchmarks (the full runs live in benchmarks/)."""

import pytest

from benchmarks import tables_multiserver_fl as tables
from benchmarks import throughput_multiserver_fl as throughput


@pytest.mark.slow
def test_tables_benchmark__smoke_run_prints_both_tables_beside_the_seed(tmp_path, capsys):
    out = tmp_path / "tables.md"
    assert tables.main(["--seeds", "1", "--rounds", "1", "--vehicles", "10", "--out", str(out)]) == 0
    text = out.read_text()
    assert text in capsys.readouterr().out
    for row in ("| SPAA |", "| WA |", "| Cloud-based FL |", "| Single-server FL |", "handover off", "faulty"):
        assert row in text
    assert "0.733 / 0.623 / 0.623 / 0.604" in text  # the paper's MS-FL DWAA row sits beside ours
    assert not list(tmp_path.glob("*.tmp"))


def test_throughput_benchmark__smoke_run_reports_the_speed_up(tmp_path):
    out = tmp_path / "throughput.md"
    assert throughput.main(["--vehicles", "8", "--seconds", "0.05", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| speed-up |" in text and "batched vs loop" in text


def test_tables_benchmark__latency_to_target_averages_the_seeds_that_reach_it():
    runs = [
        {"test_acc": 0.7, "rounds_to_target": float("nan"), "latency_to_target": float("nan")},
        {"test_acc": 0.9, "rounds_to_target": 4.0, "latency_to_target": 1.5},
        {"test_acc": 0.8, "rounds_to_target": 6.0, "latency_to_target": 2.5},
    ]
    summary = tables.summarise(runs)
    assert summary["reached"] == 2
    assert summary["latency_to_target"] == (2.0, 0.5) and summary["rounds_to_target"] == (5.0, 1.0)
    assert summary["test_acc"][0] == pytest.approx(0.8)
    assert tables._target_cells(summary, 3) == "5.0 (2/3) | 2.00 ± 0.50"
