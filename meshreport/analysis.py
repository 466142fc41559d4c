"""Analysis: what a snapshot means, built once and read by every output.

The traffic graph (with health on its nodes and edges from the graph's health finalizer), the
config findings after every suppression, and the summary numbers. The report, the machine
formats and the commands read this; none of them runs analysis again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from meshreport.graph.model import TrafficGraph
from meshreport.mtls_traffic import MtlsAnalysis
from meshreport.node_config import NodeConfig
from meshreport.validation.model import ValidationResult


@dataclass(frozen=True)
class Summary:
    """The headline numbers of one analysis."""

    nodes: int
    edges: int
    #: nodes per Kiali health status (`Healthy`, `Degraded`, ...); nodes without health are not counted
    health: dict[str, int]
    #: active findings per severity plus `suppressed`; None when the snapshot holds no config
    findings: dict[str, int] | None


@dataclass(frozen=True)
class Analysis:
    """The graph, its health, the findings and the summary of one snapshot."""

    graph: TrafficGraph
    #: findings after annotations, config-file and command-line suppressions; None = config not collected
    validation: ValidationResult | None
    summary: Summary
    #: What changed since an earlier snapshot (a compare.Comparison, see `with_comparison`), or None.
    comparison: Any = None
    #: configured mTLS held against the window's traffic (meshreport.mtls_traffic); None when not analysed
    mtls: MtlsAnalysis | None = None
    #: Points of earlier runs and this one (trend.RunPoint list, oldest first; `with_trend`), or None.
    trend: Any = None
    #: Node id -> the Istio objects that apply to it and its configured mTLS (meshreport.node_config);
    #: empty when the snapshot holds no config
    node_config: dict[str, NodeConfig] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        graph: TrafficGraph,
        validation: ValidationResult | None = None,
        mtls: MtlsAnalysis | None = None,
        node_config: dict[str, NodeConfig] | None = None,
    ) -> Analysis:
        """Wrap results already computed (the pipeline's `analyse`, or a test's hand-built graph)."""
        return cls(graph, validation, summarize(graph, validation), mtls=mtls, node_config=node_config or {})

    def with_comparison(self, comparison: Any) -> Analysis:
        """The same analysis, compared with an earlier snapshot (render --baseline)."""
        return replace(self, comparison=comparison)

    def with_trend(self, points: Any) -> Analysis:
        """The same analysis with the run-by-run trend of an archive (render --trend-archive)."""
        return replace(self, trend=points)

    @property
    def health(self) -> dict[str, Any]:
        """Node id -> the health the finalizer attached (meshreport.health), for nodes that have one."""
        return {nid: n.health for nid, n in self.graph.nodes.items() if n.health is not None}


def summarize(graph: TrafficGraph, validation: ValidationResult | None) -> Summary:
    health: dict[str, int] = {}
    for n in graph.nodes.values():
        if n.health is None:
            continue
        status = getattr(n.health, "status", n.health)
        key = str(getattr(status, "value", status))
        health[key] = health.get(key, 0) + 1
    return Summary(
        nodes=len(graph.nodes),
        edges=len(graph.edges),
        health=health,
        findings=None if validation is None else validation.counts(),
    )
