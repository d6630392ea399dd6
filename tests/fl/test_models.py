import math

import torch

from edge_envs.fl import SplitNet, evaluate, weighted_cross_entropy


def test_split_net__same_generator_seed_same_weights():
    a = SplitNet([5, 3], [4, 2], 6, 10, torch.Generator().manual_seed(3))
    b = SplitNet([5, 3], [4, 2], 6, 10, torch.Generator().manual_seed(3))
    c = SplitNet([5, 3], [4, 2], 6, 10, torch.Generator().manual_seed(4))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_split_net__towers_feed_the_fusion():
    net = SplitNet([5, 3], [4, 2], 6, 10, torch.Generator().manual_seed(0))
    views = [torch.randn(7, 5), torch.randn(7, 3)]
    assert [e.shape for e in net.embeddings(views)] == [(7, 4), (7, 2)]
    assert net(views).shape == (7, 10)
    loss, accuracy = evaluate(net, views, torch.zeros(7, dtype=torch.long))
    assert 0.5 * math.log(10) < loss < 2 * math.log(10) and 0.0 <= accuracy <= 1.0


def test_weighted_cross_entropy__unit_weights_give_the_mean_and_counts_repeat():
    logits, labels = torch.randn(4, 3), torch.tensor([0, 2, 1, 1])
    per = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    assert torch.isclose(weighted_cross_entropy(logits, labels, torch.ones(4)), per.mean())
    assert torch.isclose(
        weighted_cross_entropy(logits, labels, torch.tensor([2.0, 1, 1, 0])), (2 * per[0] + per[1] + per[2]) / 4
    )
