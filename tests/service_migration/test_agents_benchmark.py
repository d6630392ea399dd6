"""Smoke run of benchmarks/agents_service_migration.py (the full run lives in benchmarks/)."""

import pytest

from benchmarks import agents_service_migration as agents_benchmark


@pytest.mark.slow
def test_agents_benchmark__smoke_run_trains_and_tables_both_agents_beside_sm3fl(tmp_path, capsys):
    out = tmp_path / "agents.md"
    argv = ["--seeds", "1", "--steps", "64", "--episodes", "1", "--imitation-steps", "64"]
    argv += ["--logdir", str(tmp_path / "runs"), "--out", str(out)]
    assert agents_benchmark.main(argv) == 0
    text = out.read_text()
    assert text in capsys.readouterr().out
    for name in (*agents_benchmark.ALGOS, *agents_benchmark.BASELINES):
        assert f"| {name} |" in text
    assert "| sm3fl | " in text and "| +0.0% |" in text  # SM3FL is the reference row
    assert "Target: within 5% of SM3FL's wall clock. mtl-a3c: " in text
    assert "both first warm-started on 64 labelled rounds" in text
    for algo in agents_benchmark.ALGOS:  # trained by the script
        assert list((tmp_path / "runs").glob(f"ServiceMigration-v0__{algo}__0__*/checkpoint.pt"))
    assert not list(tmp_path.glob(".*.tmp"))
