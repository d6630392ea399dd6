import itertools

import numpy as np
import pytest

from edge_envs.dnn import MODELS, BlockTable, block_table, group_blocks, shipped_profile
from edge_envs.dnn.blocks import natural_cuts
from edge_envs.dnn.profile import DeviceInfo, LatencyStats, LayerProfile, Profile

_DEVICE = DeviceInfo("cpu", "synthetic", "0", "float32", 1, "2024-01-01T00:00:00+00:00", "test")


def synthetic_profile(latencies, kinds=None) -> Profile:
    """A profile with the given per-layer latencies (a test input for the grouping only)."""
    kinds = kinds or ["conv"] * len(latencies)
    layers = tuple(
        LayerProfile(f"l{i}", kind, {1: LatencyStats(t, t, t, 1)}, 4, 4, 0, 0)
        for i, (t, kind) in enumerate(zip(latencies, kinds))
    )
    total = float(sum(latencies))
    return Profile("synthetic", (1, 1, 1), _DEVICE, (1,), layers, {1: LatencyStats(total, total, total, 1)})


def _block_sums(latencies, ranges):
    return [sum(latencies[a:b]) for a, b in ranges]


def _all_groupings(L, M):
    for cuts in itertools.combinations(range(1, L), M - 1):
        bounds = (0, *cuts, L)
        yield tuple(zip(bounds[:-1], bounds[1:]))


def assert_covers_every_layer_once(ranges, L, M):
    assert len(ranges) == M and ranges[0][0] == 0 and ranges[-1][1] == L
    assert all(a < b for a, b in ranges) and all(ranges[i][1] == ranges[i + 1][0] for i in range(M - 1))


def test_blocks__hand_checked_balanced_grouping():
    # [1,2,3 | 4,5 | 6]: block sums 6, 9, 6; every other 3-block split has a block of 10 or more.
    assert group_blocks(synthetic_profile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 3) == ((0, 3), (3, 5), (5, 6))


@pytest.mark.parametrize("trial", range(40))
def test_blocks__balanced_is_optimal_against_brute_force(trial):
    rng = np.random.default_rng(trial)
    L = int(rng.integers(3, 10))
    latencies = list(rng.choice([0.5, 1.0, 2.0, 3.0], size=L) if trial % 2 else rng.exponential(1.0, size=L))
    profile = synthetic_profile(latencies)
    for M in range(3, L + 1):
        ranges = group_blocks(profile, M)
        assert_covers_every_layer_once(ranges, L, M)
        sums = _block_sums(latencies, ranges)
        options = [_block_sums(latencies, g) for g in _all_groupings(L, M)]
        best_max = min(max(s) for s in options)
        assert max(sums) == pytest.approx(best_max, rel=1e-12)
        # among the min-max groupings, the most even one (least sum of squares)
        best_even = min(sum(x * x for x in s) for s in options if max(s) <= best_max * (1 + 1e-12))
        assert sum(x * x for x in sums) == pytest.approx(best_even, rel=1e-12)


@pytest.mark.parametrize("trial", range(30))
def test_blocks__pooling_is_optimal_under_its_cut_rules(trial):
    rng = np.random.default_rng(100 + trial)
    L = int(rng.integers(4, 10))
    kinds = list(rng.choice(["conv", "conv", "pool", "residual", "residual_down"], size=L))
    latencies = list(rng.exponential(1.0, size=L))
    profile = synthetic_profile(latencies, kinds)
    natural = set(natural_cuts(kinds))
    for M in range(3, L + 1):
        ranges = group_blocks(profile, M, method="pooling")
        assert_covers_every_layer_once(ranges, L, M)
        cuts = {a for a, _ in ranges[1:]}
        if M >= len(natural) + 1:  # keep every natural cut, split further
            admissible = [g for g in _all_groupings(L, M) if natural <= {a for a, _ in g[1:]}]
            assert natural <= cuts
        else:  # cut only at natural points, merging segments
            admissible = [g for g in _all_groupings(L, M) if {a for a, _ in g[1:]} <= natural]
            assert cuts <= natural
        best_max = min(max(_block_sums(latencies, g)) for g in admissible)
        assert max(_block_sums(latencies, ranges)) == pytest.approx(best_max, rel=1e-12)


