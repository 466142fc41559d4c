"""The PDF of a mesh with more namespaces than it has pages for: at most ~40 pages, a cover with
the contents, a one-page summary, one page per namespace (the worst 16; the rest counted), the
legend beside each picture (read back with pdftotext)."""

from __future__ import annotations

import re
import subprocess

import pytest

from meshreport import pipeline
from meshreport.report.model import PRINT_NAMESPACES
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes

END = 1_704_070_800.0
NAMESPACES = 20


@pytest.fixture(scope="module")
def pdf_pages(tmp_path_factory):
    snap = meshes.scalable_snapshot(NAMESPACES, 300, seed=2, window=Window(END - 3600, END))
    out = tmp_path_factory.mktemp("bounds") / "report"
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    pipeline.render(snap, analysis, out, pipeline.RenderOptions(now=END))
    assert not list(out.rglob("*.png"))  # the PDF's PNGs are not left in the site
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [p for p in text.split("\f") if p.strip()]


def _header(page: str) -> str:
    """The running header's right part: the chapter the page belongs to."""
    return page.strip().splitlines()[0].split("  ")[-1].strip()


def test_cover_contents_and_page_bound(pdf_pages):
    assert len(pdf_pages) <= 40
    cover = pdf_pages[0]
    assert "Contents" in cover and "Summary" in cover
    assert f"{NAMESPACES + 1 - PRINT_NAMESPACES} more namespaces" in " ".join(cover.split())


def test_the_summary_is_one_page(pdf_pages):
    summary = " ".join(pdf_pages[1].split())
    assert _header(pdf_pages[1]) == "Summary"
    for part in ("Health", "Failing and degraded", "Edges with the highest error share", "Slowest edges (p95)",
                 "Config findings"):  # fmt: skip
        assert part in summary, part
    assert _header(pdf_pages[2]) != "Summary"


def test_each_namespace_gets_one_page_with_the_legend_beside_its_picture(pdf_pages):
    toc = re.findall(r"Namespace (\S+) \.+ *(\d+)", pdf_pages[0])
    assert len(toc) == PRINT_NAMESPACES
    numbers = [int(n) for _, n in toc]
    assert numbers == list(range(numbers[0], numbers[0] + PRINT_NAMESPACES))  # one page each
    for name, n in toc:
        page = pdf_pages[int(n) - 1]
        assert _header(page) == f"Namespace {name}"
        assert "Traffic topology of namespace" in page and "Degraded" in page and "Edge labels" in page
        assert "Busiest edges" in page
