import copy

import torch
from torch.nn import functional as F

from edge_envs.fl import SplitNet, fedavg_round


def _problem(n=30):
    g = torch.Generator().manual_seed(1)
    views = [torch.randn(n, 4, generator=g), torch.randn(n, 3, generator=g)]
    labels = (views[0][:, 0] > 0).long()
    return SplitNet([4, 3], [3, 3], hidden=5, n_classes=2, generator=g), views, labels


def test_fedavg_round__one_client_is_plain_end_to_end_training():
    net, views, labels = _problem()
    expected = copy.deepcopy(net)
    for _ in range(3):
        loss = F.cross_entropy(expected(views), labels)
        grads = torch.autograd.grad(loss, list(expected.parameters()))
        with torch.no_grad():
            for p, g in zip(expected.parameters(), grads):
                p.sub_(0.1 * g)
    clients = torch.zeros(3, 30, dtype=torch.int64)
    clients[1] = 1  # clients 0 and 2 have no samples and sit out
    fedavg_round(net, views, labels, clients, epochs=3, lr=0.1)
    for a, b in zip(net.parameters(), expected.parameters()):
        torch.testing.assert_close(a, b)


def test_fedavg_round__averages_clients_by_sample_count():
    net, views, labels = _problem()
    clients = torch.zeros(2, 30, dtype=torch.int64)
    clients[0, :10] = 1
    clients[1, 10:] = 3  # 60 samples vs 10
    results = []
    for c in range(2):
        single = copy.deepcopy(net)
        only = torch.zeros_like(clients)
        only[c] = clients[c]
        fedavg_round(single, views, labels, only, epochs=2, lr=0.1)
        results.append(single)
    fedavg_round(net, views, labels, clients, epochs=2, lr=0.1)
    for p, a, b in zip(net.parameters(), results[0].parameters(), results[1].parameters()):
        torch.testing.assert_close(p, (10 * a + 60 * b) / 70)


def test_fedavg_round__minibatch_epochs_are_seeded():
    net, views, labels = _problem()
    counts = torch.randint(0, 3, (2, len(labels)))
    a, b = copy.deepcopy(net), copy.deepcopy(net)
    for m in (a, b):
        fedavg_round(
            m, views, labels, counts, epochs=2, lr=0.1, batch_size=8, generator=torch.Generator().manual_seed(4)
        )
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), net.parameters()))
