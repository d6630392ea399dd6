"""Smoke version of benchmarks/baselines_edge_partition.py and its statistics."""

import math

import numpy as np
import pytest

from benchmarks import baselines_edge_partition as bench


def test_t_quantile__matches_printed_t_tables():
    assert bench.t_quantile_975(1) == pytest.approx(12.706, abs=1e-3)  # printed t tables
    assert bench.t_quantile_975(30) == pytest.approx(2.042, abs=1e-3)
    assert bench.t_quantile_975(40) == pytest.approx(2.021, abs=1e-3)
    assert bench.t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
    with pytest.raises(ValueError, match="df"):
        bench.t_quantile_975(0)


def test_mean_ci95__hand_computed():
    # mean 2, sample sd 1, n 3: half-width t_{0.975,2} / sqrt(3) = 4.303 / 1.7321
    mean, half = bench.mean_ci95([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3.0), rel=1e-4)
    assert bench.mean_ci95([5.0]) == (5.0, 0.0)


@pytest.mark.parametrize("scenario", ["contention-free", "bursty"])
def test_benchmark__no_baseline_beats_the_bound_and_the_exact_ones_meet_it_without_contention(scenario):
    names = [
        "all-local",
        "apdi",
        "best-single-server",
        "chain-dp",
        "exact-slot",
        "ga",
        "greedy",
        "local-search",
        "pso",
        "random",
    ]
    rows = bench.run([scenario], names, episodes=2, slots=3, seed=0, log=lambda line: None)[scenario]
    assert rows[bench.TIGHTEST][2] == 0.0 and rows[bench.BOUND][2] >= 0.0 and rows["lagrangian-bound"][2] >= 0.0
    for name, (mean, ci, gap, per_decision, proved) in rows.items():
        assert (proved == 1.0) if name == "exact-slot" else np.isnan(proved), name  # small slots: always proved
        assert np.isfinite([mean, ci, gap]).all(), name
        assert gap >= -1e-9, (name, gap)
    if scenario == "contention-free":  # no queues: the empty-queue slot optimum is every slot's optimum
        assert rows["exact-slot"][2] == pytest.approx(0.0, abs=1e-9)
        assert rows["chain-dp"][2] == pytest.approx(0.0, abs=1e-9)
    assert rows["all-local"][2] > 0.0


def test_benchmark__main_prints_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "results" / "table.md"
    code = bench.main(
        [
            "--episodes",
            "2",
            "--slots",
            "2",
            "--scenarios",
            "vgg16-M6-N4-lambda60",
            "--policies",
            "exact-slot",
            "greedy",
            "--timing-slots",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = out.read_text()
    assert text.strip() == capsys.readouterr().out.strip()
    assert "## vgg16-M6-N4-lambda60" in text and "| exact-slot |" in text and "| greedy |" in text
    assert "| bound |" in text and "+0.00%" in text
    assert "| proved optimal |" in text and "| 100.0% |" in text  # exact-slot's share, in both tables
    assert "| resnet32 | 12 | 9 | 1,000,000,000,000 | not run |" in text
    assert "| scenario | myopic headroom | kind | slots coupled by |" in text
    assert "| vgg16-M6-N4-lambda60 | +0.00% | per-slot | - |" in text  # two slots from empty queues
    assert [p.name for p in out.parent.iterdir()] == ["table.md"]  # no temporary file left behind
    assert out.stat().st_mode & 0o777 == 0o644


def test_benchmark__names_the_options_the_policies_were_built_with():
    row = (-1.0, 0.1, 0.0, 1e-3, float("nan"))
    assert bench.options_note({"bursty": {"exact-slot": row}}) == ""  # rollout not run
    note = bench.options_note({"bursty": {"rollout": row}, "energy": {"rollout": row}})
    assert note == " Options other than the defaults: rollout in bursty: {'candidates': 8, 'samples': 8}."


def test_benchmark__rejects_unknown_policies_and_too_few_episodes(tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--policies", "no-such-policy", "--out", str(tmp_path / "t.md")])
    with pytest.raises(SystemExit):
        bench.main(["--episodes", "1", "--out", str(tmp_path / "t.md")])


def test_benchmark__headroom_classifies_per_slot_and_foresight_scenarios():
    per_slot = {"exact-slot": (-10.05, 0.1, 0.5, 1e-3, 1.0)}
    coupled = {"exact-slot": (-15.0, 0.1, 50.0, 1e-3, 1.0)}
    assert bench.headroom(per_slot) == 0.5 and bench.kind("x", per_slot) == "per-slot"
    assert bench.kind("x", coupled) == "foresight"
    assert set(bench.FORESIGHT) <= set(bench.SCENARIOS) and len(bench.FORESIGHT) >= 3
