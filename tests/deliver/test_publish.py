"""Atomic publishing: a failed run never replaces the last good report."""

from __future__ import annotations

import pytest

from meshreport.deliver.publish import MARKER, publish_dir
from meshreport.errors import UsageError


def _publish(target, text: str) -> None:
    with publish_dir(target) as staging:
        (staging / "index.html").write_text(text)


def test_publish_creates_then_replaces(tmp_path):
    target = tmp_path / "report"
    _publish(target, "first")
    assert (target / "index.html").read_text() == "first"
    assert (target / MARKER).is_file()
    (target / "stale.html").write_text("from the old run")
    _publish(target, "second")
    assert (target / "index.html").read_text() == "second"
    assert not (target / "stale.html").exists()  # the folder was replaced, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging or old folders left


def test_failing_run_leaves_previous_report_untouched(tmp_path):
    target = tmp_path / "report"
    _publish(target, "good")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(RuntimeError, match="render failed"):
        with publish_dir(target) as staging:
            (staging / "index.html").write_text("half written")
            raise RuntimeError("render failed")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_failing_first_run_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with publish_dir(tmp_path / "report"):
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path):
    target = tmp_path / "docs"
    target.mkdir()
    (target / "notes.txt").write_text("precious")
    with pytest.raises(UsageError, match="not a meshreport report"):
        _publish(target, "x")
    assert (target / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]


def test_empty_folder_and_file_targets(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _publish(empty, "ok")
    assert (empty / "index.html").read_text() == "ok"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        _publish(a_file, "x")
    assert a_file.read_text() == "x"


def test_published_folder_is_readable_by_others(tmp_path):
    target = tmp_path / "report"
    _publish(target, "x")
    assert target.stat().st_mode & 0o755 == 0o755
