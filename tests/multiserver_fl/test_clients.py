"""Batched local training: equal to the per-client loop, lowers the loss, masks padded steps."""

import numpy as np
import pytest
import torch

from edge_envs.data.images import load_images
from edge_envs.multiserver_fl.clients import (
    MLPShape,
    evaluate,
    init_params,
    minibatch_plan,
    train_batched,
    train_per_client,
)
from edge_envs.multiserver_fl.generator import _pad, dirichlet_shards


def _setup(num_clients=6, seed=0):
    x, y = load_images("digits")
    rng = np.random.default_rng(seed)
    shards, sizes = _pad(dirichlet_shards(y[:600], num_clients, 0.5, rng))
    shape = MLPShape(64, 16, 10)
    start = torch.stack([init_params(shape, rng) for _ in range(num_clients)])
    return torch.tensor(x), torch.tensor(y), shards, sizes, shape, start, rng


def test_clients__batched_training_equals_the_per_client_loop():
    x, y, shards, sizes, shape, start, rng = _setup()
    assert len(set(sizes.tolist())) > 1  # unequal shards: padded steps are exercised
    steps, mask = minibatch_plan(sizes, epochs=2, batch_size=8, rng=rng)
    flip = np.array([False, True, False, False, True, False])
    batched = train_batched(shape, start, x, y, shards, steps, mask, 0.1, flip)
    looped = train_per_client(shape, start, x, y, shards, steps, mask, 0.1, flip)
    assert not torch.allclose(batched, start)
    torch.testing.assert_close(batched, looped, rtol=1e-5, atol=1e-6)


@pytest.mark.numerics
def test_clients__one_round_of_training_lowers_each_clients_loss():
    x, y, shards, sizes, shape, start, rng = _setup()
    steps, mask = minibatch_plan(sizes, epochs=1, batch_size=8, rng=rng)
    trained = train_batched(shape, start, x, y, shards, steps, mask, 0.1)
    for c in np.flatnonzero(sizes > 0):
        index = torch.from_numpy(shards[c, : sizes[c]])[None]
        _, before = evaluate(shape, start[c : c + 1], x[index], y[index])
        _, after = evaluate(shape, trained[c : c + 1], x[index], y[index])
        assert after[0] < before[0]


def test_clients__minibatch_plan_covers_each_shard_once_per_epoch():
    sizes = np.array([5, 0, 12])
    steps, mask = minibatch_plan(sizes, epochs=2, batch_size=4, rng=np.random.default_rng(1))
    assert steps.shape == mask.shape == (2 * 3, 3, 4)  # ceil(12 / 4) steps per epoch
    for epoch in range(2):
        rows = slice(3 * epoch, 3 * epoch + 3)
        for c, n in enumerate(sizes):
            taken = steps[rows, c][mask[rows, c]]
            assert sorted(taken.tolist()) == list(range(n))


def test_clients__a_client_with_no_data_keeps_its_model():
    x, y, shards, sizes, shape, start, rng = _setup()
    sizes = sizes.copy()
    sizes[2] = 0
    steps, mask = minibatch_plan(sizes, epochs=1, batch_size=8, rng=rng)
    trained = train_batched(shape, start, x, y, shards, steps, mask, 0.1)
    assert torch.equal(trained[2], start[2])
