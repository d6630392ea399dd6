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
    exact = rows["exact-order"]["returns"][0]
    assert raw["nin"]["gaps_percent"] == pytest.approx([100 * (exact - rows["generalist"]["returns"][0]) / abs(exact)])


def test_generalise_upload__unknown_baseline_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--baselines", "sm3fl"])
    assert exit_.value.code == 2 and "--baselines: unknown ['sm3fl']" in capsys.readouterr().err
