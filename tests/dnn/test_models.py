import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edge_envs.config import DNN_MODELS
from edge_envs.dnn import MODELS, build_model
from edge_envs.dnn.models import BasicBlock, state_bytes
from edge_envs.edge_partition import EdgePartitionConfig
from edge_envs.edge_upload.config import EdgeUploadConfig

# Published / hand-computed parameter counts (weights + biases + batch-norm affine):
# alexnet: 3*64*121+64 + 64*192*25+192 + 192*384*9+384 + 384*256*9+256 + 256*256*9+256 + 256*10+10
# vgg16:   sum over the 13 convs of 9*c_in*c_out + c_out (bias) + 2*c_out (BN), + 512*10+10
# nin:     3*192*25+192 + 192*160+160 + 160*96+96 + 96*192*25+192 + 2*(192*192+192) + 192*192*9+192
#          + 192*192+192 + 192*10+10
# resnet32: He et al. 2016 Table 6 reports 0.46M; the exact count with option-A shortcuts.
# alexnet_224 and vgg16_224: torchvision's alexnet() and vgg16() counts.
PARAMETER_COUNTS = {
    "alexnet": 2_472_266,
    "vgg16": 14_728_266,
    "nin": 966_986,
    "resnet32": 464_154,
    "alexnet_224": 61_100_840,
    "vgg16_224": 138_357_544,
}


def test_models__parameter_counts_match_published_values():
    for name in MODELS:
        model = build_model(name, device="meta")
        assert sum(p.numel() for p in model.parameters()) == PARAMETER_COUNTS[name], name


