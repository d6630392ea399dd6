"""Smoke version of benchmarks/foresight_edge_partition.py."""

import pytest

from benchmarks import foresight_edge_partition as bench


@pytest.mark.slow
def test_foresight_benchmark__writes_the_agent_beside_every_baseline_and_the_reference(tmp_path):
    out = tmp_path / "results" / "foresight.md"
    argv = ["--seeds", "1", "--steps", "72", "--imitation-steps", "16", "--episodes", "2", "--slots", "4"]
    # deadlines: its config holds a tuple, which the resumed run (after RL) must accept as the run's own
    assert bench.main([*argv, "--scenarios", "deadlines", "--out", str(out)]) == 0
    text = out.read_text()
    for row in ("mtl-a3c, warm start", "mtl-a3c, after RL", *bench.BASELINES):
        assert f"| {row} |" in text, row
    assert "Strongest non-learned baseline:" in text and "Imitation vs RL: the warm start alone scores" in text
    assert [p.name for p in out.parent.iterdir()] == ["foresight.md"]  # written atomically


@pytest.mark.parametrize(
    "argv",
    [["--episodes", "1"], ["--steps", "64"], ["--seeds", "-1"], ["--scenarios", "default"], ["--baselines", "ga"]],
)
def test_foresight_benchmark__bad_flags_exit_2(argv, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        bench.main([*argv, "--out", str(tmp_path / "f.md")])
    assert exit_.value.code == 2


@pytest.mark.slow
def test_foresight_benchmark__priced_agent_scores_its_warm_start_and_its_training(tmp_path):
    out = tmp_path / "priced.md"
    argv = ["--agent", "priced", "--seeds", "1", "--steps", "72", "--episodes", "2", "--slots", "4"]
    assert bench.main([*argv, "--scenarios", "energy", "--baselines", "exact-slot", "--out", str(out)]) == 0
    text = out.read_text()
    for row in ("priced, warm start", "priced, after RL", "exact-slot"):
        assert f"| {row} |" in text, row
    assert "priced decides in" in text and "GA in" not in text  # GA not played: no time quoted
