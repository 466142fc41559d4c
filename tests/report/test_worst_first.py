"""Worst first: a failing edge and a slow edge hidden among busier healthy ones lead the overview
and the PDF's first pages (synthetic mesh evaluated through the real collection plan)."""

from __future__ import annotations

import re
import subprocess

import pypdf
import pytest
from trouble_mesh import trouble_snapshot

from meshreport import pipeline


@pytest.fixture(scope="module")
def trouble(tmp_path_factory):
    snap = trouble_snapshot()
    out = tmp_path_factory.mktemp("trouble") / "report"
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    pipeline.render(snap, analysis, out, pipeline.RenderOptions(now=snap.window.end))
    return out


def _section(html: str, start: str, end: str = "</table>") -> str:
    return html.split(f'id="{start}"')[1].split(end)[0]


def _rows(table_html: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in re.findall(r"<tr[^>]*><td.*?</tr>", table_html, re.S)]


def test_failing_edge_leads_by_error_share_not_error_rate(trouble):
    index = (trouble / "index.html").read_text()
    rows = _rows(_section(index, "errors"))
    # 12 % of 2 req/s ranks above 0.5 % of 120 req/s although the latter has more errors per second.
    assert rows[0].startswith("checkout v1 shop payments pay → payments v1")
    assert "12.0 %" in rows[0] and "✖ Failure" in rows[0] and "503 12.0 %" in rows[0] and "flags URX 12.0 %" in rows[0]
    assert rows[1].startswith("cart v1 shop inventory shop")
    # Neither is among the busiest edges: that list is the twelve 200 req/s edges.
    assert "checkout" not in _section(index, "busiest")


def test_slow_edge_leads_the_p95_list_with_all_three_quantiles(trouble):
    index = (trouble / "index.html").read_text()
    rows = _rows(_section(index, "slowest"))
    assert rows[0].startswith("search v1 shop catalog shop → catalog v1")
    assert "1.00 s" in rows[0] and "2.35 s" in rows[0] and "2.47 s" in rows[0]  # p50, p95, p99
    assert "100.0 %" in rows[0]  # mTLS share
    assert len(rows) == 10


def test_unhealthy_nodes_carry_the_reason_the_rule_fired(trouble):
    index = (trouble / "index.html").read_text()
    rows = _rows(_section(index, "unhealthy"))
    checkout = next(r for r in rows if r.startswith("checkout v1"))
    assert "outbound http 5xx 12.0 % (failure at ≥ 10 %)" in checkout
    assert [r.split(" ")[0] for r in rows[:3]] == ["payments", "payments", "checkout"]  # failing first
    assert any("▲ Degraded" in r for r in rows[3:])
    counts = _section(index, "health")
    assert 'href="health.html#failure-app">2</a>' in counts  # payments v1, checkout v1
    health = (trouble / "health.html").read_text()
    assert 'id="failure-app"' in health and "outbound http 5xx 12.0 %" in health


def test_namespaces_table_is_worst_first_with_mtls_and_trends(trouble):
    index = (trouble / "index.html").read_text()
    rows = _rows(_section(index, "namespaces"))
    assert [r.split(" ")[0] for r in rows[:2]] == ["pay", "shop"]  # failing, then degraded
    assert all("✔ Healthy" in r for r in rows[2:])
    assert "✖ Failure" in rows[0] and "100.0 %" in rows[0]
    table = _section(index, "namespaces")
    assert table.count('<svg class="spark"') >= 3 and table.count("<polyline") >= 6  # requests and p95 (at least)


def _pdf_pages(path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def test_pdf_summary_page_shows_both_early(trouble):
    pages = _pdf_pages(trouble / "report.pdf")
    assert "Contents" in pages[0]
    summary = " ".join(pages[1].split())
    assert summary.index("Summary") < summary.index("checkout v1")
    assert "12.0 %" in summary and "search v1" in summary and "2.35 s" in summary
    assert "outbound http 5xx 12.0 %" in summary
    assert len([p for p in pages if p.strip()]) <= 40


def pdf_links(path) -> tuple[list[str], int]:
    """(every URI a link annotation points at, how many link within the document), read with a real
    PDF parser: WeasyPrint writes annotations into compressed object streams."""
    uris, inside = [], 0
    for page in pypdf.PdfReader(str(path)).pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            action = action.get_object() if action is not None else {}
            if "/URI" in action:
                uris.append(str(action["/URI"]))
            elif annot.get("/Dest") is not None or action.get("/S") == "/GoTo":
                inside += 1
    return uris, inside


def test_the_link_reader_sees_what_weasyprint_writes(tmp_path):
    """Not vacuous: a file:// link and an anchor in a WeasyPrint PDF are both found."""
    import weasyprint

    html = '<p><a href="file:///tmp/.report.new-x/index.html">out</a> <a href="#here">in</a></p><h1 id="here">x</h1>'
    weasyprint.HTML(string=html).write_pdf(tmp_path / "t.pdf")
    uris, inside = pdf_links(tmp_path / "t.pdf")
    assert uris == ["file:///tmp/.report.new-x/index.html"] and inside == 1


def test_pdf_has_no_links_outside_itself(trouble):
    uris, inside = pdf_links(trouble / "report.pdf")
    assert not [u for u in uris if u.startswith("file:") or ".report.new" in u]
    assert uris == []  # the print document keeps only links into itself
    assert inside > 0  # the contents page links into the document


def test_a_long_namespace_traffic_table_keeps_the_failing_edge_and_says_what_it_left_out(tmp_path, monkeypatch):
    """Above SITE_EDGES rows a namespace page lists the failing and degraded edges first, then the
    busiest, and counts the rest (they stay on each workload's page)."""
    from meshreport.report import model

    monkeypatch.setattr(model, "SITE_EDGES", 2)
    snap = trouble_snapshot()
    out = tmp_path / "report"
    pipeline.render(snap, pipeline.analyse(snap, pipeline.AnalysisOptions.for_report()), out,
                    pipeline.RenderOptions(pdf=False, now=snap.window.end))  # fmt: skip
    html = (out / "namespaces/shop.html").read_text()
    rows = _rows(_section(html, "edges").replace("\n<tr>", "</tr>\n<tr>") + "</tr>")
    assert len(rows) == 2
    assert any("checkout v1" in r and "✖ Failure" in r for r in rows)  # the 12 % edge, among 200 req/s ones
    left = int(re.search(r"(\d+) more edges \(healthy or quieter\)", html).group(1))
    assert left >= 3
    # every edge left out is still on its workload's page: checkout's page lists its failing call
    page = (out / "services/shop/app-checkout-v1.html").read_text()
    assert "✖ Failure" in page.split('id="out"')[1]