def test_models__vgg16_cifar_count_by_hand():
    widths = [
        (3, 64),
        (64, 64),
        (64, 128),
        (128, 128),
        (128, 256),
        (256, 256),
        (256, 256),
        (256, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
    ]
    expected = sum(9 * a * b + b + 2 * b for a, b in widths) + 512 * 10 + 10
    assert sum(p.numel() for p in build_model("vgg16", device="meta").parameters()) == expected


# Output shape (C, H, W) or (features,) after every unit, from the architectures' definitions.
OUTPUT_SHAPES = {
    "alexnet": [
        (64, 8, 8),
        (64, 4, 4),
        (192, 4, 4),
        (192, 2, 2),
        (384, 2, 2),
        (256, 2, 2),
        (256, 2, 2),
        (256, 1, 1),
        (10,),
    ],
    "vgg16": [(64, 32, 32)] * 2
    + [(64, 16, 16)]
    + [(128, 16, 16)] * 2
    + [(128, 8, 8)]
    + [(256, 8, 8)] * 3
    + [(256, 4, 4)]
    + [(512, 4, 4)] * 3
    + [(512, 2, 2)]
    + [(512, 2, 2)] * 3
    + [(512, 1, 1), (10,)],
    "nin": [
        (192, 32, 32),
        (160, 32, 32),
        (96, 32, 32),
        (96, 16, 16),
        (192, 16, 16),
        (192, 16, 16),
        (192, 16, 16),
        (192, 8, 8),
        (192, 8, 8),
        (192, 8, 8),
        (10, 8, 8),
        (10,),
    ],
    "resnet32": [(16, 32, 32)] * 6 + [(32, 16, 16)] * 5 + [(64, 8, 8)] * 5 + [(64,), (10,)],
    "alexnet_224": [
        (64, 55, 55),
        (64, 27, 27),
        (192, 27, 27),
        (192, 13, 13),
        (384, 13, 13),
        (256, 13, 13),
        (256, 13, 13),
        (256, 6, 6),
        (4096,),
        (4096,),
        (1000,),
    ],
    "vgg16_224": [(64, 224, 224)] * 2
    + [(64, 112, 112)]
    + [(128, 112, 112)] * 2
    + [(128, 56, 56)]
    + [(256, 56, 56)] * 3
    + [(256, 28, 28)]
    + [(512, 28, 28)] * 3
    + [(512, 14, 14)]
    + [(512, 14, 14)] * 3
    + [(512, 7, 7), (4096,), (4096,), (1000,)],
}


@pytest.mark.parametrize("name", MODELS)
def test_models__unit_output_shapes_match_architecture(name):
    model = build_model(name, device="meta")
    x = torch.empty(1, *model.input_shape, device="meta")
    shapes = []
    for _, module in model.layers:
        x = module(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == OUTPUT_SHAPES[name]


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "nin", "resnet32", "alexnet_224"])
def test_models__layers_in_sequence_reproduce_forward_exactly(name):
    model = build_model(name, seed=3)
    x = torch.randn(2, *model.input_shape, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = model(x)
        y = x
        for _, module in model.layers:
            y = module(y)
    assert torch.equal(y, expected)


def _reference_resnet32(model, x):
    """Straightforward functional ResNet-32 from the model's weights (He et al. 2016, option A)."""

    def bn(t, m):
        return F.batch_norm(t, m.running_mean, m.running_var, m.weight, m.bias, False, 0.0, m.eps)

    units = dict(model.layers)
    stem = units["conv1"]
    out = F.relu(bn(F.conv2d(x, stem[0].weight, padding=1), stem[1]))
    for stage in (1, 2, 3):
        for index in range(1, 6):
            block = units[f"res{stage}_{index}"]
            stride = 2 if (stage > 1 and index == 1) else 1
            branch = F.relu(bn(F.conv2d(out, block.conv1.weight, stride=stride, padding=1), block.bn1))
            branch = bn(F.conv2d(branch, block.conv2.weight, padding=1), block.bn2)
            shortcut = out
            if stride == 2:
                extra = branch.shape[1] - out.shape[1]
                shortcut = torch.cat(
                    [
                        torch.zeros_like(out[:, : extra // 2, ::2, ::2]),
                        out[:, :, ::2, ::2],
                        torch.zeros_like(out[:, : extra - extra // 2, ::2, ::2]),
                    ],
                    dim=1,
                )
            out = F.relu(branch + shortcut)
    return F.linear(out.mean(dim=(2, 3)), units["fc"][0].weight, units["fc"][0].bias)


def test_models__resnet32_matches_independent_functional_forward():
    model = build_model("resnet32", seed=1)
    with torch.no_grad():  # non-trivial batch-norm statistics, so the check sees them
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1, generator=torch.Generator().manual_seed(2))
                module.running_var.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(3))
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        torch.testing.assert_close(model(x), _reference_resnet32(model, x), rtol=1e-4, atol=1e-4)


def test_models__vgg16_matches_independent_functional_forward():
    model = build_model("vgg16", seed=5)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    out, k = x, 0
    with torch.inference_mode():
        for stage_size in (2, 2, 3, 3, 3):
            for _ in range(stage_size):
                out = F.conv2d(out, convs[k].weight, convs[k].bias, padding=1)
                out = F.relu(
                    F.batch_norm(
                        out, bns[k].running_mean, bns[k].running_var, bns[k].weight, bns[k].bias, False, 0.0, bns[k].eps
                    )
                )
                k += 1
            out = F.max_pool2d(out, 2)
        fc = dict(model.layers)["fc"][1]
        torch.testing.assert_close(model(x), F.linear(out.flatten(1), fc.weight, fc.bias), rtol=1e-5, atol=1e-5)


def test_models__option_a_shortcut_zero_pads_new_channels():
    block = BasicBlock(2, 4, stride=2)
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4)
    short = block.shortcut(x)
    assert short.shape == (1, 4, 2, 2)
    assert torch.equal(short[0, 0], torch.zeros(2, 2)) and torch.equal(short[0, 3], torch.zeros(2, 2))
    assert torch.equal(short[0, 1:3], x[0, :, ::2, ::2])


def test_models__same_seed_same_weights_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    a, b, c = build_model("nin", seed=7), build_model("nin", seed=7), build_model("nin", seed=8)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (name, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        assert torch.equal(pa, pb), name
        if name.endswith("weight") and pa.dim() > 1:
            assert not torch.equal(pa, pc), name


def test_models__meta_build_matches_real_structure():
    real, meta = build_model("resnet32"), build_model("resnet32", device="meta")
    assert [n for n, _ in real.layers] == [n for n, _ in meta.layers] and real.kinds == meta.kinds
    assert [state_bytes(m) for _, m in real.layers] == [state_bytes(m) for _, m in meta.layers]


def test_models__unknown_model_raises_naming_the_choices():
    with pytest.raises(ValueError, match="model: unknown model 'lenet'.*vgg16"):
        build_model("lenet")


def test_models__the_configs_check_names_against_the_one_list():
    assert MODELS is DNN_MODELS  # edge_envs.dnn re-exports the list the configs read (without torch)
    for name in DNN_MODELS:
        assert EdgePartitionConfig(model=name).model == EdgeUploadConfig(model=name).model == name
    for config in (EdgePartitionConfig, EdgeUploadConfig):
        with pytest.raises(ValueError, match=r"model must be one of \('alexnet', 'vgg16'"):
            config(model="lenet")
