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


def node_requests(graph: TrafficGraph, codes: dict | None = None) -> dict[str, h.Requests]:
    """Kiali's per-node {direction: {protocol: {code: rate}}} from the graph's edges."""
    reqs: dict[str, h.Requests] = defaultdict(dict)
    for k, e in graph.edges.items():
        per_code = codes[k] if codes is not None else edge_codes(e)
        if not per_code:
            continue
        out = reqs[e.source].setdefault(h.OUTBOUND, {}).setdefault(e.protocol, {})
        inb = reqs[e.dest].setdefault(h.INBOUND, {}).setdefault(e.protocol, {})
        for code, v in per_code.items():
            out[code] = out.get(code, 0.0) + v
            inb[code] = inb.get(code, 0.0) + v
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
    """Put health on the graph's nodes and edges (the appender's work, usable without a context).

    One pass over the edges for per-code rates, one over the nodes for tolerances and health,
    one over the edges for their status: big meshes pay per node and edge, never per pair.
    """
    status_cache: dict[int, h.WorkloadStatus | None] = {}

    def status_of(w: Any) -> h.WorkloadStatus | None:
        if w is None:
            return None
        if id(w) not in status_cache:
            status_cache[id(w)] = workload_status(w)
        return status_cache[id(w)]

    codes = {k: edge_codes(e) for k, e in graph.edges.items()}
    requests = node_requests(graph, codes)
    tol_cache: dict[tuple[str, str, str, str], tuple[h.Tolerance, ...]] = {}

    def tolerances(namespace: str, kind: str, name: str, ann: dict[str, str]) -> tuple[h.Tolerance, ...]:
        key = (namespace, kind, name, ann.get(h.RATE_ANNOTATION, ""))
        found = tol_cache.get(key)
        if found is None:
            found = tol_cache[key] = h.resolve_tolerances(rules, namespace, kind, name, ann)
        return found

    # App-level requests (every version of an app), for app nodes and app boxes.
    app_requests: dict[tuple[str, str, str], h.Requests] = defaultdict(dict)
    for nid, n in graph.nodes.items():
        if n.node_type == "app" and is_ok(n.app):
            _merge_requests(app_requests[(n.cluster, n.namespace, n.app)], requests.get(nid, {}))
    app_cache: dict[tuple[str, str, str], h.Health] = {}

    node_tols: dict[str, tuple[h.Tolerance, ...]] = {}
    for nid, n in graph.nodes.items():
        kind, name, ann, w = _identity(n, index)
        node_tols[nid] = tols = tolerances(n.namespace, kind, name, ann)
        if n.metadata.get("isInaccessible"):
            n.health = None
            continue
        req = requests.get(nid, {})
        if ann.get(h.RATE_ANNOTATION):
            n.metadata["hasHealthConfig"] = {h.RATE_ANNOTATION: ann[h.RATE_ANNOTATION]}
        if n.node_type == "service":
            n.health = h.service_health(req, tols, ann)
        elif n.node_type == "workload":
            n.health = h.workload_health(req, status_of(w), tols, ann)
        elif n.node_type == "app":
            akey = (n.cluster, n.namespace, n.app)
            app = app_cache.get(akey)
            if app is None:
                backing = index.app_workloads_for(n.namespace, n.app)
                statuses = [s for s in (status_of(b) for b in backing) if s is not None]
                app_tols = tolerances(n.namespace, "app", n.app, {})
                app = app_cache[akey] = h.app_health(app_requests[akey], statuses, app_tols)
            if kind == "workload":
                # A versioned app node shows its workload's health; the app box shows the app's.
                n.health = h.workload_health(req, status_of(w), tols, ann)
                n.metadata["healthDataApp"] = app
            else:
                n.health = app
        else:
            n.health = None

    for k, e in graph.edges.items():
        md = e.metadata
        src, dst = node_tols.get(e.source), node_tols.get(e.dest)
        if src is None or dst is None or not codes[k]:
            md.pop("healthStatus", None)
            continue
        status = h.edge_status(e.protocol, codes[k], src, dst)
        if status == h.NA:
            md.pop("healthStatus", None)
        else:
            md["healthStatus"] = status


def _identity(n: Node, index: ConfigIndex) -> tuple[str, str, dict[str, str], Any]:
    """(health kind, name, annotations, workload) of a node, as its tolerances are resolved.

    Services and workloads use their annotations; a versioned app node is judged as its
    workload; unknown and aggregate nodes match rules by their node type.
    """
    if n.node_type == "service":
        svc = index.service(n.namespace, n.service)
        return "service", n.service, (svc.annotations if svc is not None else {}), None
    if n.node_type in ("workload", "app") and is_ok(n.workload):
        w = index.workload(n.cluster, n.namespace, n.workload)
        return "workload", n.workload, (_workload_annotations(w) if w is not None else {}), w
    if n.node_type == "app":
        return "app", n.app, {}, None
    return n.node_type, _node_name(n), {}, None


def _workload_annotations(w: Any) -> dict[str, str]:
    """Controller metadata annotations over pod-template ones (Kiali reads the workload's)."""
    own = w.obj.annotations if getattr(w, "obj", None) is not None else {}
    return {**(w.annotations or {}), **own}


def _merge_requests(into: h.Requests, other: h.Requests) -> None:
    for direction, protos in other.items():
        for proto, codes in protos.items():
            for code, v in codes.items():
                h.add_request(into, direction, proto, code, v)
