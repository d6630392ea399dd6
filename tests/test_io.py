"""edge_envs.io: the one atomic writer (profiles, checkpoints, benchmark results) and its clean-up."""

import pytest

from edge_envs.io import remove_stale_temporaries, write_atomically


def test_write_atomically__text_bytes_or_a_writer_callable(tmp_path):
    write_atomically(tmp_path / "a" / "text.md", "héllo\n")
    write_atomically(tmp_path / "a" / "data.bin", b"\x00\xff")
    write_atomically(tmp_path / "a" / "called.bin", lambda stream: stream.write(b"from a callable"))
    assert (tmp_path / "a" / "text.md").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "a" / "data.bin").read_bytes() == b"\x00\xff"
    assert (tmp_path / "a" / "called.bin").read_bytes() == b"from a callable"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["called.bin", "data.bin", "text.md"]
    assert (tmp_path / "a" / "text.md").stat().st_mode & 0o777 == 0o644


def test_write_atomically__a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_atomically(tmp_path / "result.md", "old")

    def half_then_fail(stream):
        stream.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, half_then_fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.md"]


def test_remove_stale_temporaries__deletes_only_the_temporaries_of_that_file(tmp_path):
    path = write_atomically(tmp_path / "checkpoint.pt", b"whole")
    stale = [tmp_path / ".checkpoint.pt.abc123.tmp", tmp_path / ".checkpoint.pt.zz9.tmp"]
    other = tmp_path / ".result.md.abc.tmp"
    for file in [*stale, other]:
        file.write_bytes(b"half")
    assert remove_stale_temporaries(path) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".result.md.abc.tmp", "checkpoint.pt"]
