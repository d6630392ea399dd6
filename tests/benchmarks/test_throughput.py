"""The all-env throughput benchmark, at a tiny size."""

from benchmarks import throughput


def test_throughput__tiny_run_reports_every_env_against_cartpole(tmp_path):
    out = tmp_path / "throughput.md"
    argv = ["--steps", "40", "--num-envs", "4", "--vector-steps", "3", "--multi-steps", "5", "--rounds", "1"]
    argv += ["--fl-vehicles", "3", "--fl-seconds", "0.05", "--out", str(out)]
    assert throughput.main(argv) == 0
    text = out.read_text()
    for label, *_ in throughput.SINGLE_ENVS:
        assert f"| {label} |" in text
    assert "| EdgePartition-v0 vector x4 (1 thread), env-steps/s |" in text
    assert "| EdgeUpload-v0 vector x4, env-steps/s |" in text  # the other vector entry points have rows too
    assert text.count("x met") + text.count("MISSED by") == len(throughput.SINGLE_ENVS) + 1  # every target judged
    assert "| speed-up |" in text and "Command: `python -m benchmarks.throughput" in text


def test_verdict__says_by_how_much_a_target_is_missed():
    assert throughput.verdict(0.25, 0.5) == "0.5x MISSED by 2.0x"
    assert throughput.verdict(0.5, 0.5) == "0.5x met"
    assert throughput.verdict(3.0, None) == ""
