"""Golden tests per output format, SARIF against the SARIF 2.1.0 schema, JUnit structure.

Regenerate goldens after an intended change: MESHREPORT_UPDATE_GOLDEN=1 pytest tests/validation/test_outputs.py
(the run that writes them fails, so a regenerated golden is never compared with itself).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import yaml

from meshreport import __version__
from meshreport.report.machine import FORMATS, render
from meshreport.validation import suppress as sup
from meshreport.validation import validate
from meshreport.validation.model import ValidationResult

from .helpers import objects

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures"
GOLDEN = HERE / "golden"


def _result() -> ValidationResult:
    objs = objects((FIXTURES / "validation/outputs/mesh.yaml").read_text(), file="mesh/mesh.yaml")
    # The DestinationRule stands for an object read from a live cluster: no file, no line.
    objs = [dataclasses.replace(o, source=None) if o.kind == "DestinationRule" else o for o in objs]
    rules = [
        sup.parse_cli("KIA1108=VirtualService web/*"),
        *sup.from_config(
            {"suppressions": [{"code": "IST0128", "resource": "*", "reason": "old exception", "expires": "2026-01-31"}]}
        ),
    ]
    return sup.apply(validate(objs), objs, rules, today=dt.date(2026, 3, 1))


def _scrub(text: str) -> str:
    return text.replace(f'"version": "{__version__}"', '"version": "VERSION"')


EXT = {
    "text": "txt", "json": "json", "yaml": "yaml", "sarif": "sarif", "junit": "xml", "markdown": "md",
    "codequality": "codequality.json",
}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt):
    out = _scrub(render(_result(), fmt, show="info", show_suppressed=True))
    path = GOLDEN / f"findings.{EXT[fmt]}"
    if os.environ.get("MESHREPORT_UPDATE_GOLDEN"):
        path.write_text(out)
        pytest.fail(f"{path.name} regenerated; review the diff and run again without MESHREPORT_UPDATE_GOLDEN")
    assert out == path.read_text()


def test_fixture_covers_every_severity_suppression_and_expiry():
    r = _result()
    c = r.counts()
    assert c["error"] >= 1 and c["warning"] >= 1 and c["suppressed"] == 2
    assert {f.code for f in r.suppressed} == {"IST0101", "KIA1108"}
    assert [e.code for e in r.expired] == ["IST0128"]
    assert any(f.source is None for f in r.active)


def test_text_matches_istioctl_shape():
    out = render(_result(), "text")
    assert (
        'Error [IST0101] (VirtualService bookinfo/reviews mesh/mesh.yaml:6) Referenced host not found: "reviewz"' in out
    )
    assert "[IST0101] (VirtualService shop/legacy" not in out  # suppressed ones only on request
    assert out.rstrip().splitlines()[-1].startswith("Summary: 3 errors, 2 warnings, 0 info; 2 suppressed")


def test_show_filters_listing_but_not_counts():
    out = render(_result(), "json", show="error")
    items = json.loads(out)
    assert items and all(i["severity"] == "error" for i in items)
    assert all("source" in i or i["kind"] == "DestinationRule" for i in items)


def test_sarif_is_valid_and_every_result_has_a_location():
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(render(_result(), "sarif"))
    jsonschema.validate(doc, schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "meshreport"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] and loc["region"]["startLine"] >= 1
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"k8s://Kubernetes/shop/DestinationRule/external-api", "mesh/mesh.yaml"}
    assert sum(1 for r in run["results"] if r.get("suppressions")) == 2


def test_sarif_live_object_gets_a_stable_k8s_uri():
    r = _result()
    r2 = ValidationResult(findings=[dataclasses.replace(f, source=None) for f in r.findings], objects=r.objects)
    doc = json.loads(render(r2, "sarif"))
    uris = {x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for x in doc["runs"][0]["results"]}
    assert "k8s://Kubernetes/bookinfo/VirtualService/reviews" in uris
    jsonschema.validate(doc, json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text()))


def test_sarif_schema_rejects_a_result_without_message():
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(render(_result(), "sarif"))
    del doc["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_junit_counts_match_testcases():
    root = ET.fromstring(render(_result(), "junit"))
    cases = root.findall(".//testcase")
    assert int(root.get("tests")) == len(cases)
    assert int(root.get("failures")) == sum(1 for c in cases if c.find("failure") is not None) == 5
    assert int(root.get("skipped")) == 2
    failure = root.find(".//testcase[@name='IST0101 VirtualService bookinfo/reviews']/failure")
    assert failure is not None and "istio.io" in failure.text


def test_yaml_round_trips_to_the_json():
    r = _result()
    assert yaml.safe_load(render(r, "yaml", show_suppressed=True)) == json.loads(
        render(r, "json", show_suppressed=True)
    )


def test_markdown_escapes_cluster_values():
    out = render(_result(), "markdown")
    assert "a\\|b&lt;c&gt;" in out and "pipe\\|host" in out


def test_codequality_has_gitlab_fields_and_leaves_out_suppressed():
    result = _result()
    issues = json.loads(render(result, "codequality", show="info", show_suppressed=True))
    assert len(issues) == len(result.active) > 0  # suppressed ones are not listed, even when shown
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    for i in issues:
        assert set(i) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert i["severity"] in {"major", "minor", "info"}
        assert i["location"]["lines"]["begin"] >= 1 and i["description"].startswith(f"[{i['check_name']}] ")
    by_path = {i["location"]["path"] for i in issues}
    assert "mesh/mesh.yaml" in by_path
    assert any(p.startswith("k8s://") and "/DestinationRule/" in p for p in by_path)  # the live object
    errors = [f for f in result.active if f.severity == "error"]
    assert sum(i["severity"] == "major" for i in issues) == len(errors)
    only_errors = json.loads(render(result, "codequality", show="error"))
    assert len(only_errors) == len(errors)


def test_codequality_fingerprint_is_stable_across_runs():
    a = json.loads(render(_result(), "codequality"))
    b = json.loads(render(_result(), "codequality"))
    assert [i["fingerprint"] for i in a] == [i["fingerprint"] for i in b]
