import pytest
import torch

from agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


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
