"""The health finalizer: health on every node, `healthStatus` on every edge (Kiali 3.6).

Request health is rebuilt from the graph's own edges (same window as the graph): each edge's
per-code rates count as outbound for its source and inbound for its dest. Workload status comes
from the snapshot's workloads. Tolerances come from the configured rate rules, or from the
`health.kiali.io/rate` annotation of the node's Service or workload.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from meshreport import health as h
from meshreport.graph.config_index import ConfigIndex
from meshreport.graph.model import Edge, Node, TrafficGraph, is_ok
from meshreport.workloads import workload_status

if TYPE_CHECKING:
    from meshreport.graph.appenders.base import AppenderContext


def edge_codes(edge: Edge) -> dict[str, float]:
    """{code: rate} of one edge, from its responses (TCP edges carry code `-`)."""
    codes: dict[str, float] = {}
    for code, detail in edge.responses.items():
        parts = detail.get("flags") or detail.get("hosts") or {}
        codes[code] = codes.get(code, 0.0) + sum(parts.values())
    return codes


def node_requests(graph: TrafficGraph) -> dict[str, h.Requests]:
    """Kiali's per-node {direction: {protocol: {code: rate}}} from the graph's edges."""
    reqs: dict[str, h.Requests] = defaultdict(dict)
    for e in graph.edges.values():
        for code, v in edge_codes(e).items():
            h.add_request(reqs[e.source], h.OUTBOUND, e.protocol, code, v)
            h.add_request(reqs[e.dest], h.INBOUND, e.protocol, code, v)
    return reqs


def _node_name(n: Node) -> str:
    if n.node_type == "service":
        return n.service
    if n.node_type == "app":
        return n.app
    return n.workload


class HealthAppender:
    """Kiali's `health` finalizer. `rules` default to the options' rules, else Kiali's defaults."""

    name = "health"
    finalizer = True

    def __init__(self, rules: Sequence[h.RateRule] | None = None) -> None:
        self.rules = list(rules) if rules else None

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        rules = self.rules or list(getattr(ctx.options, "health_rules", None) or []) or [h.DEFAULT_RULE]
        annotate(graph, ctx.index, rules)


def annotate(graph: TrafficGraph, index: ConfigIndex, rules: Sequence[h.RateRule]) -> None:
    """Put health on the graph's nodes and edges (the appender's work, usable without a context)."""
    status_cache: dict[int, h.WorkloadStatus | None] = {}

    def status_of(w: Any) -> h.WorkloadStatus | None:
        if id(w) not in status_cache:
            status_cache[id(w)] = workload_status(w)
        return status_cache[id(w)]

    requests = node_requests(graph)
    tol_cache: dict[tuple, tuple[h.Tolerance, ...]] = {}

    def annotations_of(n: Node) -> dict[str, str]:
        if n.node_type == "service":
            svc = index.service(n.namespace, n.service)
            return svc.annotations if svc is not None else {}
        if n.node_type in ("workload", "app") and is_ok(n.workload):
            w = index.workload(n.cluster, n.namespace, n.workload)
            return _workload_annotations(w) if w is not None else {}
        return {}

    def tolerances(n: Node, kind: str | None = None) -> tuple[h.Tolerance, ...]:
        kind = kind or n.node_type
        ann = annotations_of(n) if kind in ("service", "workload") else {}
        override = ann.get(h.RATE_ANNOTATION, "")
        name = n.workload if kind == "workload" else _node_name(n)
        key = (n.namespace, kind, name, override)
        if key not in tol_cache:
            tol_cache[key] = h.resolve_tolerances(rules, n.namespace, kind, name, ann)
        return tol_cache[key]

    # App-level requests (every version of an app), for app nodes and app boxes.
    app_requests: dict[tuple[str, str, str], h.Requests] = defaultdict(dict)
    for nid, n in graph.nodes.items():
        if n.node_type == "app" and is_ok(n.app):
            _merge_requests(app_requests[(n.cluster, n.namespace, n.app)], requests.get(nid, {}))

    for nid, n in graph.nodes.items():
        if n.metadata.get("isInaccessible"):
            n.health = None
            continue
        req = requests.get(nid, {})
        ann = annotations_of(n)
        if ann.get(h.RATE_ANNOTATION):
            n.metadata["hasHealthConfig"] = {h.RATE_ANNOTATION: ann[h.RATE_ANNOTATION]}
        if n.node_type == "service":
            n.health = h.service_health(req, tolerances(n), ann)
        elif n.node_type == "workload":
            w = index.workload(n.cluster, n.namespace, n.workload) if is_ok(n.workload) else None
            n.health = h.workload_health(req, status_of(w) if w else None, tolerances(n), ann)
        elif n.node_type == "app":
            backing = index.app_workloads_for(n.namespace, n.app)
            statuses = [s for s in (status_of(w) for w in backing) if s is not None]
            app = h.app_health(app_requests[(n.cluster, n.namespace, n.app)], statuses, tolerances(n, "app"))
            if is_ok(n.workload):
                # A versioned app node shows its workload's health; the app box shows the app's.
                w = index.workload(n.cluster, n.namespace, n.workload)
                n.health = h.workload_health(req, status_of(w) if w else None, tolerances(n, "workload"), ann)
                n.metadata["healthDataApp"] = app
            else:
                n.health = app
        else:
            n.health = None

    for e in graph.edges.values():
        src, dst = graph.nodes.get(e.source), graph.nodes.get(e.dest)
        if src is None or dst is None or not e.responses or e.total <= 0:
            e.metadata.pop("healthStatus", None)
            continue
        status = h.edge_status(e.protocol, edge_codes(e), _dir_tols(src, tolerances), _dir_tols(dst, tolerances))
        if status == h.NA:
            e.metadata.pop("healthStatus", None)
        else:
            e.metadata["healthStatus"] = status


def _dir_tols(n: Node, tolerances) -> tuple[h.Tolerance, ...]:
    """Tolerances of an edge end; unknown and aggregate nodes match rules by their node type."""
    if n.node_type in ("service", "workload"):
        return tolerances(n)
    if n.node_type == "app":
        return tolerances(n, "workload" if is_ok(n.workload) else "app")
    return tolerances(n, n.node_type)


def _workload_annotations(w: Any) -> dict[str, str]:
    """Controller metadata annotations over pod-template ones (Kiali reads the workload's)."""
    own = w.obj.annotations if getattr(w, "obj", None) is not None else {}
    return {**(w.annotations or {}), **own}


def _merge_requests(into: h.Requests, other: h.Requests) -> None:
    for direction, protos in other.items():
        for proto, codes in protos.items():
            for code, v in codes.items():
                h.add_request(into, direction, proto, code, v)
