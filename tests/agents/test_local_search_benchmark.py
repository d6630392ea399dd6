"""The local-search benchmark (benchmarks.local_search_edge_partition) end to end on short episodes."""

import pytest

from benchmarks.local_search_edge_partition import main


def test_local_search_benchmark__writes_every_row_of_both_scenarios(tmp_path):
    out = tmp_path / "local_search.md"
    assert main(["--episodes", "2", "--slots", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert "2 held-out episodes per scenario (seeds 40000..40001, 2 slots each)" in text
    for scenario in ("## default:", "## crowded:"):
        assert scenario in text
    for row in ("local-search", "mtl-a3c+local-search", "mtl-a3c", "ga", "pso", "lpt", "greedy"):
        assert text.count(f"| {row} |") == 2
    assert text.count("| ga | ") == 2 and "| - | " in text  # GA is the anchor of P(beats)


@pytest.mark.parametrize(("argv", "message"), [(["--episodes", "1"], "--episodes"), (["--slots", "0"], "--slots")])
def test_local_search_benchmark__refuses_too_few_episodes_or_slots(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
