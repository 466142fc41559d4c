"""The committed bookinfo sample, rendered end to end (graph build, real dot, WeasyPrint)."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from meshreport import pipeline
from meshreport.report import format as fmt
from meshreport.report.edges import report_edges
from meshreport.snapshot.store import read

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def bookinfo(tmp_path_factory):
    snap = read(SAMPLE)
    out = tmp_path_factory.mktemp("bookinfo") / "report"
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    index = pipeline.render(snap, analysis, out, pipeline.RenderOptions(now=snap.window.end))
    return snap, out, index


def _picture_edges(svg_path: Path) -> set[tuple[str, str]]:
    """(source, dest) for every edge drawn in a Graphviz SVG, read from the edge titles
    (the tooltips), which name both ends: "productpage v1 → reviews (http): ..."."""
    root = ET.parse(svg_path).getroot()
    pairs = set()
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if title is not None and g.get("class") == "edge":
            src, rest = title.text.split(" → ", 1)
            pairs.add((src, rest.rsplit(" (", 1)[0]))
    return pairs


def test_picture_titles_name_the_workload_and_its_numbers(bookinfo):
    _, out, _ = bookinfo
    root = ET.parse(out / "img/ns-bookinfo.svg").getroot()
    titles = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") in ("node", "edge")]
    assert not [t for t in titles if re.fullmatch(r"n\d+(->n\d+)?", t)]  # no bare DOT ids
    assert "reviews v2 (bookinfo): app, degraded" in titles
    assert any(t.startswith("reviews v2 → ratings (http): 3.50 req/s, 5.0 % errors") for t in titles)


def test_bookinfo_site_files(bookinfo):
    _, out, index = bookinfo
    assert index == out / "index.html" and index.is_file()
    for rel in ("namespaces/bookinfo.html", "img/mesh.svg", "img/ns-bookinfo.svg", "report.pdf"):
        assert (out / rel).is_file(), rel


def test_bookinfo_picture_shows_productpage_reviews_versions_ratings(bookinfo):
    _, out, _ = bookinfo
    for picture in ("img/mesh.svg", "img/ns-bookinfo.svg"):
        pairs = _picture_edges(out / picture)
        assert ("productpage v1", "reviews") in pairs
        for v in ("v1", "v2", "v3"):
            assert ("reviews", f"reviews {v}") in pairs
        assert ("reviews v2", "ratings") in pairs and ("reviews v3", "ratings") in pairs
        assert ("reviews v1", "ratings") not in pairs  # v1 does not call ratings
        assert ("ratings", "ratings v1") in pairs
        assert ("productpage v1", "details") in pairs


def test_bookinfo_pages_show_the_graph_rates(bookinfo):
    snap, out, _ = bookinfo
    graph = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report()).graph
    html = (out / "namespaces/bookinfo.html").read_text()
    for e in graph.edges.values():
        src, dst = graph.nodes[e.source], graph.nodes[e.dest]
        if "bookinfo" in (src.namespace, dst.namespace) and e.protocol == "http":
            assert fmt.req_rate(e.total) in html, (src.label, dst.label)
    index = (out / "index.html").read_text()
    # Service -> own workload hops repeat their caller's edge and are not listed on their own.
    top = max((e for e, _hop in report_edges(graph) if e.protocol == "http"), key=lambda e: e.total)
    assert fmt.req_rate(top.total) in index.split('id="busiest"')[1].split("</table>")[0]


def test_bookinfo_pdf_names_every_service(bookinfo):
    snap, out, _ = bookinfo
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    services = {o.name for o in snap.objects_of("Service") if o.namespace == "bookinfo"}
    assert {"productpage", "details", "reviews", "ratings"} <= services
    for name in sorted(services):
        assert name in text, name
    for v in ("reviews v1", "reviews v2", "reviews v3", "ratings v1"):
        assert v in text
