"""meshreport.output: every `-o` is written safely, whatever kind of path it names."""

from __future__ import annotations

import os
import stat

import pytest

from meshreport.errors import OutputError
from meshreport.output import open_output, write_output


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_new_file_gets_0666_minus_umask(tmp_path, umask_027):
    out = tmp_path / "sub" / "a.json"
    write_output(out, "{}\n")
    assert out.read_text() == "{}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert [p.name for p in out.parent.iterdir()] == ["a.json"]  # no temporary file left


def test_existing_file_keeps_its_mode(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("old")
    out.chmod(0o604)
    write_output(out, b"new")
    assert out.read_bytes() == b"new" and stat.S_IMODE(out.stat().st_mode) == 0o604


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_output(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    write_output(link, "x")
    assert link.is_symlink() and (tmp_path / "made.txt").read_text() == "x"


def test_fifo_is_written_directly_never_renamed_over(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_output(fifo, "through the pipe")
        assert os.read(r, 100) == b"through the pipe"
    finally:
        os.close(r)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_null_stays_a_device():
    before = os.lstat("/dev/null")
    write_output("/dev/null", "x" * 100)
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_dash_is_stdout(capsysbinary):
    write_output("-", b"bytes out")
    assert capsysbinary.readouterr().out == b"bytes out"


def test_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        write_output(tmp_path, "x")


def test_failure_mid_write_keeps_the_old_file(tmp_path):
    out = tmp_path / "a.json"
    out.write_text("good")
    with pytest.raises(RuntimeError), open_output(out, text=True) as fh:
        fh.write("half")
        raise RuntimeError("disk full, say")
    assert out.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_full_disk_is_one_output_error(tmp_path):
    # /dev/full answers every write with ENOSPC: the real error a full disk gives.
    with pytest.raises(OutputError, match="No space left"):
        write_output("/dev/full", "x" * 100_000)


def test_unwritable_place_is_output_error():
    with pytest.raises(OutputError, match="cannot write /proc/nope/out.json"):
        write_output("/proc/nope/out.json", "x")
