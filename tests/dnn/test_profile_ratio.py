from benchmarks.profile_ratio import main, ratio_rows
from edge_envs.dnn import save_profile, shipped_profile


def test_profile_ratio__reports_sum_of_layers_over_whole_model(tiny_profile, tmp_path, capsys):
    save_profile(tiny_profile, tmp_path / "tiny__cpu.json")
    rows = ratio_rows(tmp_path)
    assert [(r.file, r.batch, r.source) for r in rows] == [
        ("tiny__cpu.json", 1, "measured"),
        ("tiny__cpu.json", 2, "measured"),
    ]
    for row in rows:
        assert row.layers_s == sum(layer.latency[row.batch].median_s for layer in tiny_profile.layers)
        assert row.whole_s == tiny_profile.model_latency[row.batch].median_s
        assert row.ratio == row.layers_s / row.whole_s
    assert main(["--dir", str(tmp_path)]) == 0
    assert "tiny__cpu.json" in capsys.readouterr().out


def test_profile_ratio__imported_profile_without_whole_model_time_has_no_ratio(tmp_path, capsys):
    profile = shipped_profile("alexnet_224", "gpu")
    save_profile(profile, tmp_path / "alexnet_224__gpu.json")
    (row,) = ratio_rows(tmp_path)
    assert (row.source, row.batch, row.whole_s, row.ratio) == ("imported", 256, None, None)
    assert row.layers_s == float(profile.layer_latency(256).sum())
    assert main(["--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "not published" in out and "no whole-model time" in out and "0.1750" in out


def test_profile_ratio__empty_folder_fails(tmp_path, capsys):
    assert main(["--dir", str(tmp_path)]) == 1
    assert "no profiles" in capsys.readouterr().err
