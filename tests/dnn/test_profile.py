import copy
import json

import numpy as np
import pytest

from edge_envs.dnn import MODELS, ProfileError, block_table, build_model, load_profile, save_profile, shipped_profile
from edge_envs.dnn.profile import MEASURED_SOURCE, PROFILE_DIR, SCHEMA_VERSION, ProfileNotShipped, profile_from_dict


def test_profile__round_trip_is_exact(tiny_profile, tmp_path):
    path = save_profile(tiny_profile, tmp_path / "tiny.json")
    loaded = load_profile(path)
    assert loaded == tiny_profile
    assert json.loads(path.read_text()) == tiny_profile.to_dict()
    assert not [p for p in tmp_path.iterdir() if p.name != "tiny.json"]  # no temporary file left behind


def _break(data, path, value):
    """Set data[path...] = value (a missing value deletes the key)."""
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()

MALFORMED = [
    # (what is wrong, where, new value, the field the error must name)
    ("schema version", ("schema",), 3, "schema"),
    ("unknown source kind", ("source", "kind"), "guessed", "source.kind"),
    ("measured by another tool", ("source", "origin"), "typed in", "source.origin"),
    ("measured with imported fields", ("source", "licence"), "MIT", "unknown key(s) ['licence']"),
    ("measured without threads", ("device", "threads"), None, "device.threads"),
    ("measured without whole-model time", ("model_latency",), None, "model_latency"),
    ("missing device", ("device",), _DELETE, "missing key(s) ['device']"),
    ("unknown top-level key", ("extra",), 1, "unknown key(s) ['extra']"),
    ("negative latency", ("layers", 1, "latency", "1", "p10_s"), -1e-3, "layers[1].latency['1'].p10_s"),
    ("NaN latency", ("layers", 0, "latency", "2", "median_s"), float("nan"), "layers[0].latency['2'].median_s"),
    (
        "latency over an hour",
        ("layers", 0, "latency", "1", "p90_s"),
        1e300,
        "p90_s: must be a number of seconds in [0, 3600]",
    ),
    ("string latency", ("model_latency", "1", "p90_s"), "fast", "model_latency['1'].p90_s"),
    ("p10 above median", ("layers", 2, "latency", "1", "p10_s"), 10.0, "layers[2].latency['1']: must satisfy"),
    ("median above p90", ("model_latency", "2", "median_s"), 10.0, "model_latency['2']: must satisfy"),
    ("zero repeats", ("layers", 0, "latency", "1", "repeats"), 0, "layers[0].latency['1'].repeats"),
    ("float repeats", ("layers", 0, "latency", "1", "repeats"), 3.0, "layers[0].latency['1'].repeats"),
    ("missing batch", ("layers", 1, "latency", "2"), _DELETE, "layers[1].latency: keys must be the batch sizes"),
    ("negative bytes", ("layers", 2, "param_bytes"), -4, "layers[2].param_bytes"),
    ("bool flops", ("layers", 0, "flops"), True, "layers[0].flops"),
    ("broken activation chain", ("layers", 1, "input_bytes"), 7, "layers[1].input_bytes"),
    ("wrong image size", ("input_shape",), [3, 8, 9], "layers[0].input_bytes"),
    ("unknown kind", ("layers", 0, "kind"), "attention", "layers[0].kind"),
    ("unknown device kind", ("device", "kind"), "tpu", "device.kind"),
    ("bad date", ("device", "date"), "yesterday", "device.date"),
    ("zero threads", ("device", "threads"), 0, "device.threads"),
    ("unsorted batch sizes", ("batch_sizes",), [2, 1], "batch_sizes"),
    ("empty layers", ("layers",), [], "layers"),
]


