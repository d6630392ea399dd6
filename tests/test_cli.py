"""The ``edge-envs`` entry point (edge_envs_cli): dispatch, lazy imports, one-line errors, layering."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from edge_envs_cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def nested(monkeypatch):
    monkeypatch.setitem(COMMANDS, "nested", ("tests.cli_nested", "a command with sub-commands"))


def test_cli__python_m_runs_the_command_and_lists_every_sub_command():
    done = subprocess.run(
        [sys.executable, "-m", "edge_envs_cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    for name in ("profile", "train", "evaluate", "leaderboard"):
        assert name in done.stdout


def test_cli__help_imports_no_sub_command_module():
    code = "import sys; from edge_envs_cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('agents', 'torch', 'stable_baselines3')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_cli__the_script_entry_point_and_the_package_are_installed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["edge-envs"] == "edge_envs_cli:main"
    assert "edge_envs_cli" in project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert COMMANDS["leaderboard"][0] == "benchmarks.leaderboard.cli"


def test_cli__a_sub_command_with_its_own_sub_commands_dispatches(nested, capsys):
    assert main(["nested", "run", "--count", "3"]) == 0
    assert capsys.readouterr().out.strip() == "ran run with count 3"


def test_cli__errors_of_a_nested_sub_command_are_one_line(nested, capsys):
    assert main(["nested", "fail"]) == 2
    assert capsys.readouterr().err == "edge-envs nested: error: --count: something named went wrong\n"
    with pytest.raises(SystemExit) as exit_info:
        main(["nested", "run", "--count", "x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("edge-envs nested run: error: argument --count: invalid int value: 'x'")


def test_cli__a_command_whose_module_is_not_installed_is_one_error_line(monkeypatch, capsys):
    monkeypatch.setitem(COMMANDS, "ghost", ("tests.no_such_module.cli", "not installed"))
    with pytest.raises(SystemExit) as exit_info:
        main(["ghost"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith(
        "edge-envs ghost: error: this installation lacks tests.no_such_module.cli"
    )


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) of every import in a file, at any depth; ``from a import b`` gives a and a.b."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, node.lineno), *((f"{node.module}.{a.name}", node.lineno) for a in node.names)]
    return found


def test_layers__edge_envs_imports_nothing_from_the_layers_above_it():
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in (ROOT / "edge_envs").rglob("*.py")
        for module, line in _imports(path)
        if module.split(".")[0] in ("agents", "baselines", "benchmarks", "edge_envs_cli")
    ]
    assert offending == []


def test_layers__the_agents_modules_import_one_another_without_a_cycle():
    modules = {path.stem: path for path in (ROOT / "agents").glob("*.py") if path.stem != "__init__"}
    graph = {
        name: {m.split(".")[1] for m, _ in _imports(path) if m.startswith("agents.")} & set(modules)
        for name, path in modules.items()
    }
    done, stack = set(), []

    def visit(node):
        assert node not in stack, f"import cycle: {' -> '.join([*stack[stack.index(node) :], node])}"
        if node in done:
            return
        stack.append(node)
        for other in graph.get(node, ()):
            visit(other)
        stack.pop()
        done.add(node)

    for name in graph:
        visit(name)


def test_layers__agents_and_the_cli_import_at_the_top_of_their_modules():
    deferred = []
    for path in [*(ROOT / "agents").glob("*.py"), *(ROOT / "edge_envs_cli").glob("*.py")]:
        tree = ast.parse(path.read_text())
        # a top-level try block guards an optional import (agents.rllib): its imports are top-level too
        top = {id(node) for node in tree.body}
        top |= {id(node) for block in tree.body if isinstance(block, ast.Try) for node in block.body}
        lines = path.read_text().splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                commented = "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")
                if not commented:
                    deferred.append(f"{path.name}:{node.lineno}")
    assert deferred == []


def test_cli_help__plain_words_and_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and "imported only" not in text  # no reST markup nor implementation notes
    assert all(name in text for name in ("profile", "train", "evaluate", "leaderboard"))


def test_train_help__real_defaults_and_the_env_ids(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "(default )" not in text and "(default '')" in text  # an empty default reads as one
    assert "one of EdgePartition-v0, ServiceMigration-v0, EdgeUpload-v0" in text
    assert "the env x algo preset (agents/presets.py) may set others" in text
