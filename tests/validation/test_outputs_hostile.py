"""Names, hosts and messages come from the cluster or a pull request: in every findings format a
hostile value stays inert. Each format gets the same two findings whose every string field carries
markup, Markdown, control characters, ANSI escapes, newlines and URL syntax."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest

from meshreport.report.machine import FORMATS, render
from meshreport.snapshot.model import SourceRef
from meshreport.validation.model import Finding, ValidationResult

PAYLOAD = "x<script>alert(1)</script>\n![p](https://evil.example/p.png)[l](javascript:x)|\x1b[31mRED\x07\x00\r"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _result() -> ValidationResult:
    common = {"kind": "VirtualService", "cluster": "Kubernetes", "doc": "doc " + PAYLOAD}
    findings = [
        Finding(
            code="IST0101", severity="error", name="web" + PAYLOAD, namespace="shop" + PAYLOAD,
            message="Referenced host not found: " + PAYLOAD, source=SourceRef("k8s/a b#?%" + PAYLOAD + ".yaml", 3),
            path="spec.http[0]", **common,
        ),
        Finding(
            code="KIA1101", severity="warning", name="live" + PAYLOAD, namespace="shop",
            message="DestinationRule not found " + PAYLOAD, **common,
        ),
    ]  # fmt: skip
    return ValidationResult(findings=findings, objects=2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_raw_control_characters_in_any_format(fmt):
    out = render(_result(), fmt, show="info")
    assert not CONTROL.search(out), (fmt, CONTROL.search(out))


def test_text_is_one_line_per_finding_with_escapes_visible():
    out = render(_result(), "text", show="info")
    lines = out.splitlines()
    finding_lines = [line for line in lines if line.startswith(("Error [", "Warning ["))]
    assert len(finding_lines) == 2  # a newline in a name cannot forge a third finding line
    assert "\\n" in finding_lines[0] and "\\x1b" in finding_lines[0]
    assert len(lines) == 3  # two findings and the summary


def test_junit_is_well_formed_xml_that_keeps_the_text_visible():
    out = render(_result(), "junit", show="info")
    root = ET.fromstring(out.encode())
    failures = root.findall(".//failure")
    assert len(failures) == 2
    body = " ".join((f.text or "") + f.get("message", "") for f in failures)
    assert "<script>" in body  # as text, parsed back from &lt;script&gt;: never markup in the file
    assert "<script>" not in out
    assert "\\x1b" in body


def test_markdown_links_images_html_and_table_cells_are_inert():
    out = render(_result(), "markdown", show="info")
    assert "![p](" not in out and "[l](javascript" not in out
    assert "<script>" not in out
    rows = [line for line in out.splitlines() if line.startswith("| Error") or line.startswith("| Warning")]
    assert len(rows) == 2
    header_cells = 5
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)[1:-1]  # an unescaped pipe would add a cell
        assert len(cells) == header_cells, row


def test_sarif_uris_are_percent_encoded_and_messages_plain():
    doc = json.loads(render(_result(), "sarif", show="info"))
    results = doc["runs"][0]["results"]
    assert len(results) == 2
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not re.search(r"[\s#?<>\"|\\^`{}]", uri.split("://", 1)[-1]), uri
        parts = urlsplit(uri)
        assert not parts.query and not parts.fragment, uri  # '#' and '?' in a name stay in the path


def test_json_yaml_and_codequality_keep_the_value_exactly_or_escaped():
    for fmt in ("json", "codequality"):
        doc = json.loads(render(_result(), fmt, show="info"))
        assert len(doc) == 2
    names = {d["name"] for d in json.loads(render(_result(), "json", show="info"))}
    assert any("<script>" in n for n in names)  # JSON carries data; escaping is the reader's output's job
