import argparse
import json

import pytest
import torch

from edge_envs.dnn import load_profile, profiler
from edge_envs.dnn.models import LayerChain, conv_unit
from edge_envs.dnn.profiler import format_table, measure
from tests.dnn.tiny import make_tiny_chain


def main(argv: list[str]) -> int:
    """``edge-envs profile ARGS``: the sub-command's own parser and ``run`` (as the CLI wires them)."""
    assert argv[0] == "profile"
    parser = argparse.ArgumentParser(prog="edge-envs profile")
    profiler.add_arguments(parser)
    return profiler.run(parser.parse_args(argv[1:]))


def test_profiler__conv_pool_fc_sizes_and_flops_equal_hand_computed(tiny_profile):
    conv, pool, fc = tiny_profile.layers
    # conv 3->4, 3x3, pad 1 on 8x8: 2 FLOPs per MAC x (4 out ch x 8 x 8 positions x 3 in ch x 9 taps)
    assert conv.flops == 2 * 4 * 8 * 8 * 3 * 9 == 13824
    assert conv.input_bytes == 3 * 8 * 8 * 4 and conv.output_bytes == 4 * 8 * 8 * 4
    assert conv.param_bytes == (4 * 3 * 9 + 4) * 4
    assert (pool.flops, pool.param_bytes, pool.output_bytes) == (0, 0, 4 * 4 * 4 * 4)
    assert fc.flops == 2 * 64 * 5 and fc.param_bytes == (64 * 5 + 5) * 4 and fc.output_bytes == 5 * 4


def test_profiler__batch_norm_running_statistics_count_in_param_bytes():
    chain = LayerChain("bn", (3, 4, 4), [("conv", "conv", conv_unit(3, 2, 1, bn=True, bias=False))])
    (layer,) = measure(chain, repeats=1, warmup=0).layers
    # weight 2x3 floats; BN weight, bias, running mean, running var (2 floats each); num_batches_tracked int64
    assert layer.param_bytes == 6 * 4 + 4 * 2 * 4 + 8


def test_profiler__smoke_profile_is_valid_and_records_its_conditions(tiny_profile):
    assert tiny_profile.batch_sizes == (1, 2)
    assert tiny_profile.device.kind == "cpu" and tiny_profile.device.threads == 1
    assert tiny_profile.device.torch_version == torch.__version__ and tiny_profile.device.dtype == "float32"
    for batch in (1, 2):
        assert tiny_profile.model_latency[batch].repeats == 3
        for layer in tiny_profile.layers:
            s = layer.latency[batch]
            assert s.repeats == 3 and 0 < s.p10_s <= s.median_s <= s.p90_s


def test_profiler__restores_thread_count():
    before = torch.get_num_threads()
    measure(make_tiny_chain(), repeats=1, warmup=0)
    assert torch.get_num_threads() == before


def test_profiler__rejects_bad_arguments():
    with pytest.raises(ValueError, match="device"):
        measure(make_tiny_chain(), device="tpu")
    with pytest.raises(ValueError, match="repeats"):
        measure(make_tiny_chain(), repeats=0)
    with pytest.raises(ValueError, match="batch_sizes"):
        measure(make_tiny_chain(), batch_sizes=(0,))


def test_profiler__table_lists_every_layer_and_the_ratio(tiny_profile):
    table = format_table(tiny_profile, batch=2)
    for name in ("conv", "pool", "fc", "whole model", "sum of layers / whole model"):
        assert name in table
    assert "batch 2, 3 repeats" in table


def test_profiler__cli_writes_a_valid_profile_and_prints_the_table(tmp_path, capsys):
    assert main(["profile", "--model", "alexnet", "--out", str(tmp_path), "--repeats", "2", "--warmup", "0"]) == 0
    profile = load_profile(tmp_path / "alexnet__cpu.json")
    assert profile.model == "alexnet" and profile.model_latency[1].repeats == 2
    out = capsys.readouterr().out
    assert "conv5" in out and "alexnet__cpu.json" in out
    main(["profile", "--model", "alexnet", "--out", str(tmp_path / "a.json"), "--repeats", "1", "--warmup", "0"])
    assert json.loads((tmp_path / "a.json").read_text())["model"] == "alexnet"


def test_profiler__cli_rejects_unknown_model(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["profile", "--model", "lenet", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "invalid choice: 'lenet'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_profiler__cli_rejects_bad_batch_sizes(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["profile", "--model", "nin", "--out", str(tmp_path), "--batch-sizes", "1,x"])
    assert "comma-separated positive integers" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_profiler__cli_cuda_without_gpu_fails_clearly(tmp_path, capsys):
    assert main(["profile", "--model", "nin", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "--device cuda: no CUDA device is visible" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_profiler__cli_show_prints_the_source(capsys):
    assert main(["profile", "--show", "gpu", "--model", "alexnet_224"]) == 0
    out = capsys.readouterr().out
    assert "source: imported from PipeDream" in out and "not published" in out and "fc8" in out
    assert main(["profile", "--show", "cpu", "--model", "nin"]) == 0
    assert "source: measured by this project (edge-envs profile) on" in capsys.readouterr().out


def test_profiler__cli_show_or_measure_without_what_it_needs_fails_clearly(tmp_path, capsys):
    assert main(["profile", "--show", "gpu", "--model", "resnet32"]) == 2
    assert "no GPU profile of resnet32" in capsys.readouterr().err
    assert main(["profile", "--show", "gpu"]) == 2
    assert "--show gpu needs --model" in capsys.readouterr().err
    assert main(["profile", "--show", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["profile", "--model", "nin"]) == 2
    assert "--model and --out are required" in capsys.readouterr().err


def test_profiler__float16_profile_halves_the_activation_bytes():
    profile = measure(make_tiny_chain(), "cpu", (1,), repeats=1, warmup=0, dtype="float16")
    assert profile.device.dtype == "float16" and profile.layers[0].input_bytes == 3 * 8 * 8 * 2
    with pytest.raises(ValueError, match="dtype"):
        measure(make_tiny_chain(), dtype="int8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_profiler__cuda_profile_of_tiny_chain_is_valid():
    profile = measure(make_tiny_chain(), "cuda", (1, 32), repeats=5, warmup=2)
    assert profile.device.kind == "cuda" and profile.batch_sizes == (1, 32)
    assert profile.layers[0].flops == 13824
