"""End to end: `meshreport synth mtls` -> `meshreport render` -> the one Mutual TLS section in the HTML pages,
the PDF (real WeasyPrint, read with pdftotext), mtls.json and the findings, with both findings and the
plain-text caller."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from meshreport.cli import main

CALLER = "jobs/nightly-export-v1"


def _run(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code in (0, None)


@pytest.fixture(scope="module")
def mtls_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("mtls")
    _run(["synth", "mtls", "-o", str(d / "mtls.mrsnap")])
    _run(["render", str(d / "mtls.mrsnap"), "-o", str(d / "out")])
    return d / "out"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_overview_shows_both_findings_with_the_caller(mtls_report):
    text = _text((mtls_report / "index.html").read_text())
    assert text.count("Mutual TLS Configured:") == 1  # one section, not two
    section = text.split("Mutual TLS Configured:", 1)[1].split("Data completeness", 1)[0]
    assert "MR0101 Ready for STRICT : namespace shop." in section
    assert "MR0102 Blocks STRICT : Deployment billing/invoices-v1." in section and CALLER in section
    assert "kind: PeerAuthentication" in section and "mode: STRICT" in section
    # configured mode next to the traffic share: billing saw 4.5 req/s of which 0.5 plain text; both of its
    # workloads seen are PERMISSIVE
    assert re.search(r"billing PERMISSIVE PeerAuthentication billing/default \(namespace\) 2 of 2 88\.9 ?%", section)
    assert re.search(r"payments STRICT PeerAuthentication payments/default \(namespace\) 0 of 1 100\.0 ?%", section)
    # the plain-text edge, and only that one, is listed
    plain = section.split("Edges with plain-text traffic", 1)[1]
    assert "nightly-export v1" in plain and "invoices v1" in plain and "web" not in plain
    assert "5 of 6 edges with traffic were fully mTLS" in section


def test_namespace_pages_carry_their_own_findings(mtls_report):
    billing = _text((mtls_report / "namespaces/billing.html").read_text())
    shop = _text((mtls_report / "namespaces/shop.html").read_text())
    assert "Blocks STRICT :" in billing and CALLER in billing and "Ready for STRICT :" not in billing
    assert "Ready for STRICT :" in shop and CALLER not in shop and "Blocks STRICT :" not in shop
    # per workload on the namespace page, and the PERMISSIVE ones named
    assert re.search(r"invoices-v1 PERMISSIVE PeerAuthentication billing/default \(namespace\) 88\.9 ?%", billing)
    assert "PERMISSIVE workloads (accept plain text): invoices-v1 , ledger-v1" in billing
    # the namespace table's mTLS column is the section's share
    overview = _text((mtls_report / "index.html").read_text())
    assert re.search(r"billing\s.*?88\.9 %", overview.split("Namespaces", 1)[1])


def test_pdf_text_has_both_findings_and_the_caller(mtls_report):
    text = subprocess.run(
        ["pdftotext", str(mtls_report / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "Mutual TLS" in flat and "Ready for STRICT" in flat and "Blocks STRICT" in flat
    assert "MR0101" in flat and "MR0102" in flat
    assert CALLER in flat.replace("- ", "-")
    assert "Ready for STRICT 1, Blocks STRICT 1, Will break 0" in flat  # the summary page's sentence


def test_json_has_both_findings_and_the_caller(mtls_report):
    doc = json.loads((mtls_report / "mtls.json").read_text())
    kinds = {(f["kind"], f["namespace"], f["workload"]) for f in doc["findings"]}
    assert kinds == {("ready-for-strict", "shop", None), ("blocks-strict", "billing", "invoices-v1")}
    assert {(f["code"], f["severity"]) for f in doc["findings"]} == {("MR0101", "info"), ("MR0102", "warning")}
    (block,) = [f for f in doc["findings"] if f["kind"] == "blocks-strict"]
    assert block["object"] == {"kind": "Deployment", "namespace": "billing", "name": "invoices-v1"}
    assert [c["caller"] for c in block["callers"]] == [CALLER]
    assert block["callers"][0]["security"] == "none" and block["callers"][0]["requests"] == pytest.approx(1800)
    assert doc["floor"]["requests"] > 0 and doc["traffic_collected"] is True
    shares = {n["namespace"]: n["traffic"]["request_share"] for n in doc["namespaces"]}
    assert shares["shop"] == 100.0 and shares["billing"] == pytest.approx(88.89, abs=0.01)


def test_findings_page_lists_them_with_the_caller(mtls_report):
    text = _text((mtls_report / "findings.html").read_text())
    assert "MR0101" in text and "MR0102" in text and CALLER in text


def test_fail_on_counts_them(tmp_path, mtls_report):
    snap = mtls_report.parent / "mtls.mrsnap"
    with pytest.raises(SystemExit) as e:
        main(["render", str(snap), "-o", str(tmp_path / "out"), "--no-pdf", "--fail-on", "warning"])
    assert e.value.code == 3  # MR0102 is a warning
    _run(["render", str(snap), "-o", str(tmp_path / "out2"), "--no-pdf", "--fail-on", "error"])


def test_a_suppressed_finding_is_counted_not_shown():
    from meshreport import pipeline
    from meshreport.report.model import build_model
    from meshreport.synthetic.mtls_mix import mtls_snapshot
    from meshreport.validation.suppress import parse_cli

    snap = mtls_snapshot()
    options = pipeline.AnalysisOptions.for_report(suppressions=[parse_cli("MR0102=Deployment billing/*")])
    model = build_model(snap, pipeline.analyse(snap, options))
    (view,) = [s.data for s in model.sections if s.id == "mtls"]
    assert [f.code for f in view.findings] == ["MR0101"] and view.suppressed == 1
    billing = next(ns for ns in model.namespaces if ns.name == "billing")
    (ns_view,) = [s.data for s in billing.sections if s.id == "mtls"]
    assert ns_view.findings == [] and ns_view.suppressed == 1
    assert [r.dest.name for r in ns_view.plaintext] and ns_view.edges_total == 3
    assert "Blocks STRICT 0" in model.mtls_headline
