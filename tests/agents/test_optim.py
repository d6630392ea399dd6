import pytest
import torch

from agents.optim import SharedRMSprop


def test_shared_rmsprop__follows_eqs_23_and_24():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = SharedRMSprop([([p], 0.1)], alpha=0.9, eps=1e-4)
    for grad, g_expected in [([0.5, 1.0], [0.025, 0.1]), ([-1.0, 0.0], [0.1225, 0.09])]:
        before = p.detach().clone()
        p.grad = torch.tensor(grad)
        opt.step()
        g = torch.tensor(g_expected)  # g = 0.9 g + 0.1 grad^2 (Eq. 23)
        torch.testing.assert_close(opt.square_avg[0], g)
        torch.testing.assert_close(p.detach(), before - 0.1 * torch.tensor(grad) / torch.sqrt(g + 1e-4))  # Eq. 24


def test_shared_rmsprop__statistics_live_in_shared_memory_and_reload_in_place():
    net = torch.nn.Linear(3, 2)
    opt = SharedRMSprop([(net.parameters(), 0.01)])
    assert all(g.is_shared() for g in opt.square_avg)
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    saved = opt.state_dict()
    fresh = SharedRMSprop([(net.parameters(), 0.01)])
    buffers = list(fresh.square_avg)
    fresh.load_state_dict(saved)
    assert all(a is b and a.is_shared() for a, b in zip(fresh.square_avg, buffers))
    for a, b in zip(fresh.square_avg, saved["square_avg"]):
        torch.testing.assert_close(a, b)


def test_shared_rmsprop__per_group_learning_rates_and_validation():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = SharedRMSprop([([a], 0.1), ([b], 0.01)], alpha=0.0, eps=1e-12)
    a.grad, b.grad = torch.ones(1), torch.ones(1)
    opt.step()
    assert a.item() == pytest.approx(-0.1) and b.item() == pytest.approx(-0.01)
    with pytest.raises(ValueError, match="alpha"):
        SharedRMSprop([([a], 0.1)], alpha=1.0)
    with pytest.raises(ValueError, match="learning rate"):
        SharedRMSprop([([a], 0.0)])
    with pytest.raises(ValueError, match="does not match"):
        opt.load_state_dict({"square_avg": [torch.zeros(2)]})
