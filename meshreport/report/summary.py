"""summary.json: a run's headline numbers for machines (archive index, email, CI gates, diff).

The schema is versioned and documented (docs/summary.schema.json, docs/summary-json.md): add
fields freely, bump `SCHEMA_VERSION` only when a field changes meaning or goes away. Every
number here is one the report shows, computed by the same functions (report/model.py), so the
summary and the pages cannot disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meshreport import __version__
from meshreport.analysis import Analysis
from meshreport.graph.model import TrafficGraph
from meshreport.report import format as fmt
from meshreport.report.model import _health_counts, _report_namespaces, _request_totals, wall_clock
from meshreport.report.mtls import active_findings
from meshreport.snapshot.model import Snapshot
from meshreport.validation.model import SEVERITIES, ValidationResult

SCHEMA = "meshreport/summary"
SCHEMA_VERSION = 1
FILE_NAME = "summary.json"
#: Gaps listed one by one; the count is always complete.
MAX_GAP_ITEMS = 50
#: mTLS findings listed one by one; `mtls.findingsCount` is always complete.
MAX_MTLS_ITEMS = 50
#: A summary bigger than this is not ours (the archive index and `send` read them back).
MAX_BYTES = 4 * 1024 * 1024

#: Kiali's health statuses -> summary keys.
_HEALTH_KEYS = {"Failure": "failure", "Degraded": "degraded", "Healthy": "healthy", "Not Ready": "notReady", "NA": "na"}


def build_summary(
    snapshot: Snapshot,
    analysis: Analysis,
    *,
    title: str = "Service mesh report",
    now: float | None = None,
    files: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """The summary document for one report (see docs/summary-json.md for every field)."""
    graph, validation = analysis.graph, analysis.validation
    total, errors = _request_totals(graph)
    namespaces = _report_namespaces(snapshot, graph)
    health = {k: 0 for k in _HEALTH_KEYS.values()}
    for count in _health_counts(graph, namespaces):
        key = _HEALTH_KEYS.get(count.status)
        if key is not None:
            health[key] += count.count
    worst_p95, worst_edge = _worst_p95(graph)
    w = snapshot.window
    return {
        "schema": SCHEMA,
        "schemaVersion": SCHEMA_VERSION,
        "generator": {"name": "meshreport", "version": __version__},
        "generatedAt": fmt.iso(wall_clock(now)),
        "title": title,
        "window": {"start": fmt.iso(w.start), "end": fmt.iso(w.end), "seconds": int(w.duration)},
        "source": {
            "kind": snapshot.source.kind,
            "clusters": list(snapshot.source.clusters),
            "configCollected": validation is not None,
        },
        "namespaces": namespaces,
        "traffic": {
            "requestRate": round(total, 6),
            "errorRate": round(errors, 6),
            "errorShare": round(errors / total, 6) if total > 0 else None,
            "p95LatencyMsMax": None if worst_p95 is None else round(worst_p95, 3),
            "p95LatencyMsMaxEdge": worst_edge,
            "tcpBytesRate": round(sum(e.total for e in graph.edges.values() if e.protocol == "tcp"), 6),
        },
        "graph": {"type": graph.graph_type, "nodes": len(graph.nodes), "edges": len(graph.edges)},
        "health": health,
        "findings": _findings(validation),
        "mtls": _mtls(analysis, namespaces),
        "gaps": {
            "count": len(snapshot.gaps),
            "items": [
                {"phase": g.phase, "what": g.what, "reason": g.reason, "namespace": g.namespace or ""}
                for g in snapshot.gaps[:MAX_GAP_ITEMS]
            ],
        },
        "files": dict(files or {}),
    }


def _findings(validation: ValidationResult | None) -> dict[str, Any]:
    if validation is None:
        return {"collected": False, **{s: 0 for s in SEVERITIES}, "suppressed": 0}
    return {"collected": True, **validation.counts()}


def _mtls(analysis: Analysis, namespaces: list[str]) -> dict[str, Any] | None:
    """The Mutual TLS section in numbers: the mesh's configured mode, the shares seen, and the unsuppressed
    findings of the comparison (MR0101-MR0103, also counted in `findings`) with their callers."""
    a = analysis.mtls
    if a is None:
        return None
    found, suppressed = active_findings(a, analysis.validation, namespaces)
    share = a.inbound
    return {
        "mode": a.mesh.mode,
        "decidedBy": a.mesh.decided_by,
        "autoMtls": a.auto_mtls,
        "trafficCollected": a.traffic_collected,
        "requestShare": None if share.request_share is None else round(share.request_share / 100.0, 6),
        "tcpShare": None if share.tcp_share is None else round(share.tcp_share / 100.0, 6),
        "findings": [
            {
                "code": f.code,
                "severity": f.severity,
                "title": f.title,
                "object": f"{f.object_kind} {f.namespace}/{f.object_name}"
                if f.workload
                else f"Namespace {f.namespace}",
                "namespace": f.namespace,
                "message": f.message,
                "callers": [c.name for c in f.callers],
            }
            for f in found[:MAX_MTLS_ITEMS]
        ],
        "findingsCount": len(found),
        "suppressed": suppressed,
    }


def _worst_p95(graph: TrafficGraph) -> tuple[float | None, str | None]:
    """The highest p95 response time of any request edge with traffic, and that edge (`src -> dst`).

    Quantiles of different edges cannot be merged into a mesh quantile, so the gate and the
    headline use the worst edge, as a latency alert would.
    """
    best: tuple[float | None, str | None] = (None, None)
    for e in graph.edges.values():
        rt = e.metadata.get("responseTime")
        if e.protocol == "tcp" or e.total <= 0 or not isinstance(rt, (int, float)) or rt != rt:
            continue
        if best[0] is None or rt > best[0]:
            src, dst = graph.nodes.get(e.source), graph.nodes.get(e.dest)
            best = (float(rt), f"{_node_name(src, e.source)} -> {_node_name(dst, e.dest)}")
    return best


def _node_name(node: Any, fallback: str) -> str:
    if node is None:
        return fallback
    return f"{node.namespace}/{node.label}" if node.namespace else node.label


def write_summary(summary: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / FILE_NAME
    path.write_text(json.dumps(summary, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
    return path


def read_summary(path: Path) -> dict[str, Any] | None:
    """A run's summary, or None when it is missing, too big, not JSON or not our schema."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        doc = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("schemaVersion"), int):
        return None
    return doc
