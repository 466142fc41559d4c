"""Every page of four reports in the real headless Chromium: bookinfo, the mesh with one failing
and one slow edge, a config-only report and the hand-built mesh whose names carry HTML and script
payloads. No console errors, no request outside the report folder, every link and anchor
resolves, no payload runs, no blank page, nothing wider than 420 px outside a scrolling table
box, no axe-core WCAG 2 A/AA violation; the Nu Html Checker finds no error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from report_mesh import T0, build_small_graph_with_health, build_small_snapshot
from trouble_mesh import trouble_snapshot

from meshreport import pipeline
from meshreport.analysis import Analysis
from meshreport.snapshot.store import read

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.browser import check_site, nu_html_check  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"


def _render(snap, out: Path, analysis: Analysis | None = None) -> Path:
    analysis = analysis or pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    pipeline.render(snap, analysis, out, pipeline.RenderOptions(pdf=False, now=snap.window.end))
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    bookinfo = read(SAMPLE)
    config_only = read(SAMPLE)
    config_only.queries = []
    hostile = build_small_snapshot()
    return {
        "bookinfo": _render(bookinfo, base / "bookinfo"),
        "trouble": _render(trouble_snapshot(), base / "trouble"),
        "config-only": _render(config_only, base / "config-only"),
        "hostile": _render(hostile, base / "hostile", Analysis.of(build_small_graph_with_health())),
    }


@pytest.mark.parametrize("name", ["bookinfo", "trouble", "config-only", "hostile"])
def test_every_page_loads_clean_in_chromium(reports, name):
    assert check_site(reports[name]) == []


def test_every_page_is_valid_html(reports):
    pages = [p for out in reports.values() for p in sorted(out.rglob("*.html"))]
    assert len(pages) >= 15
    assert nu_html_check(pages) == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The browser checks are not vacuous: a page with each fault is reported for it."""
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title>'
        '<script>console.error("boom"); document.title = "pwned";</script></head><body>'
        '<p style="width:900px">' + "wide text " * 20 + "</p>"
        '<img src="https://example.com/x.png" alt="x"><a href="missing.html">gone</a> <a href="#nowhere">x</a>'
        "</body></html>"
    )
    found = "\n".join(check_site(tmp_path, axe=False))
    for fault in ("console error: boom", "a payload ran", "outside the report folder", "broken link missing.html",
                  "broken anchor #nowhere", "wider than 420 px"):  # fmt: skip
        assert fault in found, fault
    _ = T0


def test_service_page_tables_sort_by_their_numbers(reports):
    """Service pages' lean tables carry no data-v: sort.js reads "175 ms", "1.20 s", "<0.1 %" from the
    text, so a click on p95 orders reviews' backends 175, 175, 21 ms (as text "21 ms" would come first)."""
    from helpers.browser import ARGS, chromium
    from playwright.sync_api import sync_playwright

    page_path = reports["bookinfo"] / "services/bookinfo/svc-reviews.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri(), wait_until="load")
            table = page.locator("table.lean").nth(1)  # outbound: reviews v1, v2, v3
            table.locator("th button", has_text="p95").click()
            cells = table.locator("tbody tr td:nth-child(7)").all_inner_texts()
            assert cells == ["175 ms", "175 ms", "21 ms"], cells
            table.locator("th button", has_text="p95").click()
            assert table.locator("tbody tr td:nth-child(7)").all_inner_texts() == ["21 ms", "175 ms", "175 ms"]
        finally:
            browser.close()
