"""Fixtures over the hand-built mesh in report_mesh.py."""

from __future__ import annotations

import pytest
from report_mesh import T0, analysis_of, build_small_graph, build_small_graph_with_health, build_small_snapshot

from meshreport.graph.model import TrafficGraph
from meshreport.snapshot.model import Snapshot


@pytest.fixture
def small_graph() -> TrafficGraph:
    return build_small_graph()


@pytest.fixture
def small_snapshot() -> Snapshot:
    return build_small_snapshot()


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """The hand-built mesh rendered once (pictures, site, PDF) for the read-only tests."""
    from meshreport.report.build import write_report

    out = tmp_path_factory.mktemp("small-report")
    snap = build_small_snapshot()
    files = write_report(snap, analysis_of(snap, build_small_graph_with_health()), out, pdf=True, now=T0 + 7200)
    return out, files
