"""report.pdf made by the real WeasyPrint, read back with poppler's pdftotext."""

from __future__ import annotations

import subprocess

import pytest
from report_mesh import EVIL, QUOTE_AMP

from meshreport.report.pdf import LocalOnlyFetcher


def _pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _pages(path) -> list[str]:
    return _pdftotext(path).split("\f")


def test_pdf_has_the_report_content(small_report):
    out, files = small_report
    assert files.pdf == out / "report.pdf"
    assert files.pdf.read_bytes()[:5] == b"%PDF-"
    text = _pdftotext(files.pdf)
    for word in (
        "Service mesh report",
        "Mesh topology",
        "Busiest edges",
        "Namespace shop",
        "Namespace edge",
        "ingress-gw",
        "web-v1",
        "api-v1",
        "orders-db",
        "42.50 req/s",
        "10.0 %",
        "12.3 kB/s",
        "timeout after 30s",
        "Data completeness",
    ):
        assert word in text, word


def test_pdf_running_header_and_page_footer(small_report):
    out, _ = small_report
    pages = [p for p in _pages(out / "report.pdf") if p.strip()]
    n = len(pages)
    assert n >= 4
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in page
    # From page 2 on: the document title left and the current section right.
    assert "Service mesh report" in pages[1] and "Summary" in pages[1]
    # Each namespace gets one page: picture, legend and busiest edges, its name in the running header.
    shop = [p for p in pages if "Namespace shop" in p and "Busiest edges" in p]
    assert len(shop) == 1 and "Legend" not in shop[0] and "Failure" in shop[0]


def test_pdf_shows_hostile_names_as_text(small_report):
    out, _ = small_report
    raw = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True).stdout
    lines = [ln.removeprefix("✖ ").removeprefix("▲ ") for ln in raw.splitlines()]  # a status symbol may lead
    # The topology pictures draw the name as one line of real text (SVG text, not an image).
    assert lines.count(EVIL) >= 2  # mesh picture and the shop picture
    assert lines.count(QUOTE_AMP) >= 2
    # Table cells may wrap a long name; without line breaks it is the same text.
    flat = raw.replace("\n", "")
    assert flat.count(EVIL) >= 6  # pictures, busiest edges, node table, traffic table


def test_pdf_fetcher_serves_only_the_report_folder(tmp_path):
    (tmp_path / "ok.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    fetch = LocalOnlyFetcher(tmp_path)
    assert fetch.fetch((tmp_path / "ok.svg").as_uri()) is not None
    with pytest.raises(ValueError, match="outside the report folder"):
        fetch.fetch("file:///etc/passwd")
    with pytest.raises(ValueError):
        fetch.fetch("http://example.com/x.png")
