import pytest

from benchmarks import contention_free_edge_partition as bench


def test_cost_gap_is_the_extra_cost_in_percent_of_the_oracles():
    assert bench.cost_gap(-7.5, -6.0) == 25.0
    assert bench.cost_gap(-6.0, -6.0) == 0.0


@pytest.mark.slow
def test_contention_free_benchmark__smoke_writes_the_table(tmp_path):
    out = tmp_path / "cf.md"
    assert bench.main(["--seeds", "1", "--steps", "256", "--episodes", "2", "--workers", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| chain-dp |" in text and "| exact-slot |" in text and "| best-single-server |" in text
    assert all(f"| {variant} (seed 0) |" in text for variant in bench.VARIANTS)
    assert "+0.0% |" in text.split("| chain-dp |")[1].splitlines()[0]
    assert "+0.0% |" in text.split("| exact-slot |")[1].splitlines()[0]
    assert "- mtl-a3c chained: mean gap over seeds" in text and "First-slot placements" in text
