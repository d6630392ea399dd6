"""Smoke run of benchmarks/ppo_service_migration.py (the full run lives in benchmarks/)."""

from benchmarks import ppo_service_migration as ppo_benchmark


def test_ppo_benchmark__smoke_run_trains_and_tables_ppo_beside_sm3fl(tmp_path, capsys):
    out = tmp_path / "ppo.md"
    assert (
        ppo_benchmark.main(
            ["--seeds", "1", "--steps", "64", "--episodes", "1", "--logdir", str(tmp_path / "runs"), "--out", str(out)]
        )
        == 0
    )
    text = out.read_text()
    assert text in capsys.readouterr().out
    for name in ("ppo", *ppo_benchmark.BASELINES):
        assert f"| {name} |" in text
    assert "| sm3fl | " in text and "+0.0% |" in text  # SM3FL is the reference row
    assert list((tmp_path / "runs").glob("ServiceMigration-v0__ppo__0__*/checkpoint.pt"))  # trained by the script
    assert not list(tmp_path.glob(".*.tmp"))
