"""The EdgeUpload generalisation benchmark (benchmarks.generalise_upload) end to end on a tiny budget."""

import json

import pytest

from benchmarks.generalise_upload import main


@pytest.mark.slow
def test_generalise_upload__writes_the_held_out_table_and_gaps(tmp_path):
    argv = ["--steps", "16", "--seeds", "0", "--episodes", "1", "--instances", "nin"]
    assert main([*argv, "--baselines", "efficiency,exact-order", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "generalise_upload.md").read_text()
    for row in (
        "| generalist |",
        "| exact-order |",
        "| exact-order (reference) |",
        "| maskable-ppo (trained on nin) |",
    ):
        assert row in table
    raw = json.loads((tmp_path / "generalise_upload.json").read_text())
    rows = raw["nin"]["rows"]
    reference, exact = rows["exact-order (reference)"]["expected_areas"][0], rows["exact-order"]["expected_areas"][0]
    assert exact == pytest.approx(reference, rel=1e-9)  # exact-order's order is the optimum in expectation
    generalist = rows["generalist"]["expected_areas"][0]
    assert generalist >= reference * (1 - 1e-9)
    assert raw["nin"]["gaps_percent"] == pytest.approx([100 * (generalist - reference) / reference])


def test_generalise_upload__unknown_baseline_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--baselines", "sm3fl"])
    assert exit_.value.code == 2 and "--baselines: unknown ['sm3fl']" in capsys.readouterr().err
