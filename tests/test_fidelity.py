"""benchmarks.fidelity: the papers' headline results beside ours, read from the result files, never typed."""

import re
from pathlib import Path

import pytest

from benchmarks import fidelity
from benchmarks.files import RESULTS_DIR

ROOT = Path(__file__).resolve().parents[1]


def _sm_text(walls: dict) -> str:
    head = "| framework | comm. cost (s) | comp. cost (s) | wall-clock (s) | rounds |\n" + "| --- " * 5 + "|\n"
    rows = "".join(f"| {name} | 10 ± 1 | 20 ± 2 | {wall} ± 3 | 50 ± 0 |\n" for name, wall in walls.items())
    return f"# Table 2\n\nEq. (4)'s noise as printed\n\n### backend `bound`, setting `default`\n\n{head}{rows}"


def test_fidelity__sm3fl_ratios_and_order_against_the_papers():
    paper_like = {"FedAvg": 240, fidelity.PARALLEL_FEDAVG: 80, "FedBCD": 126, "MFL-NSM": 115, "MFL-FR": 109}
    paper_like["SM3FL"] = 100
    lines, orders = fidelity.sm_blocks(_sm_text(paper_like))
    assert orders == [("backend `bound`, setting `default`", True)]  # the parallel-edges row is not ranked
    text = "\n".join(lines)
    assert "| FedAvg | 2.396 | 2.400 | yes |" in text  # 593.28 / 247.57 beside 240 / 100
    assert "with every edge at once FedAvg would take 0.80 times SM3FL's" in text
    fast_fedavg = {**paper_like, "FedAvg": 80}
    lines, orders = fidelity.sm_blocks(_sm_text(fast_fedavg))
    text = "\n".join(lines)
    assert orders[0][1] is False and "ours FedAvg < SM3FL < MFL-FR" in text
    assert "| FedAvg | 2.396 | 0.800 | **no** |" in text
    assert "| MFL-FR | 1.092 | 1.090 | yes |" in text


def test_fidelity__fig5_rows_count_the_strict_episodes():
    text = (
        "## alexnet_224, single-user\n\nFig. 5 order (recursive-efficiency < ionn < direct, strictly): 1/8 episodes.\n"
        "## vgg16_224, single-user\n\nFig. 5 order (recursive-efficiency < ionn < direct, strictly): 8/8 episodes.\n"
    )
    rows = fidelity.fig5_rows(text)
    assert [row[:3] for row in rows] == [
        ("alexnet_224, single-user", "1/8", "**no**"),
        ("vgg16_224, single-user", "8/8", "yes"),
    ]
    assert rows[1][3] == "-" and "IONN" in rows[0][3]  # a reason only where the order does not hold


@pytest.mark.parametrize(
    "cell, value", [("0.895 ± 0.010", 0.895), ("1.173e+04 ± 1.2e+02", 11730.0), ("5.0 (2/3)", 5.0)]
)
def test_fidelity__number_reads_the_mean_of_a_cell(cell, value):
    assert fidelity.number(cell) == value


def test_fidelity__results_file_is_what_the_benchmarks_results_give():
    shipped = ROOT / RESULTS_DIR / fidelity.OUT
    assert shipped.read_text() == fidelity.render(shipped.parent)  # rerun python -m benchmarks.fidelity if not


def test_fidelity__readme_quotes_the_summary_as_the_results_file_has_it():
    text = (ROOT / RESULTS_DIR / fidelity.OUT).read_text()
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Fidelity to the papers\n(.*?)\n## ", readme, re.S).group(1)
    quoted = "\n".join(line for line in block.splitlines() if line.startswith("|"))
    assert quoted == fidelity.summary(text)
