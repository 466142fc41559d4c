"""Print styles: no table wider than the page, in the PDF (WeasyPrint's own layout of the print
document, read box by box) and in the site printed from a browser (Chromium's print media at A4
width), for a mesh whose names are as long as Kubernetes allows and carry no break opportunity."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import weasyprint

from meshreport import pipeline
from meshreport.report import pdf
from meshreport.report.build import write_pictures
from meshreport.report.model import build_model
from meshreport.resources import templates_dir
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes as synth
from meshreport.synthetic.model import Flow, Latency, Mesh, Response, Service, Workload

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.browser import ARGS, chromium  # noqa: E402

T0 = 1_704_067_200.0
WINDOW = Window(T0, T0 + 3600)
LATENCY = Latency(((20.0, 0.7), (90.0, 0.3)))
NAMESPACES = 8


def _long(stem: str, i: int) -> str:
    """A 63-character DNS label (the longest Kubernetes allows) without a hyphen to break at."""
    return (f"{stem}{i}" + "reconciliationbackendprocessorworkerqueueconsumer" * 2)[:63]


def wide_mesh() -> Mesh:
    gw = "istio-ingressgateway"
    gateway = Workload("istio-system", gw, gw, "", "gw", port=8080, gateway=True)
    namespaces = [_long("payments", i) for i in range(NAMESPACES)]
    workloads, services, flows = [gateway], [], []
    previous = gateway
    for i, ns in enumerate(namespaces):
        app = _long("ledger", i)
        w = Workload(ns, app, app, "v1", app)
        s = Service(ns, app, 9080, "http", app)
        workloads.append(w)
        services.append(s)
        responses = (Response("200", 9.0), Response("503", 1.0, "UF")) if i == 3 else (Response("200", 10.0),)
        flows.append(Flow(previous, s, w, "http", responses, LATENCY))
        previous = w
    return Mesh(name="wide", workloads=workloads, services=services, flows=flows,
                namespaces=[*namespaces, "istio-system"], facts={"mesh": "wide"})  # fmt: skip


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    mesh = wide_mesh()
    snap = synth.snapshot(mesh, WINDOW, objects=synth.scalable_objects(mesh, WINDOW))
    return snap, pipeline.analyse(snap, pipeline.AnalysisOptions.for_report()), tmp_path_factory.mktemp("wide")


def overflowing_tables(doc: weasyprint.Document) -> list[str]:
    """Each table box whose right edge passes the page's content area, as `page N: <right> > <edge>`."""
    out = []
    for number, page in enumerate(doc.pages, 1):
        area = page._page_box.children[0]  # the <html> box: the page's content area
        edge = area.content_box_x() + area.width
        for box in page._page_box.descendants():
            if getattr(box, "element_tag", None) == "table":
                right = box.border_box_x() + box.border_width()
                if right > edge + 0.5:
                    out.append(f"page {number}: {right:.0f} > {edge:.0f}")
    return out


def test_the_layout_check_finds_a_table_wider_than_the_page():
    """Not vacuous: a table of one unbreakable 400-character cell passes the page edge."""
    css = weasyprint.CSS(filename=str(templates_dir() / "print.css"))
    html = "<table><tr><td>" + "x" * 400 + "</td></tr></table>"
    assert overflowing_tables(weasyprint.HTML(string=html).render(stylesheets=[css])) != []


def test_no_pdf_table_is_wider_than_the_page(wide):
    snap, analysis, out = wide
    model = build_model(snap, analysis, now=snap.window.end, pdf=True)
    write_pictures(model, analysis.graph, out / "pdf", pdf=True)
    doc = pdf.render_document(model, out / "pdf")
    text = "".join(box.text for page in doc.pages for box in page._page_box.descendants() if hasattr(box, "text"))
    assert "ledger3" in text and "Istio configuration" in text  # the long names and the wide tables are there
    assert overflowing_tables(doc) == []


def test_the_site_printed_from_a_browser_fits_the_page(wide):
    """Chromium's print media at A4 width (794 px): the navigation is gone, table boxes do not
    scroll (`overflow: visible`), and no element's right edge passes the page."""
    from playwright.sync_api import sync_playwright

    snap, analysis, out = wide
    site = out / "site"
    pipeline.render(snap, analysis, site, pipeline.RenderOptions(pdf=False, now=snap.window.end))
    pages = [site / "index.html", site / "namespaces" / f"{_long('payments', 3)}.html"]
    pages.append(next((site / "services").rglob(f"*{_long('ledger', 3)}*.html")))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 794, "height": 1123})
            page.emulate_media(media="print")
            for path in pages:
                page.goto(path.as_uri(), wait_until="load")
                found = page.evaluate(
                    """() => {
                      const nav = getComputedStyle(document.querySelector('nav.nav')).display;
                      const boxes = [...document.querySelectorAll('.table-box')]
                        .map(b => getComputedStyle(b).overflowX);
                      const wide = [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
                      return {nav, boxes, wide: wide.slice(0, 5)};
                    }"""
                )
                assert found["nav"] == "none", path
                assert found["boxes"] and set(found["boxes"]) == {"visible"}, path
                assert found["wide"] == [], (path.name, found["wide"])
        finally:
            browser.close()
