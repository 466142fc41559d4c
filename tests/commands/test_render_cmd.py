"""`meshreport render`: exit codes, one-line errors, output folder handling."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from meshreport.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_render_bookinfo_without_pdf(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, out, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 0, err
    assert (out_dir / "index.html").is_file() and (out_dir / "namespaces/bookinfo.html").is_file()
    assert not (out_dir / "report.pdf").exists()
    assert (out_dir / "index.html").as_uri() in out
    assert "productpage" in (out_dir / "img/mesh.svg").read_text()


def test_render_workload_graph_type(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf", "--graph-type", "workload")
    assert code == 0, err
    svg = (out_dir / "img/mesh.svg").read_text()
    assert "reviews&#45;v2" in svg or "reviews-v2" in svg  # workload names


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a snapshot at all", "not gzip-compressed"),
        (gzip.compress(b'{"format": "meshreport-snapshot", "schema_version": 1}')[:12], "truncated or corrupt"),
        (gzip.compress(b'{"format": "meshreport-snapshot", "schema_version": 99}'), "schema_version 99"),
    ],
)
def test_bad_snapshot_is_one_line_and_exit_5(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.mrsnap"
    bad.write_bytes(content)
    code, out, err = _run(capsys, "render", str(bad), "-o", str(tmp_path / "report"))
    assert code == 5
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "report").exists()


def test_missing_snapshot_is_exit_5(tmp_path, capsys):
    code, _, err = _run(capsys, "render", str(tmp_path / "nope.mrsnap"), "-o", str(tmp_path / "r"))
    assert code == 5 and "no such snapshot file" in err


def test_missing_graphviz_keeps_previous_report(tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "report"
    code, _, _ = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 0
    before = {p.relative_to(out_dir): p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no `dot` anywhere
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 5
    assert "Graphviz is not installed" in err and len(err.strip().splitlines()) == 1
    after = {p.relative_to(out_dir): p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left behind


def test_refuses_to_overwrite_a_folder_that_is_not_a_report(tmp_path, capsys):
    out_dir = tmp_path / "mydocs"
    out_dir.mkdir()
    (out_dir / "thesis.tex").write_text("precious")
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 2 and "not a meshreport report" in err
    assert (out_dir / "thesis.tex").read_text() == "precious"


def test_render_help_is_complete(capsys):
    code, out, _ = _run(capsys, "render", "--help")
    assert code == 0
    for opt in ("--output", "--graph-type", "--no-pdf", "--namespace", "--title", "versionedApp", "exits with code 5"):
        assert opt in out
