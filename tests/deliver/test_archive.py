"""The dated archive: runs renamed into place, `latest`, --keep pruning, index page, failed runs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_mesh import T0, build_small_graph_with_health, build_small_snapshot  # noqa: E402

from meshreport.analysis import Analysis  # noqa: E402
from meshreport.deliver.archive import ARCHIVE_MARKER, Archive, run_id_for  # noqa: E402
from meshreport.errors import OutputError, UsageError  # noqa: E402
from meshreport.report.archive_page import render_index  # noqa: E402
from meshreport.report.summary import build_summary, write_summary  # noqa: E402

DAY = 86400


def _run(archive: Archive, end: float, *, keep: int = 0, title: str = "Mesh") -> None:
    with archive.new_run(run_id_for(end), keep=keep, index=render_index) as staging:
        (staging / "index.html").write_text(f"report ending {end}")
        (staging / "snapshot.mrsnap").write_text("{}")
        doc = build_summary(build_small_snapshot(), Analysis.of(build_small_graph_with_health()), title=title, now=end)
        write_summary(doc, staging)


def test_runs_are_dated_and_latest_follows(tmp_path):
    a = Archive(tmp_path / "reports")
    _run(a, T0)
    _run(a, T0 + DAY)
    ids = [r.id for r in a.runs()]
    assert ids == [run_id_for(T0), run_id_for(T0 + DAY)]
    assert ids[0].endswith("Z") and ":" not in ids[0]
    assert os.readlink(a.root / "latest") == ids[1]
    assert (a.root / "latest" / "index.html").read_text() == f"report ending {T0 + DAY}"
    assert (a.root / ARCHIVE_MARKER).is_file()
    # nothing but runs, the link, the marker and the index files
    expected = [*ids, "latest", ARCHIVE_MARKER, "index.html", "runs.json"]
    assert sorted(p.name for p in a.root.iterdir()) == sorted(expected)


def test_same_window_twice_gets_a_second_folder(tmp_path):
    a = Archive(tmp_path / "reports")
    _run(a, T0)
    _run(a, T0)
    assert [r.id for r in a.runs()] == [run_id_for(T0), run_id_for(T0) + "-1"]
    assert os.readlink(a.root / "latest") == run_id_for(T0) + "-1"


def test_keep_prunes_the_oldest_runs(tmp_path):
    a = Archive(tmp_path / "reports")
    for day in range(4):
        _run(a, T0 + day * DAY, keep=2)
    assert [r.id for r in a.runs()] == [run_id_for(T0 + 2 * DAY), run_id_for(T0 + 3 * DAY)]
    runs = json.loads((a.root / "runs.json").read_text())
    assert [r["id"] for r in runs["runs"]] == [run_id_for(T0 + 3 * DAY), run_id_for(T0 + 2 * DAY)]
    assert runs["latest"] == run_id_for(T0 + 3 * DAY)
    assert runs["runs"][0]["snapshot"] == f"{run_id_for(T0 + 3 * DAY)}/snapshot.mrsnap"


def test_prune_leaves_foreign_folders_alone(tmp_path):
    a = Archive(tmp_path / "reports")
    _run(a, T0)
    (a.root / "2000-01-01T000000Z").mkdir()  # looks like a run, but is not one of ours (no marker)
    (a.root / "notes").mkdir()
    _run(a, T0 + DAY, keep=1)
    assert (a.root / "2000-01-01T000000Z").is_dir() and (a.root / "notes").is_dir()
    assert [r.id for r in a.runs()] == [run_id_for(T0 + DAY)]


def test_failed_run_changes_nothing(tmp_path):
    a = Archive(tmp_path / "reports")
    _run(a, T0)
    before = {str(p.relative_to(a.root)): (p.read_bytes() if p.is_file() else None) for p in a.root.rglob("*")}
    link = os.readlink(a.root / "latest")
    with pytest.raises(RuntimeError):
        with a.new_run(run_id_for(T0 + DAY), keep=1) as staging:
            (staging / "index.html").write_text("half")
            raise RuntimeError("render failed")
    after = {str(p.relative_to(a.root)): (p.read_bytes() if p.is_file() else None) for p in a.root.rglob("*")}
    assert after == before
    assert os.readlink(a.root / "latest") == link
    assert a.latest() == run_id_for(T0)


def test_index_lists_runs_with_headline_numbers_escaped(tmp_path):
    a = Archive(tmp_path / "reports")
    _run(a, T0, title="<script>alert(1)</script>")
    _run(a, T0 + DAY, title="<script>alert(1)</script>")
    html = (a.root / "index.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.index(run_id_for(T0 + DAY)) < html.index(run_id_for(T0))  # newest first
    assert f'href="{run_id_for(T0)}/index.html"' in html
    assert "req/s" in html and "latest" in html
    assert html.count("<tr class=") == 2


def test_index_survives_a_broken_summary(tmp_path):
    a = Archive(tmp_path / "reports")
    _run(a, T0)
    (a.root / run_id_for(T0) / "summary.json").write_text(
        '{"schema": "meshreport/summary", "schemaVersion": 1, "traffic": {"requestRate": "lots"}, "health": []}'
    )
    a.write_index(render_index)
    assert run_id_for(T0) in (a.root / "index.html").read_text()


def test_refuses_foreign_folder_and_foreign_names(tmp_path):
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match="not a meshreport archive"):
        _run(Archive(foreign), T0)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]

    a = Archive(tmp_path / "reports")
    _run(a, T0)
    (a.root / "latest").unlink()
    (a.root / "latest").mkdir()
    with pytest.raises(UsageError, match="not a symlink"):
        _run(a, T0 + DAY)
    (a.root / "latest").rmdir()
    outside = tmp_path / "outside.html"
    outside.write_text("keep me")
    (a.root / "index.html").unlink()
    (a.root / "index.html").symlink_to(outside)
    with pytest.raises(UsageError, match="not a regular file"):
        _run(a, T0 + DAY)
    assert outside.read_text() == "keep me"
    assert [r.id for r in a.runs()] == [run_id_for(T0)]  # the refused run was not added


def test_run_and_index_permissions_follow_the_umask(tmp_path):
    a = Archive(tmp_path / "reports")
    old = os.umask(0o027)
    try:
        _run(a, T0)
    finally:
        os.umask(old)
    run = a.root / run_id_for(T0)
    assert run.stat().st_mode & 0o777 == 0o750
    assert (a.root / "runs.json").stat().st_mode & 0o777 == 0o640


def test_marker_is_never_written_through_a_symlink(tmp_path):
    root = tmp_path / "reports"
    root.mkdir()
    victim = tmp_path / "victim"
    (root / ARCHIVE_MARKER).symlink_to(victim)  # dangling: is_file() is False, so we would create it
    a = Archive(root)
    with pytest.raises((OutputError, UsageError)):
        _run(a, T0)
    assert not victim.exists()


def test_unwritable_archive_is_a_one_line_output_error(tmp_path):
    if os.geteuid() == 0:
        parent = tmp_path / "file"
        parent.write_text("not a folder")
        a = Archive(parent / "reports")  # mkdir under a regular file fails for root too
    else:
        parent = tmp_path / "ro"
        parent.mkdir(mode=0o555)
        a = Archive(parent / "reports")
    with pytest.raises(OutputError, match="cannot write"):
        _run(a, T0)
