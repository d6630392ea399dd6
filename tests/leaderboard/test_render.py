"""render: the committed tables are what the result files give, and the page carries every entry."""

import re

import pytest

from benchmarks.leaderboard import render
from benchmarks.leaderboard.results import read_result, result_files


def _results():
    return [read_result(path) for path in result_files()]


def test_render__committed_leaderboard_md_is_generated_from_the_committed_results():
    committed = (render.OUT_DIR / "LEADERBOARD.md").read_text()
    assert render.markdown(_results()) == committed, "run `python -m benchmarks.leaderboard render` and commit"


@pytest.mark.slow
def test_render__page_has_a_sortable_table_and_a_chart_per_env_with_every_entry():
    results = _results()
    page = render.page(results)
    for env_id in {r["env"] for r in results}:
        assert f'id="table-{env_id}"' in page
    assert page.count("<svg") == len({r["env"] for r in results})
    assert page.count('onclick="sortTable(this)"') > 0 and "function sortTable" in page
    for result in results:  # a policy is a row; a reference is named beside its scenarios
        if result["kind"] == "reference":
            assert f"reference {result['name']}" in page
        else:
            assert f'<td data-v="{result["name"]}">{result["name"]}' in page


def test_render__a_baseline_entry_names_its_aliases_and_other_kinds_do_not():
    from benchmarks.leaderboard.render import _aliases, _entry

    summary = {"aliases": _aliases("EdgePartition-v0")}
    assert _entry(summary, {"name": "random", "kind": "baseline"}) == "random (also rpdi)"
    assert _entry(summary, {"name": "random", "kind": "submission"}) == "random"
    assert _entry(summary, {"name": "greedy", "kind": "baseline"}) == "greedy"


def test_render__chart_axes_are_linear_and_the_zoom_fits_the_top_entries():
    # the top entries differ by tenths of a point; a far-off entry is cut at -100 with its value written
    rows = [
        {"name": n, "kind": "baseline", "iqm": (x, x - 0.2, x + 0.2), "mean": (x, x - 0.2, x + 0.2)}
        for n, x in [("a", 99.5), ("b", 99.1), ("c", 98.0), ("d", 97.0), ("e", 96.0), ("f", 95.0), ("g", -5000.0)]
    ]
    figure = render._figure("X-v0", {"rows": rows})
    whole, zoom = figure.axes
    assert whole.get_xscale() == zoom.get_xscale() == "linear"
    assert -120 < whole.get_xlim()[0] < -100 and 100 < whole.get_xlim()[1] < 120
    assert [text.get_text() for text in whole.texts] == ["-5000"]
    assert 94 < zoom.get_xlim()[0] < 94.8 and 99.7 < zoom.get_xlim()[1] < 100.5  # six entries, 4.9 points apart


def test_render__a_users_entry_is_marked_yours_beside_the_projects():
    results = [r for r in _results() if r["env"] == "EdgeUpload-v0"]
    mine = dict(next(r for r in results if r["name"] == "random"), name="my-policy", kind="submission")
    text = render.markdown([*results, mine], mine={("EdgeUpload-v0", "my-policy")})
    assert "| my-policy (yours) | submission |" in text and "| random | baseline |" in text


def test_render__a_board_without_baselines_has_no_improvement_column():
    mine = dict(read_result(render.OUT_DIR / "results" / "EdgeUpload-v0__random.json"), name="mine", kind="submission")
    text = render.markdown([mine], mine={("EdgeUpload-v0", "mine")})
    assert "P(improve over" not in text and "None" not in text and "| 1 | mine (yours) | submission |" in text


def test_standings__rank_the_users_entry_among_the_projects_with_aliases():
    results = [r for r in _results() if r["env"] == "EdgePartition-v0"]
    mine = dict(next(r for r in results if r["name"] == "greedy"), name="my greedy", kind="submission")
    lines = render.standings([*results, mine], "EdgePartition-v0", mine={("EdgePartition-v0", "my greedy")})
    rows = [re.split(r"\s{2,}", line.strip())[1] for line in lines.splitlines()[2:]]
    assert rows.index("my greedy (yours)") == rows.index("greedy") + 1  # a tie, ranked by name
    references = sum(r["kind"] == "reference" for r in results)  # return-bound and lagrangian-bound
    assert "random (also rpdi)" in rows and len(rows) == len(results) + 1 - references  # references are not ranked


def test_render__scores_far_below_the_floor_show_as_below_minus_100():
    assert render._score((-29905.7, -29930.1, -29903.7)) == "< -100"
    assert render._score((5.0, -104.9, 11.7)) == "5.0 [< -100, 11.7]"
    assert render._score((99.2, 97.3, 100.4)) == "99.2 [97.3, 100.4]"


def test_render__scenario_lines_give_exact_slots_myopic_headroom_to_the_reference():
    summary = {
        "reference": {"names": ["return-bound", "lagrangian-bound"], "means": [-10.0, -10.0]},
        "rows": [{"name": "exact-slot", "scenario_means": [-10.05, -15.0]}],
    }
    assert render._headroom(summary, 0) == "; myopic headroom (exact-slot vs the reference) +0.5%: per-slot"
    assert render._headroom(summary, 1) == "; myopic headroom (exact-slot vs the reference) +50.0%: needs foresight"
    assert render._headroom({**summary, "rows": []}, 0) == ""


def test_render__each_env_section_says_what_its_scenarios_test():
    from benchmarks.leaderboard.scenarios import SETS

    text = render.markdown(_results())
    for scenarios in SETS.values():
        assert scenarios.tests and f"). {scenarios.tests}" in text
    edge_partition = SETS["EdgePartition-v0"]
    assert all(f"`{instance.name}`" in edge_partition.tests for instance in edge_partition.instances)
    assert "per-slot" in edge_partition.tests.lower() and "foresight" in edge_partition.tests
