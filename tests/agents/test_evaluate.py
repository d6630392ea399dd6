"""``edge-envs evaluate``'s default comparison: the env's strongest baselines and its references."""

import numpy as np
import pytest

import baselines
from agents.envs import Episode
from agents.evaluate import baseline_names, compare, format_table, gap_percent, reference_rows
from agents.train import make_options, train
from edge_envs_cli import main

SMALL = {"episode_slots": 6, "num_blocks": 3, "num_servers": 2}


@pytest.mark.slow
def test_strongest__edge_partition_names_its_exact_and_search_baselines_and_the_multi_env_drops_exact_slot():
    assert baseline_names("strongest", "EdgePartition-v0") == ["exact-slot", "local-search", "ga", "pso", "greedy"]
    assert baseline_names("strongest", "edge_partition_multi_v0") == ["local-search", "ga", "pso", "greedy"]
    for env_id in ("ServiceMigration-v0", "EdgeUpload-v0", "multiserver_fl_v0"):
        strongest = baseline_names("strongest", env_id)
        assert strongest and set(strongest) <= set(baselines.available(env_id))


def test_references__come_from_the_envs_module_and_the_multi_env_has_none():
    assert list(baselines.references("EdgePartition-v0")) == ["return-bound", "lagrangian-bound"]
    assert list(baselines.references("EdgeUpload-v0")) == ["exact-order"]
    assert baselines.references("edge_partition_multi_v0") == {}
    assert baselines.references("multiserver_fl_v0") == {}
    with pytest.raises(ValueError, match="no baselines for env id 'Nope-v0'; known ids"):
        baselines.references("Nope-v0")


def test_gap_percent__is_the_extra_cost_in_percent_of_the_reference():
    assert gap_percent(-10.0, -8.0) == pytest.approx(25.0)  # costs 10 against 8
    assert gap_percent(3.0, 4.0) == pytest.approx(25.0)  # a reward 1 below 4
    assert gap_percent(-8.0, -8.0) == 0.0
    assert np.isnan(gap_percent(-1.0, 0.0))


def test_format_table__shows_each_rows_gap_to_the_named_reference():
    rows = {"agent": [Episode(-10.0, 5), Episode(-12.0, 5)], "bound (reference)": [Episode(-8.0, 0), Episode(-8.0, 0)]}
    table = format_table(rows, "bound (reference)")
    assert "gap to bound (reference)" in table.splitlines()[0]
    assert "| agent | 2 | -11 ± 13 | +37.50% |" in table  # (11 - 8) / 8
    assert "| bound (reference) | 2 | -8 ± 0 | +0.00% |" in table


@pytest.mark.slow
def test_reference_rows__the_bound_is_at_least_every_baselines_return_episode_by_episode():
    class FirstServer:  # reads the observation only, as an agent does
        def act(self, observation, info):
            return np.ones(3, dtype=np.int64)

    rows = compare(FirstServer(), "EdgePartition-v0", SMALL, 3, 7, ["exact-slot", "ga"])
    assert list(rows) == ["agent", "exact-slot", "ga", "return-bound (reference)", "lagrangian-bound (reference)"]
    bound = [e.episode_return for e in rows["return-bound (reference)"]]
    again = reference_rows("EdgePartition-v0", SMALL, 3, 7)["return-bound (reference)"]
    assert bound == [e.episode_return for e in again]
    for name in ("agent", "exact-slot", "ga"):
        assert all(b >= e.episode_return - 1e-9 for b, e in zip(bound, rows[name]))


@pytest.mark.slow
def test_evaluate_command__by_default_compares_with_the_strongest_baselines_and_the_bound(tmp_path, capsys):
    options = make_options("mtl-a3c", "EdgePartition-v0", {"workers": 1, "rollout_steps": 8})
    run = train("EdgePartition-v0", "mtl-a3c", 16, 1, tmp_path, SMALL, options, progress=False)
    argv = ["evaluate", "--checkpoint", str(run.checkpoint), "--env", "EdgePartition-v0", "--episodes", "2"]
    assert main([*argv, "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "gap to return-bound (reference)" in lines[0]
    shown = [line.split("|")[1].strip() for line in lines[2:]]
    assert shown[:7] == [
        f"mtl-a3c ({run.steps} steps)",
        "exact-slot",
        "local-search",
        "ga",
        "pso",
        "greedy",
        "return-bound (reference)",
    ]
    assert shown[7:] == ["lagrangian-bound (reference)"]


def test_evaluate_command__latest_and_run_pick_a_run_when_one_seed_has_two(tmp_path, capsys):
    options = make_options("mtl-a3c", "EdgePartition-v0", {"workers": 1, "rollout_steps": 8})
    first = train("EdgePartition-v0", "mtl-a3c", 16, 1, tmp_path, SMALL, options, progress=False)
    second = train("EdgePartition-v0", "mtl-a3c", 32, 1, tmp_path, SMALL, options, progress=False)
    assert first.run_dir != second.run_dir  # two runs of seed 1
    common = ["--env", "EdgePartition-v0", "--episodes", "1", "--baselines", "", "--no-progress"]

    def agent_row(*which):
        assert main(["evaluate", *which, *common]) == 0
        return capsys.readouterr().out.splitlines()[2].split("|")[1].strip()

    assert agent_row("--latest", str(tmp_path)) == f"mtl-a3c ({second.steps} steps)"
    assert agent_row("--run", str(first.run_dir)) == f"mtl-a3c ({first.steps} steps)"
    assert main(["evaluate", "--run", str(tmp_path), *common]) == 2  # a folder without checkpoint.pt
    assert "holds no checkpoint.pt" in capsys.readouterr().err
    assert main(["evaluate", "--latest", str(tmp_path / "none"), *common]) == 2
    assert "no run EdgePartition-v0__*" in capsys.readouterr().err
