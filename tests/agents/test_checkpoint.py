import pytest
import torch

from agents.checkpoint import CheckpointError, content_hash, load_checkpoint, save_checkpoint


def _payload():
    return {
        "algo": "mtl-a3c",
        "env_id": "X-v0",
        "env_kwargs": "{}",
        "seed": 1,
        "steps": 640,
        "updates": 20,
        "options": {"hidden": (4, 4), "gamma": 0.95},
        "obs_dim": 3,
        "nvec": [2, 2],
        "model": {"w": torch.arange(6.0).reshape(2, 3)},
        "optimizer": {"square_avg": [torch.zeros(2, 3)]},
    }


@pytest.mark.slow
def test_checkpoint__round_trips_and_loads_with_weights_only(tmp_path):
    path = save_checkpoint(tmp_path / "run" / "checkpoint.pt", _payload())
    raw = torch.load(path, weights_only=True)
    loaded = load_checkpoint(path)
    for got in (raw, loaded):
        assert got["steps"] == 640 and got["options"]["hidden"] == (4, 4)
        torch.testing.assert_close(got["model"]["w"], torch.arange(6.0).reshape(2, 3))
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temp file left behind


def test_checkpoint__overwrite_is_atomic_and_failed_writes_leave_the_old_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "checkpoint.pt", _payload())

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {**_payload(), "steps": 9})
    monkeypatch.undo()
    assert load_checkpoint(path)["steps"] == 640
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_checkpoint__missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nope.pt")


def test_checkpoint__corrupt_or_truncated_file_is_a_clear_error(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(garbage)
    good = save_checkpoint(tmp_path / "good.pt", _payload())
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(truncated)


def test_checkpoint__foreign_or_incomplete_files_are_refused(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not an edge-envs agent checkpoint"):
        load_checkpoint(foreign)
    incomplete = tmp_path / "incomplete.pt"
    payload = _payload()
    del payload["model"]
    save_checkpoint(incomplete, payload)
    with pytest.raises(CheckpointError, match=r"lacks the entries \['model'\]"):
        load_checkpoint(incomplete)


def test_checkpoint__flipped_bytes_inside_a_tensor_fail_the_content_hash(tmp_path):
    payload = {**_payload(), "model": {"w": torch.full((64, 64), 0.25)}}
    path = save_checkpoint(tmp_path / "checkpoint.pt", payload)
    data = bytearray(path.read_bytes())
    pattern = torch.full((4,), 0.25).numpy().tobytes()  # the tensor's bytes sit in the zip uncompressed
    start = bytes(data).index(pattern)
    data[start : start + 1024] = bytes(b ^ 0xFF for b in data[start : start + 1024])
    path.write_bytes(bytes(data))
    assert torch.load(path, weights_only=True)["model"]["w"].shape == (64, 64)  # torch alone notices nothing
    with pytest.raises(CheckpointError, match="does not match its SHA-256"):
        load_checkpoint(path)


def test_checkpoint__an_edited_entry_fails_the_content_hash(tmp_path):
    path = save_checkpoint(tmp_path / "checkpoint.pt", _payload())
    raw = torch.load(path, weights_only=True)
    torch.save({**raw, "algo": "a3c"}, path)  # relabelled without the writer
    with pytest.raises(CheckpointError, match="altered or corrupted"):
        load_checkpoint(path)


def test_checkpoint__content_hash_is_the_same_for_a_tuple_or_a_list_and_changes_with_any_value():
    payload = _payload()
    assert content_hash(payload) == content_hash({**payload, "nvec": (2, 2)})
    assert content_hash(payload) != content_hash({**payload, "steps": 641})
    assert content_hash(payload) != content_hash({**payload, "model": {"w": torch.arange(6.0).reshape(3, 2)}})


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_checkpoint__non_finite_weights_are_refused(tmp_path, value):
    weights = torch.arange(6.0).reshape(2, 3)
    weights[1, 2] = value
    path = save_checkpoint(tmp_path / "checkpoint.pt", {**_payload(), "model": {"w": weights}})
    with pytest.raises(CheckpointError, match=r"non-finite weights \(NaN or infinity\) in \['w'\]"):
        load_checkpoint(path)


@pytest.mark.parametrize("key", ["version", "obs_dim", "nvec", "sha256"])
def test_checkpoint__a_missing_entry_is_named(tmp_path, key):
    path = save_checkpoint(tmp_path / "checkpoint.pt", _payload())
    raw = torch.load(path, weights_only=True)
    del raw[key]
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=rf"lacks the entries \['{key}'\]"):
        load_checkpoint(path)


def test_checkpoint__a_folder_is_named(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not a checkpoint file"):
        load_checkpoint(tmp_path)


def test_checkpoint__is_written_world_readable_through_the_one_atomic_writer(tmp_path):
    path = save_checkpoint(tmp_path / "checkpoint.pt", _payload())
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_checkpoint__non_finite_optimizer_state_is_refused(tmp_path, value):
    state = torch.zeros(2, 3)
    state[0, 1] = value
    path = save_checkpoint(tmp_path / "checkpoint.pt", {**_payload(), "optimizer": {"square_avg": [state]}})
    with pytest.raises(CheckpointError, match=r"non-finite optimizer state \(NaN or infinity\) in \[\"optimizer"):
        load_checkpoint(path)
    lr = {"state": {}, "param_groups": [{"lr": value, "params": [0]}]}
    path = save_checkpoint(tmp_path / "checkpoint.pt", {**_payload(), "optimizer": lr})
    with pytest.raises(CheckpointError, match=r"\"optimizer\['param_groups'\]\[0\]\['lr'\]\""):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"steps": -640}, r"steps must be an integer >= 0 \(env steps and updates done\), got -640"),
        ({"steps": 640.5}, r"steps must be an integer >= 0 .*got 640.5"),
        ({"steps": "640"}, r"steps must be an integer >= 0 .*got '640'"),
        ({"updates": True}, r"updates must be an integer >= 0 .*got True"),
        ({"updates": -1}, r"updates must be an integer >= 0 .*got -1"),
        ({"updates": 641}, r"updates \(641\) must not exceed steps \(640\)"),
    ],
)
def test_checkpoint__nonsense_step_and_update_counts_are_refused(tmp_path, change, message):
    path = save_checkpoint(tmp_path / "checkpoint.pt", {**_payload(), **change})  # a fresh, matching hash
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)