def test_blocks__natural_cuts_follow_pooling_and_downsampling():
    assert natural_cuts(["conv", "pool", "conv", "pool", "linear"]) == [2, 4]
    assert natural_cuts(["conv", "residual", "residual_down", "residual", "pool", "linear"]) == [2, 5]
    vgg = shipped_profile("vgg16")
    ranges = group_blocks(vgg, 6, method="pooling")  # five conv stages (each ending in its pool) + fc
    assert [vgg.layers[b - 1].name for _, b in ranges] == ["pool1", "pool2", "pool3", "pool4", "pool5", "fc"]


@pytest.mark.parametrize("model", MODELS)
def test_blocks__every_M_covers_every_layer_once_for_shipped_models(model):
    profile = shipped_profile(model)
    L = len(profile.layers)
    for method in ("balanced", "pooling"):
        for M in range(3, L + 1):
            assert_covers_every_layer_once(group_blocks(profile, M, method), L, M)


@pytest.mark.parametrize("M", [2, 0, -1, 10, 3.0, True, "4", None])
def test_blocks__bad_M_raises_naming_the_range(M):
    profile = synthetic_profile([1.0] * 9)
    with pytest.raises(ValueError, match=r"M: must be an integer in \[3, 9\]"):
        group_blocks(profile, M)


def test_blocks__bad_method_or_batch_raises():
    profile = synthetic_profile([1.0] * 5)
    with pytest.raises(ValueError, match="method: must be one of"):
        group_blocks(profile, 3, method="random")
    with pytest.raises(ValueError, match="batch: 32 was not measured"):
        group_blocks(profile, 3, batch=32)


def test_blocks__block_table_sums_the_profile():
    profile = shipped_profile("resnet32")
    table = block_table("resnet32", 5)
    assert isinstance(table, BlockTable) and table.M == 5
    latency = profile.layer_latency(1)
    for m, (a, b) in enumerate(table.layer_ranges):
        assert table.local_s[m] == pytest.approx(latency[a:b].sum(), rel=1e-12)
        assert table.param_bytes[m] == sum(layer.param_bytes for layer in profile.layers[a:b])
        assert table.flops[m] == sum(layer.flops for layer in profile.layers[a:b])
    assert table.input_bytes[0] == 3 * 32 * 32 * 4  # the raw image
    assert np.array_equal(table.output_bytes[:-1], table.input_bytes[1:])
    assert table.output_bytes[-1] == 10 * 4  # the logits
    assert np.array_equal(table.local_s, table.edge_s)  # both the CPU profile here
    assert table.names == tuple(
        profile.layers[a].name if b - a == 1 else f"{profile.layers[a].name}..{profile.layers[b - 1].name}"
        for a, b in table.layer_ranges
    )
    assert table.local_s.dtype == np.float64 and not table.local_s.flags.writeable


def test_blocks__block_table_takes_a_profile_and_checks_its_model():
    profile = shipped_profile("nin")
    assert block_table("nin", 4, local=profile).layer_ranges == group_blocks(profile, 4)
    with pytest.raises(ValueError, match="profile: is for model 'nin', not 'alexnet'"):
        block_table("alexnet", 4, local=profile)


def test_blocks__block_table_rejects_inconsistent_arrays():
    with pytest.raises(ValueError, match=r"edge_s: need shape \(2,\)"):
        BlockTable(("a", "b"), ((0, 1), (1, 2)), [1.0, 2.0], [1.0], [4, 4], [4, 4], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="local_s: values must be finite and >= 0"):
        BlockTable(("a", "b"), ((0, 1), (1, 2)), [1.0, -2.0], [1.0, 1.0], [4, 4], [4, 4], [0, 0], [0, 0])
