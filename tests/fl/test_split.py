import copy

import pytest
import torch
from torch.nn import functional as F

from edge_envs.fl import SplitNet, split_round
from edge_envs.fl.split import drawn_rows, epoch_batches


def _problem(seed=0, n=40):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randn(n, 5, generator=g), torch.randn(n, 3, generator=g)]
    labels = (views[0][:, 0] + views[1][:, 1] > 0).long()
    net = SplitNet([5, 3], [4, 2], hidden=6, n_classes=2, generator=g)
    return net, views, labels


def _step(params, loss, lr):
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, gr in zip(params, grads):
            p.sub_(lr * gr)


def test_split_round__edges_use_stale_embeddings_and_round_start_fusion():
    """Eqs. (8)-(11): two local steps on tower 0 with tower 1's embedding and the fusion model held at
    their round-start values; the server's two steps use the round-start embeddings of both towers."""
    net, views, labels = _problem()
    weights = torch.ones(len(labels), dtype=torch.int64)
    expected = copy.deepcopy(net)
    with torch.no_grad():
        stale = [t(x) for t, x in zip(net.towers, views)]
    fusion0 = copy.deepcopy(net.fusion)
    tower0 = expected.towers[0]
    for _ in range(2):
        logits = fusion0(torch.cat([tower0(views[0]), stale[1]], dim=1))
        _step(list(tower0.parameters()), F.cross_entropy(logits, labels), 0.1)
    for _ in range(2):
        _step(list(expected.fusion.parameters()), F.cross_entropy(expected.fusion(torch.cat(stale, 1)), labels), 0.1)
    split_round(net, views, labels, weights, epochs=2, lr=0.1)
    for name, p in expected.towers[0].state_dict().items():
        torch.testing.assert_close(net.towers[0].state_dict()[name], p)
    for name, p in expected.fusion.state_dict().items():
        torch.testing.assert_close(net.fusion.state_dict()[name], p)


def test_split_round__a_sample_drawn_twice_counts_twice():
    net, views, labels = _problem()
    twin = copy.deepcopy(net)
    weights = torch.tensor([2] + [1] * 19 + [0] * 20)
    split_round(net, views, labels, weights, epochs=3, lr=0.2)
    rows = [0, 0] + list(range(1, 20))
    split_round(twin, [v[rows] for v in views], labels[rows], torch.ones(len(rows), dtype=torch.int64), 3, 0.2)
    for a, b in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.numerics
def test_split_round__training_loss_falls():
    net, views, labels = _problem(n=200)
    weights = torch.ones(200, dtype=torch.int64)
    before = F.cross_entropy(net(views), labels).item()
    for _ in range(30):
        split_round(net, views, labels, weights, epochs=5, lr=0.3)
    assert F.cross_entropy(net(views), labels).item() < 0.5 * before


@pytest.mark.parametrize("weights", [torch.zeros(4), torch.tensor([1, -1, 0, 2]), torch.ones(2, 2)])
def test_drawn_rows__rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="weights"):
        drawn_rows(weights)


def test_epoch_batches__every_draw_once_per_epoch_in_batches_of_the_size():
    w = torch.tensor([2.0, 1.0, 3.0])
    batches = epoch_batches(w, epochs=2, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert len(batches) == 2 and [len(b) for b in batches[0]] == [4, 2]
    for epoch in batches:
        assert torch.bincount(torch.cat(epoch), minlength=3).tolist() == [2, 1, 3]
    with pytest.raises(ValueError, match="batch_size"):
        epoch_batches(w, 1, 0, torch.Generator())


def test_split_round__one_minibatch_holding_every_draw_equals_the_full_batch_step():
    net, views, labels = _problem()
    weights = torch.randint(0, 3, (len(labels),))
    full, mini = copy.deepcopy(net), copy.deepcopy(net)
    split_round(full, views, labels, weights, epochs=2, lr=0.1)
    split_round(
        mini,
        views,
        labels,
        weights,
        epochs=2,
        lr=0.1,
        batch_size=int(weights.sum()),
        generator=torch.Generator().manual_seed(1),
    )
    for a, b in zip(full.parameters(), mini.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_split_round__smaller_batches_take_more_steps_and_move_further():
    net, views, labels = _problem()
    weights = torch.ones(len(labels), dtype=torch.int64)
    start = [p.detach().clone() for p in net.parameters()]
    one, many = copy.deepcopy(net), copy.deepcopy(net)
    split_round(one, views, labels, weights, epochs=1, lr=0.05, batch_size=40, generator=torch.Generator())
    split_round(many, views, labels, weights, epochs=1, lr=0.05, batch_size=5, generator=torch.Generator())
    moved = lambda m: sum(float((p - s).norm()) for p, s in zip(m.parameters(), start))  # noqa: E731
    assert moved(many) > 3 * moved(one)