@pytest.mark.parametrize("what, where, value, field", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_profile__malformed_file_is_rejected_naming_the_field(tiny_profile, tmp_path, what, where, value, field):
    data = copy.deepcopy(tiny_profile.to_dict())
    _break(data, where, value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert field in str(error.value) and str(path) in str(error.value)


def test_profile__invalid_json_is_a_profile_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"schema": 1,')
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_profile(path)


def test_profile__save_refuses_an_invalid_profile(tiny_profile, tmp_path):
    layers = list(tiny_profile.layers)
    layers[0] = type(layers[0])(**{**vars(layers[0]), "flops": -1})
    bad = type(tiny_profile)(**{**vars(tiny_profile), "layers": tuple(layers)})
    with pytest.raises(ProfileError, match=r"layers\[0\].flops"):
        save_profile(bad, tmp_path / "bad.json")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("model", MODELS)
def test_profile__shipped_cpu_profiles_load_and_match_their_model(model):
    profile = shipped_profile(model, "cpu")
    chain = build_model(model, device="meta")
    assert profile.model == model and profile.device.kind == "cpu" and profile.device.threads == 1
    assert [layer.name for layer in profile.layers] == [name for name, _ in chain.layers]
    assert 1 in profile.batch_sizes
    assert profile.model_latency[1].repeats >= (10 if model.endswith("_224") else 50)


def _shipped_dict(model):
    return json.loads((PROFILE_DIR / f"{model}__cpu.json").read_text())


def test_profile__layer_count_mismatch_with_model_is_rejected():
    data = _shipped_dict("alexnet")
    data["layers"] = data["layers"][:-1]
    with pytest.raises(ProfileError, match="layers: alexnet has 9 layers, the profile has 8"):
        profile_from_dict(data)


def test_profile__renamed_layer_or_wrong_parameter_size_is_rejected():
    data = _shipped_dict("nin")
    data["layers"][3]["name"] = "maxpool"
    with pytest.raises(ProfileError, match=r"layers\[3\].name"):
        profile_from_dict(data)
    data = _shipped_dict("nin")
    data["layers"][4]["param_bytes"] += 4
    with pytest.raises(ProfileError, match=r"layers\[4\].param_bytes"):
        profile_from_dict(data)


def test_profile__gpu_profile_not_shipped_raises_with_instructions():
    if (PROFILE_DIR / "vgg16__gpu.json").exists():
        pytest.skip("a GPU profile is shipped")
    message = r"no GPU profile of vgg16 is shipped .*GPU profiles ship for: alexnet_224, vgg16_224.*--device cuda"
    with pytest.raises(ProfileNotShipped, match=message) as error:
        shipped_profile("vgg16", "gpu")
    assert isinstance(error.value, ValueError) and isinstance(error.value, FileNotFoundError)


def test_profile__shipped_cpu_profiles_are_labelled_measured_by_this_project():
    for model in MODELS:
        profile = shipped_profile(model, "cpu")
        assert profile.schema == SCHEMA_VERSION and profile.source == MEASURED_SOURCE
        assert profile.describe_source().startswith("measured by this project (edge-envs profile) on Intel")


def test_profile__schema_1_file_reads_as_measured(tmp_path):
    data = _shipped_dict("alexnet")
    del data["source"]
    data["schema"] = 1
    (tmp_path / "old.json").write_text(json.dumps(data))
    profile = load_profile(tmp_path / "old.json")
    assert profile.schema == 1 and profile.source.kind == "measured"
    assert profile.layers == shipped_profile("alexnet").layers


def test_profile__rewritten_file_is_read_again_in_the_same_process(tmp_path):
    path = save_profile(shipped_profile("alexnet"), tmp_path / "alexnet.json")
    first = load_profile(path)
    assert load_profile(path) is first  # unchanged content: the cached profile
    data = json.loads(path.read_text())
    data["layers"][0]["latency"]["1"] = {"median_s": 0.5, "p10_s": 0.5, "p90_s": 0.5, "repeats": 1}
    path.write_text(json.dumps(data))  # same path, new content (and possibly the same mtime)
    assert load_profile(path).layers[0].latency[1].median_s == 0.5
    table = block_table("alexnet", 3, local=str(path), edge=str(path))
    assert table.local_s[0] >= 0.5 and table.edge_s[0] >= 0.5
    path.write_text(json.dumps(shipped_profile("alexnet").to_dict()))
    np.testing.assert_array_equal(
        block_table("alexnet", 3, local=str(path), edge=str(path)).local_s, block_table("alexnet", 3).local_s
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe{", "not UTF-8 text"),
        (None, "is a folder"),
    ],
)
def test_profile__unreadable_file_is_a_profile_error(tmp_path, content, message):
    path = tmp_path / "p.json"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ProfileError, match=message):
        load_profile(path)
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "missing.json")


def test_profile__shipped_profile_rejects_unknown_model_or_device():
    with pytest.raises(ValueError, match="model: unknown model"):
        shipped_profile("lenet")
    with pytest.raises(ValueError, match="device: must be one of"):
        shipped_profile("vgg16", "tpu")
