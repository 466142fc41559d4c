"""Pictures of a mesh whose names carry control characters are still well-formed SVG (drawn by the
real Graphviz), and a picture Graphviz cannot draw says so in the report instead of vanishing."""

from __future__ import annotations

import os
import xml.dom.minidom
from pathlib import Path

import pytest

from meshreport import pipeline
from meshreport.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
EVIL = "v2\x1b[31m\nfake\x00\x07\u202e"


def _hostile_snapshot(path: Path) -> None:
    """The sample with version v2 renamed to EVIL in every series (a label value from traffic)."""
    snap = pipeline.load(SAMPLE)
    for q in snap.queries:
        for s in q.series:
            for k, v in s.labels.items():
                if v == "v2" and k.endswith("canonical_revision"):
                    s.labels[k] = EVIL
    pipeline.save(snap, path)


def _render(capsys, snap: Path, out: Path) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(["render", str(snap), "--no-pdf", "-o", str(out)])
    return exc.value.code, capsys.readouterr().err


def test_control_characters_in_names_keep_every_svg_well_formed(tmp_path, capsys):
    snap = tmp_path / "evil.mrsnap"
    _hostile_snapshot(snap)
    code, err = _render(capsys, snap, tmp_path / "site")
    assert code == 0, err
    svgs = sorted((tmp_path / "site").rglob("*.svg"))
    assert svgs
    for svg in svgs:
        xml.dom.minidom.parse(str(svg))  # raises on an ill-formed picture
    shown = "".join(p.read_text() for p in svgs)
    assert "v2\\x1b[31m\\nfake\\x00\\x07\\u202e" in shown  # the name, visibly escaped
    assert "could not be drawn" not in shown


def test_a_crashing_dot_is_said_in_the_report(tmp_path, capsys, monkeypatch):
    """A `dot` that dies of SIGSEGV (a fault injected in front of the real one): the report is still
    written and each picture's place says it could not be drawn and why."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\nkill -SEGV $$\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code, err = _render(capsys, SAMPLE, tmp_path / "site")
    assert code == 0, err
    site = tmp_path / "site"
    mesh = site / "img" / "mesh.svg"
    text = mesh.read_text()
    xml.dom.minidom.parse(str(mesh))
    assert "This picture could not be drawn." in text and "killed by signal 11" in text
    index = (site / "index.html").read_text()
    assert "This picture could not be drawn (Graphviz failed, killed by signal 11)" in index
