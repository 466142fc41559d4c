"""Worst first: a failing edge and a slow edge hidden among busier healthy ones lead the overview
and the PDF's first pages (synthetic mesh evaluated through the real collection plan)."""

from __future__ import annotations

import re
import subprocess
import zlib

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


def _pdf_strings(path) -> bytes:
    """The PDF's bytes with every Flate stream inflated (link annotations may sit in object streams)."""
    raw = path.read_bytes()
    out = [raw]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", raw, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return b"\n".join(out)


def test_pdf_has_no_links_outside_itself(trouble):
    data = _pdf_strings(trouble / "report.pdf")
    assert b"/URI" not in data and b"file:" not in data
    assert b"/Dest" in data or b"/D " in data  # the contents page links into the document


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
