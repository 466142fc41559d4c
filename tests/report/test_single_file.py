"""--single-file: report.html holds every page of the site in one file that fetches nothing,
checked in the real headless Chromium (no request but the file itself, links and anchors resolve,
no payload runs, axe-core in light and dark mode, 420 px) and by the Nu Html Checker."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from report_mesh import build_small_graph_with_health, build_small_snapshot
from trouble_mesh import trouble_snapshot

from meshreport import pipeline
from meshreport.analysis import Analysis
from meshreport.cli import main
from meshreport.snapshot.store import read

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.browser import check_site, nu_html_check  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"


def _single(snap, out: Path, analysis: Analysis | None = None) -> Path:
    analysis = analysis or pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    pipeline.render(snap, analysis, out, pipeline.RenderOptions(pdf=False, now=snap.window.end, single_file=True))
    alone = out.parent / f"{out.name}-alone"  # the file by itself: nothing of the site beside it
    alone.mkdir()
    shutil.copy(out / "report.html", alone / "report.html")
    return alone / "report.html"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    base = tmp_path_factory.mktemp("single")
    return {
        "bookinfo": _single(read(SAMPLE), base / "bookinfo"),
        "trouble": _single(trouble_snapshot(), base / "trouble"),
        "hostile": _single(build_small_snapshot(), base / "hostile", Analysis.of(build_small_graph_with_health())),
    }


@pytest.mark.parametrize("name", ["bookinfo", "trouble", "hostile"])
def test_the_file_loads_clean_alone_in_chromium(files, name):
    assert check_site(files[name].parent, only_self=True, dark=True) == []


def test_the_file_is_valid_html(files):
    assert nu_html_check(list(files.values())) == []


def test_the_file_holds_every_page_and_picture(files):
    html = files["bookinfo"].read_text()
    site = files["bookinfo"].parents[1] / "bookinfo"
    # the per-service pages (one per workload) stay in the site; links to them become plain text
    pages = [p for p in site.rglob("*.html") if p.name != "report.html" and "services" not in p.parts]
    assert list(site.glob("services/*/*.html")) and "services/" not in html
    assert len(pages) >= 4 and html.count('<section class="page"') == len(pages)
    assert "<svg" in html and "<img" not in html and "<link" not in html
    assert "<style>" in html and 'class="data edges sortable"' in html
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith("#") for r in refs)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # pages and pictures share no id
    assert 'Namespace <span class="hl">bookinfo</span>' in html and "reviews" in html


def test_hostile_names_stay_text(files):
    html = files["hostile"].read_text()
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert html.count("<script") == 1  # the report's own sorter, inline


def test_render_and_run_write_it_on_request(tmp_path, capsys):
    out = tmp_path / "r"
    with pytest.raises(SystemExit) as exc:
        main(["render", str(SAMPLE), "--no-pdf", "--single-file", "-o", str(out)])
    assert exc.value.code == 0
    assert (out / "report.html").is_file() and "report.html" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["render", str(SAMPLE), "--no-pdf", "-o", str(tmp_path / "plain")])
    assert exc.value.code == 0 and not (tmp_path / "plain" / "report.html").exists()
    run_out = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["run", "--from-snapshot", str(SAMPLE), "--no-pdf", "--single-file", "-q", "-o", str(run_out)])
    assert exc.value.code == 0, capsys.readouterr().err
    assert (run_out / "report.html").is_file()
    assert '"singleFile": "report.html"' in (run_out / "summary.json").read_text()
