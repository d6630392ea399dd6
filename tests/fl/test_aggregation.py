import pytest
import torch

from edge_envs.fl import weighted_average


def test_weighted_average__hand_computed():
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor(0.0)}
    b = {"w": torch.tensor([3.0, 6.0]), "b": torch.tensor(4.0)}
    out = weighted_average([a, b], [1, 3])  # 1/4 a + 3/4 b
    torch.testing.assert_close(out["w"], torch.tensor([2.5, 5.0]))
    torch.testing.assert_close(out["b"], torch.tensor(3.0))
    assert out["w"].dtype == torch.float32


@pytest.mark.parametrize(
    "dicts, weights, match",
    [
        ([], [], "one weight"),
        ([{"w": torch.ones(1)}], [1, 2], "one weight"),
        ([{"w": torch.ones(1)}, {"w": torch.ones(1)}], [0, 0], "not all zero"),
        ([{"w": torch.ones(1)}, {"v": torch.ones(1)}], [1, 1], "same keys"),
    ],
)
def test_weighted_average__bad_input_raises(dicts, weights, match):
    with pytest.raises(ValueError, match=match):
        weighted_average(dicts, weights)
