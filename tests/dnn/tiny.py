"""A tiny chain small enough to check by hand."""

from torch import nn

from edge_envs.dnn.models import LayerChain, conv_unit, linear_unit


def make_tiny_chain() -> LayerChain:
    """3x8x8 input: conv 3->4 (3x3, pad 1) + ReLU, 2x2 max pool, fc 64->5."""
    return LayerChain(
        "tiny",
        (3, 8, 8),
        [
            ("conv", "conv", conv_unit(3, 4, 3, padding=1)),
            ("pool", "pool", nn.MaxPool2d(2, 2)),
            ("fc", "linear", linear_unit(4 * 4 * 4, 5, relu=False, flatten=True)),
        ],
    )
