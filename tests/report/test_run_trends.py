""" "Trends across runs": an archive of five runs draws five-point lines per scope (trend.py, report/run_trends.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers import mesh_changes as mc  # noqa: E402
from test_site import _chromium  # noqa: E402

from meshreport import pipeline  # noqa: E402
from meshreport.cli import main  # noqa: E402
from meshreport.settings import Settings  # noqa: E402
from meshreport.snapshot.model import Window  # noqa: E402

FACTORS = (1.0, 1.25, 1.5, 1.75, 2.0)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Five nightly runs, busier each night; the last one also 30 % 500s on reviews-v2 -> ratings-v1."""
    root = tmp_path_factory.mktemp("archive")
    for i, f in enumerate(FACTORS):
        w = Window(mc.OLD_WINDOW.start + i * mc.DAY, mc.OLD_WINDOW.end + i * mc.DAY)
        changes = [mc.scale_rates(f)] + ([mc.error_share("reviews-v2", "ratings-v1", 0.3)] if i == 4 else [])
        run = root / f"2024-01-{i + 1:02d}T010000Z"  # archive run ids: the window end
        run.mkdir()
        pipeline.save(mc.snapshot(w, changes), run / "snapshot.mrsnap")
    (root / "latest").symlink_to(run)
    return root


def test_five_runs_give_five_points(archive):
    points = pipeline.trend_points(archive, 10, Settings.load(env={}))
    assert len(points) == 5 and [p.end for p in points] == sorted(p.end for p in points)
    mesh = [p.scopes[""] for p in points]
    base = mesh[0].requests
    assert [round(t.requests / base, 3) for t in mesh] == list(FACTORS)  # requests counted once per run
    assert mesh[-1].error_pct > 3 * mesh[0].error_pct
    assert all(t.p95 is not None and t.p95 > 0 for t in mesh)
    assert set(points[0].scopes) == {"", "bookinfo", "istio-system"}
    assert len(pipeline.trend_points(archive, 3, Settings.load(env={}))) == 3


def test_report_draws_the_trend(archive, tmp_path, capsys):
    latest = sorted(p for p in archive.iterdir() if p.is_dir() and not p.is_symlink())[-1]
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exc:
        main(["render", str(latest / "snapshot.mrsnap"), "--trend-archive", str(archive), "--no-pdf", "-o", str(out)])
    assert exc.value.code == 0, capsys.readouterr().err
    dom = _chromium("--dump-dom", (out / "index.html").as_uri(), tmp_path=tmp_path)
    section = dom[dom.index('id="sec-run-trends"') :]
    section = section[: section.index("</section>")]
    assert "5 runs" in section and ">Mesh<" in section and ">bookinfo<" in section
    lines = re.findall(r'<polyline points="([^"]+)"', section)
    assert lines and all(len(pts.split()) == 5 for pts in lines)
    mesh_requests = [float(xy.split(",")[1]) for xy in lines[0].split()]
    assert mesh_requests == sorted(mesh_requests, reverse=True)  # SVG y falls as requests grow
    assert "requests over 5 runs" in section
