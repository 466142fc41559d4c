"""summary.json: the headline numbers, checked against the documented schema (docs/summary.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from report_mesh import T0, build_small_graph_with_health, build_small_snapshot

from meshreport import pipeline
from meshreport.analysis import Analysis
from meshreport.report.summary import SCHEMA_VERSION, build_summary, read_summary, write_summary

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "summary.schema.json").read_text())
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_schema_is_valid_and_matches_the_code_version():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schemaVersion"]["const"] == SCHEMA_VERSION


def test_bookinfo_summary_validates_and_counts():
    snap = pipeline.load(SAMPLE)
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    graph = analysis.graph
    doc = build_summary(snap, analysis, now=T0, files={"html": "index.html", "pdf": None})
    validate(doc)
    assert doc["namespaces"] == snap.namespaces
    assert doc["traffic"]["requestRate"] > 0
    assert 0 <= doc["traffic"]["errorShare"] <= 1
    # the p95 headline is the worst edge's, and names that edge
    p95s = [e.metadata["responseTime"] for e in graph.edges.values() if "responseTime" in e.metadata and e.total > 0]
    assert doc["traffic"]["p95LatencyMsMax"] == pytest.approx(max(p95s), abs=1e-3)
    assert " -> " in doc["traffic"]["p95LatencyMsMaxEdge"]
    assert doc["findings"] == {"collected": True, **analysis.validation.counts()}
    assert doc["graph"] == {"type": "versionedApp", "nodes": len(graph.nodes), "edges": len(graph.edges)}
    assert sum(doc["health"].values()) > 0


def test_health_counts_follow_the_graph(tmp_path):
    snap = build_small_snapshot()
    graph = build_small_graph_with_health()
    doc = build_summary(snap, Analysis.of(graph), now=T0)
    validate(doc)
    statuses = [
        str(getattr(n.health.status, "value", n.health.status))
        for n in graph.nodes.values()
        if n.health is not None and n.node_type in ("app", "workload", "service")
    ]
    assert doc["health"]["failure"] == statuses.count("Failure")
    assert doc["health"]["degraded"] == statuses.count("Degraded")
    path = write_summary(doc, tmp_path)
    assert read_summary(path) == doc


def test_gaps_are_capped_but_counted():
    from meshreport.snapshot.model import Gap

    snap = build_small_snapshot()
    snap.gaps = [Gap(phase="metrics", what=f"q{i}", reason="timeout") for i in range(120)]
    doc = build_summary(snap, Analysis.of(build_small_graph_with_health()), now=T0)
    validate(doc)
    assert doc["gaps"]["count"] == 120 and len(doc["gaps"]["items"]) == 50


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"schema": "other"}), json.dumps([1, 2]), json.dumps({"schema": "meshreport/summary"})],
)
def test_read_summary_refuses_what_is_not_ours(tmp_path, content):
    p = tmp_path / "summary.json"
    p.write_text(content)
    assert read_summary(p) is None
    assert read_summary(tmp_path / "missing.json") is None


def test_mtls_block_lists_the_unsuppressed_comparison_findings():
    from meshreport.synthetic.mtls_mix import mtls_snapshot
    from meshreport.validation.suppress import parse_cli

    snap = mtls_snapshot()
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    doc = build_summary(snap, analysis, now=T0)
    validate(doc)
    m = doc["mtls"]
    assert m["mode"] == "PERMISSIVE" and m["decidedBy"] is None and m["autoMtls"] is True
    assert 0.98 < m["requestShare"] < 0.99 and m["tcpShare"] == 1.0
    assert {(f["code"], f["object"]) for f in m["findings"]} == {
        ("MR0101", "Namespace shop"),
        ("MR0102", "Deployment billing/invoices-v1"),
    }
    (blocks,) = [f for f in m["findings"] if f["code"] == "MR0102"]
    assert blocks["callers"] == ["jobs/nightly-export-v1"] and blocks["severity"] == "warning"
    assert doc["findings"]["warning"] >= 1 and doc["findings"]["info"] >= 1
    quiet = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report(suppressions=[parse_cli("MR0102=*")]))
    m = build_summary(snap, quiet, now=T0)["mtls"]
    assert [f["code"] for f in m["findings"]] == ["MR0101"] and m["suppressed"] == 1 and m["findingsCount"] == 1
