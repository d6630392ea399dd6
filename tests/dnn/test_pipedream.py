"""The GPU profiles imported from PipeDream: provenance, mapping onto the layer chains, per-image times."""

import copy
import json

import gymnasium as gym
import numpy as np
import pytest

import edge_envs  # noqa: F401  (registers the ids)
from edge_envs.dnn import ProfileError, block_table, load_profile, save_profile, shipped_profile
from edge_envs.dnn.pipedream import RAW_DIR, import_profile, parse_graph
from edge_envs.dnn.profile import PROFILE_DIR, profile_from_dict

IMPORTED = ("alexnet_224", "vgg16_224")


@pytest.mark.parametrize("model", IMPORTED)
def test_pipedream__shipped_gpu_profile_is_the_import_of_the_shipped_graph(model):
    assert shipped_profile(model, "gpu") == import_profile(model)


@pytest.mark.parametrize("model", IMPORTED)
def test_pipedream__imported_profile_validates_and_round_trips(model, tmp_path):
    profile = shipped_profile(model, "gpu")
    assert profile_from_dict(json.loads(json.dumps(profile.to_dict()))) == profile
    assert load_profile(save_profile(profile, tmp_path / "p.json")) == profile


@pytest.mark.parametrize("model, batch", [("alexnet_224", 256), ("vgg16_224", 128)])
def test_pipedream__source_says_imported_never_measured(model, batch):
    profile = shipped_profile(model, "gpu")
    source = profile.source
    assert source.kind == "imported" and source.batch == batch and profile.batch_sizes == (batch,)
    assert "msr-fiddle/pipedream" in source.origin and source.licence.startswith("MIT")
    assert "not recorded" in source.device and "training mode" in source.notes
    assert profile.device.threads is None and profile.device.date is None and profile.model_latency is None
    assert "measured by this project" not in profile.describe_source()
    assert profile.describe_source().startswith("imported from PipeDream")
    assert (PROFILE_DIR / "LICENSE.pipedream.txt").read_text().startswith("MIT License")


def test_pipedream__alexnet_per_image_latencies_are_the_published_ones_over_256():
    # alexnet/graph.txt forward times (ms, batch 256): conv1 22.316 + ReLU 0.813; pool1 0.756; conv2 3.128 + 0.811;
    # pool2 0.579; conv3 3.260 + 0.427; conv4 4.423 + 0.539; conv5 2.815 + 0.524; pool5 0.391;
    # fc6 1.737 + 0.471; fc7 1.075 + 0.283; fc8 0.453; Size, View and Dropout 0.000.
    per_layer_ms = [23.129, 0.756, 3.939, 0.579, 3.687, 4.962, 3.339, 0.391, 2.208, 1.358, 0.453]
    per_image = shipped_profile("alexnet_224", "gpu").per_image_latency(256)
    np.testing.assert_allclose(per_image, np.array(per_layer_ms) / 1e3 / 256, rtol=1e-12)
    assert per_image.sum() * 1e3 == pytest.approx(44.801 / 256)  # 0.1750 ms per image


def test_pipedream__vgg16_per_image_latencies_are_the_published_ones_over_128():
    # vgg16/graph.txt (ms, batch 128): conv1_1 22.307 + ReLU 4.446, conv1_2 46.201 + 4.455; the layers sum to
    # 233.902 ms per batch, 1.8274 ms per image.
    per_image = shipped_profile("vgg16_224", "gpu").per_image_latency(128)
    np.testing.assert_allclose(per_image[:2], np.array([22.307 + 4.446, 46.201 + 4.455]) / 1e3 / 128, rtol=1e-12)
    assert per_image.sum() * 1e3 == pytest.approx(233.902 / 128)


def test_pipedream__graph_that_does_not_match_the_chain_is_refused():
    text = (RAW_DIR / "alexnet_graph.txt").read_text()
    with pytest.raises(ValueError, match="parameter bytes"):
        import_profile("alexnet_224", text.replace("parameter_size=93184.000", "parameter_size=93188.000"))
    with pytest.raises(ValueError, match="only 0 ms ones are dropped"):
        import_profile(
            "alexnet_224",
            text.replace(
                "Dropout(p=0.5) -- forward_compute_time=0.000", "Dropout(p=0.5) -- forward_compute_time=0.100", 1
            ),
        )
    with pytest.raises(ValueError, match="neither a node nor an edge"):
        parse_graph(text + "\nnonsense")
    with pytest.raises(ValueError, match="PipeDream publishes profiles for"):
        import_profile("resnet32")


def test_pipedream__graph_order_follows_the_edges_not_the_listing():
    order = [node.op for node in parse_graph((RAW_DIR / "alexnet_graph.txt").read_text())]
    assert order[:5] == ["Input", "Conv2d", "ReLU", "MaxPool2d", "Conv2d"]
    assert order[-3:] == ["Linear", "ReLU", "Linear"]


def test_pipedream__imported_profile_with_a_measured_label_or_other_batch_is_refused():
    data = copy.deepcopy(shipped_profile("alexnet_224", "gpu").to_dict())
    data["batch_sizes"] = [1]
    data["layers"] = [{**layer, "latency": {"1": layer["latency"]["256"]}} for layer in data["layers"]]
    with pytest.raises(ProfileError, match=r"batch_sizes: an imported profile holds its source's batch \[256\]"):
        profile_from_dict(data)
    data = copy.deepcopy(shipped_profile("alexnet_224", "gpu").to_dict())
    data["source"] = {"kind": "measured", "origin": "edge-envs profile"}
    with pytest.raises(ProfileError, match="device.date: must be a non-empty string, got None"):
        profile_from_dict(data)


def test_pipedream__block_table_reads_gpu_profile_per_image():
    table = block_table("alexnet_224", 4, local="cpu", edge="gpu")
    per_image = shipped_profile("alexnet_224", "gpu").per_image_latency(256)
    np.testing.assert_allclose(table.edge_s, [per_image[a:b].sum() for a, b in table.layer_ranges], rtol=1e-12)
    cpu = block_table("alexnet_224", 4)
    np.testing.assert_array_equal(table.local_s, cpu.local_s)
    assert table.layer_ranges == cpu.layer_ranges


def test_pipedream__env_with_edge_profile_gpu_uses_the_imported_profile():
    env = gym.make("EdgePartition-v0", model="alexnet_224", num_blocks=4, edge_profile="gpu")
    expected = block_table("alexnet_224", 4, local="cpu", edge="gpu").edge_s
    observation, _ = env.reset(seed=0)
    np.testing.assert_array_equal(env.unwrapped.instance.edge_s, [expected])
    assert env.observation_space.contains(observation)
    env.step(env.action_space.sample())
    env.close()


def test_pipedream__env_with_edge_profile_gpu_for_a_model_without_one_is_a_value_error():
    with pytest.raises(ValueError, match="no GPU profile of resnet32 is shipped .*ship for: alexnet_224, vgg16_224"):
        gym.make("EdgePartition-v0", model="resnet32", edge_profile="gpu")
