"""The generic chain solvers: DP against brute force, swarm searches on tiny instances."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from baselines.edge_partition.search import chain_dp, ga, pso


def _all_placements(n_blocks, n_locations):
    return np.array(list(itertools.product(range(n_locations), repeat=n_blocks)), dtype=np.int64)


def _chain_cost(pair_costs, placements):
    """Cost of placements (B, P, M) under pair costs (B, M, K, K); block 0 follows location 0."""
    previous = np.concatenate([np.zeros_like(placements[..., :1]), placements[..., :-1]], axis=-1)
    batch = np.arange(pair_costs.shape[0])[:, None, None]
    block = np.arange(pair_costs.shape[1])
    return pair_costs[batch, block, previous, placements].sum(axis=-1)


def _pair_cost_search(pair_costs):
    return lambda placements: _chain_cost(pair_costs, placements)


pair_cost_arrays = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda s: hnp.arrays(
        np.float64, (s[0], s[1], s[2], s[2]), elements=st.floats(-10, 10, allow_nan=False, allow_subnormal=False)
    )
)


@settings(max_examples=60, deadline=None)
@given(pair_cost_arrays)
def test_chain_dp__equals_brute_force_on_random_pair_costs(pair_costs):
    n_batch, n_blocks, n_locations, _ = pair_costs.shape
    everything = np.broadcast_to(_all_placements(n_blocks, n_locations), (n_batch, n_locations**n_blocks, n_blocks))
    brute = _chain_cost(pair_costs, everything).min(axis=1)
    placement, cost = chain_dp(pair_costs)
    assert placement.shape == (n_batch, n_blocks) and placement.dtype == np.int64
    np.testing.assert_allclose(cost, brute, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(_chain_cost(pair_costs, placement[:, None])[:, 0], cost, rtol=1e-12, atol=1e-9)


def test_chain_dp__hand_checked_two_blocks():
    # K = 2. Block 0 from the device: 5 at location 0, 1 at location 1.
    # Block 1: staying at 0 costs 1, moving 0->1 costs 9, 1->0 costs 7, staying at 1 costs 6.
    # Chains: (0,0)=6, (0,1)=14, (1,0)=8, (1,1)=7 -> (0,0) at cost 6, though block 0 alone prefers 1.
    pair_costs = np.array([[[5.0, 1.0], [99.0, 99.0]], [[1.0, 9.0], [7.0, 6.0]]])
    placement, cost = chain_dp(pair_costs)
    assert placement.tolist() == [0, 0] and cost == 6.0


def test_chain_dp__ignores_rows_other_than_the_device_for_block_zero():
    pair_costs = np.random.default_rng(0).random((4, 3, 3))
    changed = pair_costs.copy()
    changed[0, 1:, :] = -1e6
    assert chain_dp(pair_costs)[0].tolist() == chain_dp(changed)[0].tolist()


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros((1, 2, 3, 4)), np.full((2, 2, 2), np.nan)])
def test_chain_dp__rejects_bad_pair_costs(bad):
    with pytest.raises(ValueError, match="pair_costs"):
        chain_dp(bad)


@pytest.mark.parametrize("search", [pso, ga])
@pytest.mark.parametrize("seed", range(3))
def test_swarm_search__finds_the_optimum_on_tiny_instances(search, seed):
    rng = np.random.default_rng(100 + seed)
    pair_costs = rng.uniform(0.0, 10.0, (4, 4, 3, 3))  # 4 instances, M=4, K=3: 81 placements each
    optimum = chain_dp(pair_costs)[1]
    placement, cost = search(_pair_cost_search(pair_costs), 4, 4, 3, np.random.default_rng(seed))
    np.testing.assert_allclose(cost, optimum)
    np.testing.assert_allclose(_chain_cost(pair_costs, placement[:, None])[:, 0], cost)


@pytest.mark.parametrize("search", [pso, ga])
def test_swarm_search__is_deterministic_under_a_seed(search):
    pair_costs = np.random.default_rng(5).uniform(0.0, 10.0, (3, 6, 5, 5))

    def run(seed):
        seen = []

        def cost(placements):
            seen.append(placements.copy())
            return _chain_cost(pair_costs, placements)

        placement, value = search(cost, 3, 6, 5, np.random.default_rng(seed))
        return placement, value, np.concatenate(seen, axis=1)

    first, again, other = run(11), run(11), run(12)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[2], other[2])


@pytest.mark.parametrize("search", [pso, ga])
def test_swarm_search__beats_random_sampling_of_equal_budget(search):
    # M=8, K=6: 1.7M placements, so 1,230 samples rarely hit the optimum by chance; the search
    # must exploit the structure to beat the best of as many uniform samples.
    rng = np.random.default_rng(3)
    pair_costs = rng.uniform(0.0, 10.0, (8, 8, 6, 6))
    cost = _pair_cost_search(pair_costs)
    _, found = search(cost, 8, 8, 6, np.random.default_rng(0))
    samples = rng.integers(0, 6, (8, 30 * 41, 8))
    assert found.mean() < cost(samples).min(axis=1).mean()
    assert (found >= chain_dp(pair_costs)[1] - 1e-9).all()


@pytest.mark.parametrize("search", [pso, ga])
def test_swarm_search__rejects_a_cost_of_the_wrong_shape(search):
    with pytest.raises(ValueError, match="cost returned shape"):
        search(lambda p: np.zeros(p.shape[1]), 2, 3, 2, np.random.default_rng(0))


def test_swarm_search__rejects_bad_sizes():
    cost = lambda p: np.zeros(p.shape[:2])  # noqa: E731
    with pytest.raises(ValueError, match="particles"):
        pso(cost, 1, 3, 2, np.random.default_rng(0), particles=1)
    with pytest.raises(ValueError, match="mutation"):
        ga(cost, 1, 3, 2, np.random.default_rng(0), mutation=1.5)
    with pytest.raises(ValueError, match="elite"):
        ga(cost, 1, 3, 2, np.random.default_rng(0), population=4, elite=4)
