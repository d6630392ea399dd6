"""benchmarks.marl: its tables and target lines from hand-made runs, and a smoke of the whole command."""

import numpy as np
import pytest

from benchmarks import marl


def _run(algo, seed, returns, scenario="edge_partition_multi_v0/default", accuracy=None, decision_s=0.001):
    episodes = [
        {"return": r, "metrics": {} if accuracy is None else {"test_acc": accuracy}, "decision_s": decision_s}
        for r in returns
    ]
    return {"scenario": scenario, "algo": algo, "seed": seed, "steps": 10, "train_s": 1.0, "episodes": episodes}


def test_marl_table__iqm_per_agent_over_seeds_and_the_targets_against_the_leaderboards_search():
    runs = [_run("mappo", 1, [-30.0, -20.0]), _run("mappo", 2, [-10.0, -1000.0]), _run("ippo", 1, [-40.0] * 4)]
    lines, summary = marl._table("edge_partition_multi_v0/default", runs)
    assert summary["mappo"][0] == pytest.approx(-25.0)  # IQM of -1000, -30, -20, -10: the middle two
    assert summary["ippo"][0] == -40.0 and summary["mappo"][2] == 0.001
    assert any(line.startswith("| mappo (10 steps x 2 seeds) | -25 [") for line in lines)
    assert "ga" in summary and "pso" in summary  # read from the committed leaderboard results
    targets = "\n".join(marl._targets("edge_partition_multi_v0/default", summary))
    assert "MAPPO - IPPO: +15 return" in targets
    ga_ms = 1e3 * summary["ga"][2]
    assert f"Decision time: 1 ms vs GA {ga_ms:.3g} ms ({summary['ga'][2] / 0.001:.0f}x less" in targets
    assert ("beats it" if -25.0 > summary["ga"][0] else "misses it") in targets


def test_marl_targets__accuracy_against_spaa_on_multiserver_fl():
    summary = {"mappo": (1.0, 0.9, 0.001), "ippo": (0.5, 0.8, 0.001), "spaa": (0.7, 0.85, 0.01)}
    lines = marl._targets("multiserver_fl_v0/faulty", summary)
    assert "- Best learned (mappo) test accuracy 0.9000 vs SPAA 0.8500: reaches it (+0.0500)." in lines


@pytest.mark.slow
def test_marl_command__smoke_writes_its_table(tmp_path):
    out = tmp_path / "marl.md"
    argv = ["--scenario", "edge_partition_multi_v0/default", "--algo", "mappo", "--seeds", "1", "2",
            "--steps-scale", "0.02", "--jobs", "1", "--out", str(out)]  # fmt: skip
    assert marl.main(argv) == 0
    text = out.read_text()
    assert "| mappo (" in text and "x 2 seeds)" in text and "ga (leaderboard)" in text and "Command:" in text
    assert np.isfinite(float(text.split("| mappo (")[1].split("|")[1].split("[")[0]))


def test_marl_targets__gas_decision_time_timed_beside_the_agents_and_the_warm_start_rows():
    runs = [
        {**_run("mappo", 1, [-30.0] * 2), "labelled": 600, "ga_decision_s": 0.04},
        {**_run("mappo warm start", 1, [-50.0] * 2), "labelled": 600, "ga_decision_s": 0.02},
    ]
    lines, summary = marl._table("edge_partition_multi_v0/default", runs)
    assert any(line.startswith("| mappo warm start (10 steps + 600 labelled x 1 seeds) | -50 [") for line in lines)
    targets = marl._targets("edge_partition_multi_v0/default", summary)
    assert any("GA timed beside the agents (10 decisions per run): 30 ms, 30x the best learned" in t for t in targets)
