"""The EdgePartition generalisation benchmark (benchmarks.generalise) end to end on a tiny budget."""

import json

import pytest

from benchmarks.generalise import LOCAL_SEARCH, main


@pytest.mark.slow
def test_generalise__writes_every_variant_and_its_target_row(tmp_path):
    argv = ["--steps", "64", "--seeds", "0", "--episodes", "1", "--scenarios", "default", "--baselines", "exact-slot"]
    assert main([*argv, "--rounds", "1", "--candidates", "2", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "generalise.md").read_text()
    for label in ("generalist", "generalist, 2 candidates", LOCAL_SEARCH):
        assert f"| {label} |" in table and f"| default | per-slot | {label} |" in table
    rows = json.loads((tmp_path / "generalise.json").read_text())["default"]["rows"]
    bound, refined = rows["bound"]["returns"][0], rows[LOCAL_SEARCH]["returns"][0]
    assert refined <= bound + 1e-9  # the bound holds for every policy
