"""The library API: one analysis per snapshot, suppressions from one place, options checked first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from meshreport import pipeline
from meshreport.errors import UsageError
from meshreport.report.model import build_model
from meshreport.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "bookinfo.mrsnap"


@pytest.fixture(scope="module")
def snap():
    return pipeline.load(SAMPLE)


def _settings(tmp_path: Path, text: str) -> Settings:
    cfg = tmp_path / "meshreport.yaml"
    cfg.write_text(text)
    return Settings.load(config_file=cfg, env={})


def test_analysis_holds_graph_health_findings_and_summary(snap):
    a = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    assert a.graph.graph_type == "versionedApp" and a.graph.options["injectServiceNodes"] is True
    assert a.summary.nodes == len(a.graph.nodes) > 10 and a.summary.edges == len(a.graph.edges) > 10
    assert a.health and set(a.health) <= set(a.graph.nodes)
    assert sum(a.summary.health.values()) == len(a.health)
    assert a.validation is not None and a.summary.findings == a.validation.counts()
    assert a.summary.findings["error"] + a.summary.findings["warning"] > 0  # the sample has findings


def test_config_file_suppressions_reach_every_path_the_same_way(snap, tmp_path):
    settings = _settings(
        tmp_path, "validation:\n  suppressions:\n    - {code: '*', resource: '* bookinfo/*', reason: known}\n"
    )
    rules = pipeline.suppressions(settings)
    report = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report(suppressions=rules)).validation
    validate = pipeline.findings(snap.objects, suppressions=pipeline.suppressions(settings), now=snap.window.end)
    unsuppressed = pipeline.findings(snap.objects, now=snap.window.end)
    config_only = replace(report, findings=[f for f in report.findings if not f.code.startswith("MR01")])
    assert config_only.counts() == validate.counts()
    assert report.counts()["suppressed"] > 0
    # the mTLS comparison's findings (report only: they need traffic) obey the same suppressions
    assert [f.suppressed for f in report.findings if f.code.startswith("MR01")] == ["config: known"]
    assert len(report.active) < len(unsuppressed.active)
    assert all(f.namespace != "bookinfo" for f in report.active)


def test_command_line_suppressions_come_after_the_config_files(tmp_path):
    settings = _settings(tmp_path, "validation:\n  suppressions:\n    - {code: IST0101, resource: 'Gateway a/b'}\n")
    rules = pipeline.suppressions(settings, ["KIA0101=VirtualService shop/*"])
    codes = [r.code for r in rules]
    assert codes[-1] == "KIA0101" and "IST0101" in codes[:-1]
    assert [r.origin for r in rules][-1] != rules[0].origin


def test_bad_graph_options_fail_before_anything_is_built(snap):
    options = pipeline.AnalysisOptions(graph=pipeline.GraphOptions(graph_type="versioned"))
    with pytest.raises(UsageError, match="invalid graph_type 'versioned'"):
        pipeline.analyse(snap, options)
    with pytest.raises(UsageError, match="invalid --box-by 'zone'"):
        pipeline.GraphOptions(box_by=["app", "zone"]).validate({"box_by": "--box-by"})
    with pytest.raises(UsageError, match="--node kind"):
        pipeline.AnalysisOptions(node="pod:bookinfo/x").check()


def test_graph_only_analysis_has_no_findings(snap):
    a = pipeline.analyse(snap, pipeline.AnalysisOptions(validate=False))
    assert a.validation is None and a.summary.findings is None and a.graph.edges


def test_the_report_shows_the_analysis_findings_and_runs_no_validation(snap):
    """With findings left out of the analysis the report says config was not collected, even
    though the snapshot holds config objects: rendering never validates on its own."""
    a = pipeline.analyse(snap, pipeline.AnalysisOptions(validate=False))
    assert snap.objects
    model = build_model(snap, a, now=snap.window.end)
    assert not model.findings_page.collected


def test_graph_text_formats(snap):
    graph = pipeline.analyse(snap, pipeline.AnalysisOptions(validate=False)).graph
    assert pipeline.graph_text(graph, "json").startswith("{")
    assert '"elements"' in pipeline.graph_text(graph, "cytoscape")
    assert pipeline.graph_text(graph, "dot").lstrip().startswith("digraph")
    with pytest.raises(UsageError, match="invalid graph format 'yaml'"):
        pipeline.graph_text(graph, "yaml")
