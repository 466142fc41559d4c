""" "Since the previous report": the overview section, table marks, previous/current tables, in the
site (real headless Chromium) and the PDF (real WeasyPrint, read back with pdftotext)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers import mesh_changes as mc  # noqa: E402
from test_site import _chromium  # noqa: E402

from meshreport import pipeline  # noqa: E402
from meshreport.report import since  # noqa: E402,F401  (registers the section builder)
from meshreport.report.model import build_model  # noqa: E402
from meshreport.settings import Settings  # noqa: E402

SETTINGS = Settings.load(env={})
HOSTILE = "<b>x</b>"


def _analysis(old, new):
    """The new snapshot's analysis with its comparison, as `render --baseline` makes it."""
    options = pipeline.AnalysisOptions.for_report(suppressions=pipeline.suppressions(SETTINGS))
    previous = pipeline.digest_snapshot(old, SETTINGS)
    return pipeline.compare_analysis(previous, new, pipeline.analyse(new, options), SETTINGS)


@pytest.fixture(scope="module")
def known():
    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES)
    return new, _analysis(old, new)


def test_section_opens_the_overview(known):
    new, analysis = known
    model = build_model(new, analysis)
    [sec] = model.top_sections
    assert sec.title == "Since the previous report"
    v = sec.data
    assert v.previous == "2024-01-01 00:00 UTC – 2024-01-01 01:00 UTC"
    assert [(r.subject, r.text) for r in v.regressions][:3] == [
        ("service bookinfo/ratings", "health Degraded → Failure"),
        ("app bookinfo/ratings v1", "health Degraded → Failure"),
        ("app bookinfo/reviews v2", "health Degraded → Failure"),
    ]
    assert len(v.regressions) == 10 and v.improvements == []
    assert [f.object_ref for f in v.new_findings] == [
        "DestinationRule bookinfo/reviews",
        "Deployment bookinfo/ratings-v2",
    ]
    assert [f.object_ref for f in v.resolved_findings] == ["DestinationRule bookinfo/details"]
    assert [o.title for o in v.other] == ["Disappeared", "Config changes"]


def test_tables_mark_changed_health_and_sides(known):
    new, analysis = known
    model = build_model(new, analysis)
    ns = next(n for n in model.namespaces if n.name == "bookinfo")
    marked = {(r.name, r.change) for r in ns.nodes if r.change}
    assert marked == {("ratings", "was Degraded"), ("ratings v1", "was Degraded"), ("reviews v2", "was Degraded")}
    [side] = [s for s in ns.sections if s.id == "since-bookinfo"]
    rows = {r.name: r for r in side.data}
    r = rows["ratings v1"]
    assert (r.health_before, r.health_now, r.error_before, r.error_now, r.changed) == (
        "Degraded",
        "Failure",
        "3.0 %",
        "17.8 %",
        True,
    )
    assert rows["details v1"].changed is False and rows["details v1"].rate_before == rows["details v1"].rate_now
    assert side.data[0].changed and not side.data[-1].changed  # changed ones first


def test_new_edge_is_marked():
    without = mc.snapshot(mc.OLD_WINDOW, [mc.remove_edge("details-v1", "www.googleapis.com")])
    new = mc.snapshot(mc.NEW_WINDOW)
    model = build_model(new, _analysis(without, new))
    ns = next(n for n in model.namespaces if n.name == "bookinfo")
    assert {(e.source.name, e.dest.name) for e in ns.edges if e.change == "new"} == {("details v1", "googleapis")}


def test_no_baseline_no_section(known):
    new, analysis = known
    model = build_model(new, analysis.with_comparison(None))
    assert model.top_sections == [] and not any(n.change for ns in model.namespaces for n in ns.nodes)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The rendered report (site and PDF) for a pair whose new finding carries a hostile subset name."""
    changes = (*mc.KNOWN_OBJECT_CHANGES, mc.edit_object("DestinationRule", "ratings", mc.add_subset(HOSTILE)))
    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, changes)
    out = tmp_path_factory.mktemp("since") / "report"
    pipeline.render(new, _analysis(old, new), out)
    return out


def test_site_in_chromium(site, tmp_path):
    dom = _chromium("--dump-dom", (site / "index.html").as_uri(), tmp_path=tmp_path)
    at = dom.index('id="sec-since"')
    assert at < dom.index('id="topology"')  # the overview opens with it
    assert "Since the previous report" in dom and "became plaintext (mTLS 100.0 % → 0 %)" in dom
    assert "The Subset &lt;b&gt;x&lt;/b&gt; defined" in dom and "<b>x</b>" not in dom
    ns = _chromium("--dump-dom", (site / "namespaces/bookinfo.html").as_uri(), tmp_path=tmp_path)
    assert "Previous and current report" in ns and 'class="tag tag-change">was Degraded<' in ns


def test_pdf_has_the_section(site):
    text = subprocess.run(
        ["pdftotext", "-layout", str(site / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    summary = next(p for p in pages if "Since the previous report" in p)
    assert pages.index(summary) == 1  # right after the cover: the summary opens with it
    assert summary.index("Since the previous report") < summary.index("Regressions")
    assert "health Degraded → Failure" in text
