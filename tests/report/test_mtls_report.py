"""End to end: `meshreport synth mtls` -> `meshreport render` -> the Mutual TLS section in the HTML pages,
the PDF (real WeasyPrint, read with pdftotext) and mtls.json, with both findings and the plain-text caller."""

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
    section = text.split("mTLS: configured and seen", 1)[1]
    assert "Ready for STRICT : namespace shop." in section
    assert "Blocks STRICT : billing/invoices-v1." in section and CALLER in section
    assert "kind: PeerAuthentication" in section and "mode: STRICT" in section
    # configured mode next to the traffic share: billing saw 4.5 req/s of which 0.5 plain text
    assert re.search(r"billing PERMISSIVE PeerAuthentication billing/default \(namespace\) 88\.9 ?%", section), section


def test_namespace_pages_carry_their_own_findings(mtls_report):
    billing = _text((mtls_report / "namespaces/billing.html").read_text())
    shop = _text((mtls_report / "namespaces/shop.html").read_text())
    assert "Blocks STRICT :" in billing and CALLER in billing and "Ready for STRICT :" not in billing
    assert "Ready for STRICT :" in shop and CALLER not in shop and "Blocks STRICT :" not in shop


def test_pdf_text_has_both_findings_and_the_caller(mtls_report):
    text = subprocess.run(
        ["pdftotext", str(mtls_report / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "mTLS: configured and seen" in flat and "Ready for STRICT" in flat and "Blocks STRICT" in flat
    assert CALLER in flat.replace("- ", "-")


def test_json_has_both_findings_and_the_caller(mtls_report):
    doc = json.loads((mtls_report / "mtls.json").read_text())
    kinds = {(f["kind"], f["namespace"], f["workload"]) for f in doc["findings"]}
    assert kinds == {("ready-for-strict", "shop", None), ("blocks-strict", "billing", "invoices-v1")}
    (block,) = [f for f in doc["findings"] if f["kind"] == "blocks-strict"]
    assert [c["caller"] for c in block["callers"]] == [CALLER]
    assert block["callers"][0]["security"] == "none" and block["callers"][0]["requests"] == pytest.approx(1800)
    assert doc["floor"]["requests"] > 0 and doc["traffic_collected"] is True
    shares = {n["namespace"]: n["traffic"]["request_share"] for n in doc["namespaces"]}
    assert shares["shop"] == 100.0 and shares["billing"] == pytest.approx(88.89, abs=0.01)
