"""The README is executable documentation: every ```bash and ```python block of README.md runs here.

Each block runs on its own (a fresh folder, a fresh interpreter), as a reader would paste it, with
these substitutions so the suite stays short (nothing else is changed):

- setup and test lines or ``&&`` steps (``python3 -m venv``, ``pip install``, ``source
  .venv/bin/activate``, ``python -m pytest``) are dropped: CI runs exactly those (.ci/run), and this
  test is part of that run; what a one-line fresh-machine command sets up for (the main job) runs;
- a block that trains through Ray RLlib runs only where the ``[ray]`` extra is installed (CI runs it
  in the venv of that extra, ``-k rllib``);
- ``edge-envs`` becomes ``python -m edge_envs_cli`` and ``python`` this interpreter, with the
  checkout on PYTHONPATH (the installed script may point at another checkout);
- ``tensorboard --logdir DIR`` (a server) becomes a check that every run under DIR holds the
  ``losses/value_loss`` and ``charts/sps`` scalars TensorBoard would show;
- ``--steps N`` becomes ``--steps max(32, N // 3125)`` (200000 -> 64, 400000 -> 128, so a resumed
  run still goes further), ``--episodes N`` and ``--eval-episodes N`` become 1;
- ``edge-envs train`` gets ``--eval-episodes 1`` where it gives none, and with ``--env
  EdgePartition-v0`` also ``--env-kwargs '{"episode_slots": 20}'`` (the episodes of its final table
  are then 20 slots, not 600; ``evaluate`` reads them from the checkpoint);
- ``python -m benchmarks.<name>`` gets the small-size flags of ``BENCHMARK_FLAGS[name]`` (a README
  benchmark command without an entry there fails this test until one is added).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_LINE = re.compile(r"python3 -m venv|pip install|source \.venv/bin/activate|-m pytest|bin/ruff ")
BENCHMARK_FLAGS = {"main_job": "--steps 256 --episodes 1 --imitation-steps 400"}
EVENTS_CHECK = (
    "from pathlib import Path; import sys; "
    "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator as A; "
    "runs = [p.parent for p in Path(sys.argv[1]).rglob('events.out.tfevents.*')]; "
    "assert runs, 'no TensorBoard events'; "
    "assert all({'losses/value_loss', 'charts/sps'} <= set(A(str(r)).Reload().Tags()['scalars']) for r in runs)"
)


def blocks() -> list[tuple[str, str, int]]:
    """(language, code, line number) of every bash and python block of the README."""
    text = README.read_text()
    return [
        (m.group(1), m.group(2), text[: m.start()].count("\n") + 1)
        for m in re.finditer(r"^```(bash|python)\n(.*?)^```", text, re.M | re.S)
    ]


def shell_for_test(code: str) -> str:
    """The bash block with the substitutions of the module docstring."""
    code = code.replace("\\\n", " ")  # continuation lines joined
    lines = []
    for line in code.splitlines():
        # a one-line fresh-machine command: its setup steps are CI's, the step it sets up for runs here
        line = " && ".join(step for step in line.split(" && ") if not CI_LINE.search(step))
        if not line.strip():
            continue
        line = line.split("  #")[0].split("    #")[0].rstrip()
        line = re.sub(r"^(\.venv/bin/)?edge-envs\b", '"$PY" -m edge_envs_cli', line)
        line = re.sub(r"^(\.venv/bin/)?python3?\b", '"$PY"', line)
        line = re.sub(r"^(\.venv/bin/)?tensorboard --logdir (\S+)", rf'"$PY" -c "{EVENTS_CHECK}" \2', line)
        line = re.sub(r"--steps (\d+)", lambda m: f"--steps {max(32, int(m.group(1)) // 3125)}", line)
        line = re.sub(r"--(eval-)?episodes \d+", r"--\1episodes 1", line)
        if "edge_envs_cli train" in line and "--eval-episodes" not in line:
            line += " --eval-episodes 1"
        if "edge_envs_cli train" in line and "--env EdgePartition-v0" in line and "--env-kwargs" not in line:
            line += """ --env-kwargs '{"episode_slots": 20}'"""
        benchmark = re.search(r"-m benchmarks\.(\w+)", line)
        if benchmark:
            assert benchmark.group(1) in BENCHMARK_FLAGS, f"add small-size flags for benchmarks.{benchmark.group(1)}"
            line += " " + BENCHMARK_FLAGS[benchmark.group(1)]
        lines.append(line)
    return "\n".join(lines)


def test_readme__has_the_blocks_this_test_is_about():
    languages = [language for language, _, _ in blocks()]
    assert languages.count("bash") >= 3 and languages.count("python") >= 2


def test_readme__substitutions_shrink_the_documented_training_line():
    line = "edge-envs train --env EdgePartition-v0 --algo mtl-a3c --steps 200000 --seed 1 --logdir runs"
    assert shell_for_test(line) == (
        '"$PY" -m edge_envs_cli train --env EdgePartition-v0 --algo mtl-a3c --steps 64 --seed 1 --logdir runs'
        """ --eval-episodes 1 --env-kwargs '{"episode_slots": 20}'"""
    )
    assert shell_for_test("python3 -m venv .venv\n.venv/bin/pip install -q -e .\nsource .venv/bin/activate") == ""
    main_job = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/python -m benchmarks.main_job"
    assert shell_for_test(main_job) == '"$PY" -m benchmarks.main_job --steps 256 --episodes 1 --imitation-steps 400'


@pytest.mark.slow
@pytest.mark.parametrize(
    "language, code, line", blocks(), ids=[f"{lang}@line{n}" + "-rllib" * ("rllib" in c) for lang, c, n in blocks()]
)
def test_readme__block_runs_on_its_own(tmp_path, language, code, line):
    if "rllib" in code:
        pytest.importorskip("ray.rllib", reason='the block needs the [ray] extra: pip install -e ".[ray]"')
    env = {**os.environ, "PY": sys.executable, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    if language == "python":
        (tmp_path / "snippet.py").write_text(code)
        argv = [sys.executable, "snippet.py"]
    else:
        script = shell_for_test(code)
        if not script:
            pytest.skip("setup and test lines only: CI runs them (.ci/run)")
        (tmp_path / "snippet.sh").write_text("set -euo pipefail\n" + script + "\n")
        argv = ["bash", "snippet.sh"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"README.md line {line}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
