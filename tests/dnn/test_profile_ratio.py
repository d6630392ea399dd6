from benchmarks.profile_ratio import main, ratio_rows
from edge_envs.dnn import save_profile


def test_profile_ratio__reports_sum_of_layers_over_whole_model(tiny_profile, tmp_path, capsys):
    save_profile(tiny_profile, tmp_path / "tiny__cpu.json")
    rows = ratio_rows(tmp_path)
    assert [(r[0], r[2]) for r in rows] == [("tiny__cpu.json", 1), ("tiny__cpu.json", 2)]
    for _, _, batch, layers, whole, ratio in rows:
        assert layers == sum(layer.latency[batch].median_s for layer in tiny_profile.layers)
        assert whole == tiny_profile.model_latency[batch].median_s and ratio == layers / whole
    assert main(["--dir", str(tmp_path)]) == 0
    assert "tiny__cpu.json" in capsys.readouterr().out


def test_profile_ratio__empty_folder_fails(tmp_path, capsys):
    assert main(["--dir", str(tmp_path)]) == 1
    assert "no profiles" in capsys.readouterr().err
