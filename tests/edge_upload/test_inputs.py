"""Bad input to EdgeUpload-v0 gets a named error saying what is allowed (issue 24, item 6)."""

import dataclasses
import json

import numpy as np
import pytest

from edge_envs.dnn import ProfileError, shipped_profile
from edge_envs.dnn.profile import MAX_LATENCY_S
from edge_envs.edge_upload import EdgeUploadEnv, ToyGenerator


def test_env__a_generator_without_layer_names_is_refused_naming_what_it_needs():
    with pytest.raises(
        ValueError, match=r"generator must be a callable rng -> .*Instance with a non-empty layer_names"
    ):
        EdgeUploadEnv(generator=lambda rng: None)


class _Returns:
    """A generator with the toy's layer names that returns ``value``."""

    layer_names = ToyGenerator.layer_names

    def __init__(self, value):
        self.value = value

    def __call__(self, rng):
        return self.value


def test_env__a_generator_returning_none_raises_a_type_error():
    env = EdgeUploadEnv(config=ToyGenerator.config(), generator=_Returns(None))
    with pytest.raises(TypeError, match="generator must return an edge_envs.edge_upload.Instance, got NoneType"):
        env.reset(seed=0)


def test_env__an_instance_that_does_not_fit_the_spaces_is_refused():
    two_servers = dataclasses.replace(ToyGenerator()(), server_speed=ToyGenerator()().server_speed.repeat(2))
    env = EdgeUploadEnv(config=ToyGenerator.config(), generator=_Returns(two_servers))
    with pytest.raises(ValueError, match=r"\(layers, clients, servers\) = \(4, 1, 2\), but the env was built for"):
        env.reset(seed=0)


def _profile_with_latencies(tmp_path, seconds: float) -> str:
    """The shipped AlexNet-224 CPU profile with every latency statistic set to ``seconds``, as a file."""
    data = shipped_profile("alexnet_224", "cpu").to_dict()
    for stats in [*(layer["latency"] for layer in data["layers"]), data["model_latency"]]:
        for entry in stats.values():
            entry.update(median_s=seconds, p10_s=seconds, p90_s=seconds)
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_env__a_profile_with_latencies_of_1e300_s_is_refused_naming_the_field_and_range(tmp_path):
    with pytest.raises(ProfileError, match=r"layers\[0\]\.latency\['1'\]\.median_s: must be a number of seconds in \["):
        EdgeUploadEnv(profile=_profile_with_latencies(tmp_path, 1e300))


def test_env__rewards_stay_finite_with_every_latency_at_the_profile_bound(tmp_path):
    env = EdgeUploadEnv(profile=_profile_with_latencies(tmp_path, MAX_LATENCY_S))
    _, info = env.reset(seed=0)
    local = float(info["local_latency"][0])  # every layer on the client: L x 3600 s / its speed
    assert local == pytest.approx(MAX_LATENCY_S * env.num_layers / env.instance.client_speed[0], rel=1e-9)
    _, reward, done, _, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
    # until the first partition is confirmed, queries run locally: the step costs local latency x its duration
    assert reward == pytest.approx(-local * info["duration"], rel=1e-9)
    rewards = [reward]
    while not done:
        _, reward, done, _, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
        rewards.append(reward)
    assert np.all(np.isfinite(rewards))


@pytest.mark.parametrize("model, batches", [("alexnet_224", r"\[256\]"), ("vgg16_224", r"\[128\]")])
def test_env__a_profile_without_batch_1_is_refused_naming_its_batch_sizes(model, batches):
    with pytest.raises(
        ValueError, match=rf"profile: EdgeUpload needs latencies at batch size 1; .* batch sizes {batches}"
    ):
        EdgeUploadEnv(model=model, profile="gpu")
