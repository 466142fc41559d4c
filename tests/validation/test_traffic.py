"""MR0101-MR0103: the mTLS comparison's findings are validation findings like any other (codes table,
suppressions, --fail-on, scoping), raised by the report's analysis and never by `meshreport validate`."""

from __future__ import annotations

import json

import pytest

from meshreport import pipeline
from meshreport.cli import main
from meshreport.errors import UsageError
from meshreport.mtls_traffic import Floor
from meshreport.synthetic.mtls_mix import mtls_snapshot
from meshreport.validation import suppress
from meshreport.validation.registry import all_rules, rules_for

CALLER = "jobs/nightly-export-v1"


def _analyse(**kw):
    return pipeline.analyse(mtls_snapshot(), pipeline.AnalysisOptions.for_report(**kw))


def _mr(result):
    return {(f.code, f.severity, f.kind, f.namespace, f.name): f for f in result.findings if f.code.startswith("MR01")}


def test_the_comparison_becomes_findings_about_the_namespace_and_the_workload():
    a = _analyse()
    found = _mr(a.validation)
    assert set(found) == {
        ("MR0101", "info", "Namespace", None, "shop"),
        ("MR0102", "warning", "Deployment", "billing", "invoices-v1"),
    }
    blocks = found[("MR0102", "warning", "Deployment", "billing", "invoices-v1")]
    assert CALLER in blocks.message and blocks.suppressed is None and blocks.doc
    assert a.summary.findings is not None and a.summary.findings["warning"] >= 1


def test_codes_are_registered_for_docs_and_sarif_but_never_run_on_objects():
    rules = {r.code: r for r in all_rules() if r.code in ("MR0101", "MR0102", "MR0103")}
    assert {c: r.severity for c, r in rules.items()} == {"MR0101": "info", "MR0102": "warning", "MR0103": "error"}
    assert all(r.check is None and r.module == "traffic" for r in rules.values())
    assert not [r for k in ("Namespace", "Deployment") for r in rules_for(k) if r.code.startswith("MR01")]


@pytest.mark.parametrize("spec", ["MR0102=Deployment billing/*", "MR01*=*"])
def test_suppressions_apply(spec):
    a = _analyse(suppressions=[suppress.parse_cli(spec)])
    (blocks,) = [f for f in a.validation.findings if f.code == "MR0102"]
    assert blocks.suppressed and blocks not in a.validation.active


def test_a_suppression_for_another_object_does_not():
    a = _analyse(suppressions=[suppress.parse_cli("MR0102=Deployment shop/*")])
    (blocks,) = [f for f in a.validation.findings if f.code == "MR0102"]
    assert blocks.suppressed is None


def test_the_floor_comes_from_the_config_section():
    high = Floor.from_config({"ready_min_requests": 1e9, "ready_min_tcp_bytes": 1e12})
    assert "MR0101" not in {c for c, *_ in _mr(_analyse(mtls_floor=high).validation)}
    quiet = Floor.from_config({"caller_min_requests": 10_000})  # the plain-text caller sent 1,800
    assert "MR0102" not in {c for c, *_ in _mr(_analyse(mtls_floor=quiet).validation)}
    assert Floor.from_config(None) == Floor() and Floor().ready_min_requests == 100


@pytest.mark.parametrize(
    "section", [{"ready_min_request": 5}, {"ready_min_requests": -1}, {"caller_min_tcp_bytes": "1k"}, [1]]
)
def test_bad_floor_settings_are_usage_errors(section):
    with pytest.raises(UsageError, match="mtls"):
        Floor.from_config(section)


def test_render_reads_the_floor_from_the_config_file(tmp_path):
    snap = tmp_path / "m.mrsnap"
    pipeline.save(mtls_snapshot(), snap)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mtls:\n  ready_min_requests: 1000000000\n  ready_min_tcp_bytes: 1000000000000\n")
    with pytest.raises(SystemExit) as e:
        main(["render", str(snap), "-o", str(tmp_path / "out"), "--no-pdf", "--config", str(cfg)])
    assert e.value.code in (0, None)
    doc = json.loads((tmp_path / "out" / "mtls.json").read_text())
    assert doc["floor"]["requests"] == 1e9
    assert {f["code"] for f in doc["findings"]} == {"MR0102"}
    cfg.write_text("mtls:\n  ready_min: 5\n")
    with pytest.raises(SystemExit) as e:
        main(["render", str(snap), "-o", str(tmp_path / "out"), "--no-pdf", "--config", str(cfg)])
    assert e.value.code == 2


def test_render_n_keeps_only_the_namespaces_asked_for():
    a = pipeline.scoped(_analyse(), ["billing"])
    assert {(f.code, f.name) for f in a.validation.findings if f.code.startswith("MR01")} == {("MR0102", "invoices-v1")}


def test_validate_is_config_only_even_for_a_snapshot_with_traffic(tmp_path, capsys):
    snap = tmp_path / "m.mrsnap"
    pipeline.save(mtls_snapshot(), snap)
    with pytest.raises(SystemExit) as e:
        main(["validate", str(snap), "--format", "json", "--fail-on", "none"])
    assert e.value.code in (0, None)
    out = capsys.readouterr().out
    assert "MR010" not in out and json.loads(out) is not None


def test_without_config_no_finding_is_made():
    snap = mtls_snapshot()
    snap.objects = []
    a = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    assert a.validation is None and a.mtls is not None and a.mtls.findings == [] and not a.mtls.config_collected
