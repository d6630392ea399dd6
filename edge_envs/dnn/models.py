"""The DNN models of the suite, written as ordered chains of named layer units.

A model is a :class:`LayerChain`: a list of ``(name, module)`` units run one after the other, so it
can be cut at any unit boundary (fine-grained partitioning) or grouped into M consecutive blocks.

What one unit is (the choice that sets where a model can be cut):
- a convolution together with its batch norm and ReLU (``conv``): cutting between a conv and its
  activation never pays, since both run where the conv runs and the feature map has the same size;
- a pooling layer (``pool``): its own unit, because cutting right after a pooling layer sends the
  smallest feature maps, the classic partition point;
- a fully connected layer with its ReLU (``linear``); a flatten, a view costing nothing, joins the
  first fully connected layer;
- a residual basic block, shortcut included (``residual``, or ``residual_down`` where it halves the
  feature map): ResNet32 is a chain of its blocks.
Dropout is left out: the chains are for inference, where dropout is the identity. For the same
reason the 224x224 models omit torchvision's adaptive average pool (the identity at 224x224).

Models (input 3x32x32 CIFAR-10, 10 classes, unless noted):
- ``alexnet``: the CIFAR-10 AlexNet of the pytorch-classification code base (5 convs, 1 fc; 2,472,266 parameters).
- ``vgg16``: VGG16 with batch norm for CIFAR-10, the widely used pytorch-cifar layout (conv biases kept
  before batch norm; 13 convs, 1 fc; 14,728,266 parameters).
- ``nin``: Network in Network for CIFAR-10 (Lin et al. 2014; 9 convs, 966,986 parameters).
- ``resnet32``: ResNet-32 for CIFAR-10 (He et al. 2016, option A zero-padding shortcuts; 464,154 parameters).
- ``alexnet_224``, ``vgg16_224``: AlexNet and VGG16 for 3x224x224 ImageNet input (1000 classes),
  torchvision's layouts (61,100,840 and 138,357,544 parameters).

Weights are random (latency does not depend on their values), drawn from a ``torch.Generator``
seeded by ``build_model(name, seed=...)``: the same seed gives the same weights, and building a model
leaves torch's global random state untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from edge_envs.config import DNN_MODELS

MODELS = DNN_MODELS  # the one list of names (edge_envs.config, which the configs read without torch)

# Unit kinds. group_blocks(method="pooling") cuts after a "pool" unit and before a "residual_down" one.
KINDS = ("conv", "pool", "linear", "residual", "residual_down")


class LayerChain(nn.Module):
    """A model as an ordered list of named units; ``forward`` runs them in order."""

    def __init__(self, name: str, input_shape: tuple[int, int, int], layers: list[tuple[str, str, nn.Module]]):
        super().__init__()
        self.name = name
        self.input_shape = tuple(input_shape)
        self.units = nn.ModuleDict((unit_name, module) for unit_name, _, module in layers)
        self.kinds = tuple(kind for _, kind, _ in layers)
        if len(self.units) != len(layers):
            raise ValueError(f"{name}: layer names must be unique")
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"{name}: unknown layer kinds {sorted(unknown)}; allowed {KINDS}")

    @property
    def layers(self) -> list[tuple[str, nn.Module]]:
        """The units as ``(name, module)`` pairs, in execution order."""
        return list(self.units.items())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.units.values():
            x = module(x)
        return x


def conv_unit(
    c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0, bn: bool = False, bias: bool = True
) -> nn.Module:
    """Convolution (+ batch norm) + ReLU: one partitioning unit."""
    parts: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias)]
    if bn:
        parts.append(nn.BatchNorm2d(c_out))
    parts.append(nn.ReLU(inplace=True))
    return nn.Sequential(*parts)


def linear_unit(n_in: int, n_out: int, relu: bool, flatten: bool = False) -> nn.Module:
    """(Flatten +) fully connected (+ ReLU): one partitioning unit."""
    parts: list[nn.Module] = [nn.Flatten()] if flatten else []
    parts.append(nn.Linear(n_in, n_out))
    if relu:
        parts.append(nn.ReLU(inplace=True))
    return nn.Sequential(*parts)


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv+BN, identity shortcut; option A (He et al. 2016, Sec. 4.2)
    where the block downsamples: the shortcut subsamples by 2 and zero-pads the new channels."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.stride = stride
        self.pad_channels = c_out - c_in

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1 and self.pad_channels == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        half = self.pad_channels // 2
        return F.pad(x, (0, 0, 0, 0, half, self.pad_channels - half))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def _alexnet_features(conv1_padding: int, pool: Callable[[], nn.Module]) -> list[tuple[str, str, nn.Module]]:
    """AlexNet's five convolutions and three pooling layers; the CIFAR-10 and ImageNet variants differ in
    the first convolution's padding and the pooling window."""
    return [
        ("conv1", "conv", conv_unit(3, 64, 11, stride=4, padding=conv1_padding)),
        ("pool1", "pool", pool()),
        ("conv2", "conv", conv_unit(64, 192, 5, padding=2)),
        ("pool2", "pool", pool()),
        ("conv3", "conv", conv_unit(192, 384, 3, padding=1)),
        ("conv4", "conv", conv_unit(384, 256, 3, padding=1)),
        ("conv5", "conv", conv_unit(256, 256, 3, padding=1)),
        ("pool5", "pool", pool()),
    ]


