"""render: the committed tables are what the result files give, and the page carries every entry."""

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
            assert f'<td data-v="{result["name"]}">{result["name"]}</td>' in page
