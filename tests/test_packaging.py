"""The wheel: what ships (the packages, their data, every README a message points to, the licences) and
what does not (the tests, this checkout's benchmark results)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from benchmarks import files

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("edge_envs", "agents", "baselines", "benchmarks", "edge_envs_cli")
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", "runs"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built from a copy of the checkout (the build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source") / "edge-envs"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("edge_envs-*.whl")
    return zipfile.ZipFile(path)


def _package_files(package: str) -> list[str]:
    """The files of a package folder in the checkout, as wheel paths (no bytecode)."""
    folder = ROOT / package
    return sorted(
        str(p.relative_to(ROOT))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def test_packaging__wheel_ships_the_packages_and_not_the_tests(wheel):
    top = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert top == {package for package in PACKAGES if (ROOT / package).is_dir()}
    assert not [name for name in wheel.namelist() if name.startswith("tests/") or "/tests/" in name]


def test_packaging__every_file_of_the_library_ships_readmes_profiles_and_data_included(wheel):
    shipped = set(wheel.namelist())
    missing = [name for name in _package_files("edge_envs") if name not in shipped]
    assert not missing, f"not in the wheel: {missing}"
    for name in (
        "edge_envs/dnn/profiles/README.md",
        "edge_envs/dnn/profiles/LICENSE.pipedream.txt",
        "edge_envs/dnn/profiles/alexnet_224__gpu.json",
        "edge_envs/dnn/profiles/vgg16__cpu.json",
        "edge_envs/data/README.md",
        "edge_envs/data/uci_mfeat.npz",
    ):
        assert name in shipped, name


def test_packaging__benchmark_results_of_the_checkout_stay_out(wheel):
    assert not [name for name in wheel.namelist() if name.startswith("benchmarks/results/")]
    assert "benchmarks/files.py" in wheel.namelist()


def test_packaging__licence_file_and_metadata_say_mit(wheel):
    names = wheel.namelist()
    (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    text = wheel.read(licence).decode()
    assert text.startswith("MIT License") and "edge-envs contributors" in text
    (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
    assert "License: MIT" in wheel.read(metadata).decode()


def test_packaging__benchmark_results_go_to_the_working_directory(tmp_path, monkeypatch):
    assert not files.RESULTS_DIR.is_absolute() and files.RESULTS_DIR == Path("benchmarks", "results")
    monkeypatch.chdir(tmp_path)
    files.write_atomically(files.RESULTS_DIR / "probe.md", "ok\n")
    assert (tmp_path / "benchmarks" / "results" / "probe.md").read_text() == "ok\n"


def test_packaging__the_leaderboards_results_ship_so_an_installed_package_ranks_a_user_beside_them(wheel):
    from benchmarks.leaderboard.results import PROJECT_RESULTS, result_files

    shipped = set(wheel.namelist())
    committed = [f"benchmarks/leaderboard/results/{path.name}" for path in result_files(PROJECT_RESULTS)]
    assert committed and [name for name in committed if name not in shipped] == []
