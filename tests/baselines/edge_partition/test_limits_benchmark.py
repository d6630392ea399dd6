"""Smoke version of benchmarks/exact_slot_limits.py."""

import pytest

from baselines.edge_partition import exact
from benchmarks import exact_slot_limits as bench


def test_limits_benchmark__decides_every_behaviours_states_within_the_node_limit():
    result = bench.decisions("all-local", 4, seed=1)
    assert len(result["seconds"]) == 4 and (result["seconds"] > 0).all()
    assert (result["nodes"] <= exact.NODE_LIMIT).all() and result["proved"].all()
    assert not result["critical"].any()  # the first slots: the budget is full


def test_limits_benchmark__main_writes_one_row_per_behaviour_and_the_total(tmp_path, capsys):
    out = tmp_path / "limits.md"
    assert bench.main(["--states", "6", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.strip() == capsys.readouterr().out.strip()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    assert [row.split("|")[1].strip() for row in rows] == ["states visited by", *bench.BEHAVIOURS, "all"]
    assert rows[-1].split("|")[2].strip() == "6" and "| 100.00% |" in rows[-1]
    with pytest.raises(SystemExit):
        bench.main(["--states", "2", "--out", str(out)])