def _alexnet_cifar() -> LayerChain:
    return LayerChain(
        "alexnet",
        (3, 32, 32),
        _alexnet_features(5, lambda: nn.MaxPool2d(2, 2))
        + [("fc", "linear", linear_unit(256, 10, relu=False, flatten=True))],
    )


_VGG16_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _vgg16_features(bn: bool) -> list[tuple[str, str, nn.Module]]:
    layers, c_in = [], 3
    for stage, widths in enumerate(_VGG16_STAGES, start=1):
        for index, c_out in enumerate(widths, start=1):
            layers.append((f"conv{stage}_{index}", "conv", conv_unit(c_in, c_out, 3, padding=1, bn=bn)))
            c_in = c_out
        layers.append((f"pool{stage}", "pool", nn.MaxPool2d(2, 2)))
    return layers


def _vgg16_cifar() -> LayerChain:
    return LayerChain(
        "vgg16",
        (3, 32, 32),
        _vgg16_features(bn=True)
        + [
            ("fc", "linear", linear_unit(512, 10, relu=False, flatten=True)),
        ],
    )


def _nin_cifar() -> LayerChain:
    # Caffe model-zoo names: convN are the spatial convolutions, cccpN the 1x1 "mlpconv" layers.
    return LayerChain(
        "nin",
        (3, 32, 32),
        [
            ("conv1", "conv", conv_unit(3, 192, 5, padding=2)),
            ("cccp1", "conv", conv_unit(192, 160, 1)),
            ("cccp2", "conv", conv_unit(160, 96, 1)),
            ("pool1", "pool", nn.MaxPool2d(3, 2, padding=1)),
            ("conv2", "conv", conv_unit(96, 192, 5, padding=2)),
            ("cccp3", "conv", conv_unit(192, 192, 1)),
            ("cccp4", "conv", conv_unit(192, 192, 1)),
            ("pool2", "pool", nn.AvgPool2d(3, 2, padding=1)),
            ("conv3", "conv", conv_unit(192, 192, 3, padding=1)),
            ("cccp5", "conv", conv_unit(192, 192, 1)),
            ("cccp6", "conv", conv_unit(192, 10, 1)),
            ("pool3", "pool", nn.Sequential(nn.AvgPool2d(8), nn.Flatten())),
        ],
    )


def _resnet32_cifar() -> LayerChain:
    layers = [("conv1", "conv", conv_unit(3, 16, 3, padding=1, bn=True, bias=False))]
    c_in = 16
    for stage, width in enumerate((16, 32, 64), start=1):
        for index in range(1, 6):
            stride = 2 if (index == 1 and stage > 1) else 1
            kind = "residual_down" if stride == 2 else "residual"
            layers.append((f"res{stage}_{index}", kind, BasicBlock(c_in, width, stride)))
            c_in = width
    layers.append(("pool", "pool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())))
    layers.append(("fc", "linear", nn.Sequential(nn.Linear(64, 10))))
    return LayerChain("resnet32", (3, 32, 32), layers)


def _alexnet_224() -> LayerChain:
    return LayerChain(
        "alexnet_224",
        (3, 224, 224),
        _alexnet_features(2, lambda: nn.MaxPool2d(3, 2))
        + [
            ("fc6", "linear", linear_unit(256 * 6 * 6, 4096, relu=True, flatten=True)),
            ("fc7", "linear", linear_unit(4096, 4096, relu=True)),
            ("fc8", "linear", linear_unit(4096, 1000, relu=False)),
        ],
    )


def _vgg16_224() -> LayerChain:
    return LayerChain(
        "vgg16_224",
        (3, 224, 224),
        _vgg16_features(bn=False)
        + [
            ("fc6", "linear", linear_unit(512 * 7 * 7, 4096, relu=True, flatten=True)),
            ("fc7", "linear", linear_unit(4096, 4096, relu=True)),
            ("fc8", "linear", linear_unit(4096, 1000, relu=False)),
        ],
    )


_BUILDERS: dict[str, Callable[[], LayerChain]] = {
    "alexnet": _alexnet_cifar,
    "vgg16": _vgg16_cifar,
    "nin": _nin_cifar,
    "resnet32": _resnet32_cifar,
    "alexnet_224": _alexnet_224,
    "vgg16_224": _vgg16_224,
}


def state_bytes(module: nn.Module) -> int:
    """Bytes of a module's parameters and buffers (e.g. batch-norm running statistics): what must be
    shipped to a machine for it to run the module."""
    tensors = list(module.parameters()) + list(module.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def init_weights(model: nn.Module, generator: torch.Generator) -> None:
    """torchvision-style init from ``generator``: Kaiming-normal convs (fan-out), N(0, 0.01) linears,
    zero biases, unit batch-norm scale."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01, generator=generator)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
        else:
            continue
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def build_model(name: str, seed: int = 0, device: str | torch.device = "cpu") -> LayerChain:
    """Build model ``name`` (one of ``MODELS``) in eval mode, weights drawn from ``seed``, on ``device``.

    ``device="meta"`` builds the structure only, without weights (names, kinds, parameter sizes).
    """
    if name not in _BUILDERS:
        raise ValueError(f"model: unknown model {name!r}; allowed: {', '.join(MODELS)}")
    device = torch.device(device)
    if device.type == "meta":
        with torch.device("meta"):
            return _BUILDERS[name]().eval()
    # Module constructors draw a default init from the global generator; fork it so building a model
    # leaves the caller's random state alone (init_weights then overwrites those draws).
    with torch.random.fork_rng(devices=[]):
        model = _BUILDERS[name]()
    init_weights(model, torch.Generator().manual_seed(seed))
    return model.to(device).eval()
