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
    return {
        code: float(sum((detail.get("flags") or detail.get("hosts") or {}).values()))
        for code, detail in edge.responses.items()
    }


def node_requests(graph: TrafficGraph, codes: dict | None = None) -> dict[str, h.Requests]:
    """Kiali's per-node {direction: {protocol: {code: rate}}} from the graph's edges."""
    reqs: dict[str, h.Requests] = defaultdict(dict)
    slots: dict[tuple[str, str, str], dict[str, float]] = {}
    for k, e in graph.edges.items():
        per_code = codes[k] if codes is not None else edge_codes(e)
        if per_code:
            _add_edge(reqs, slots, e, per_code)
    return reqs


def _add_edge(
    reqs: dict[str, h.Requests], slots: dict[tuple[str, str, str], dict[str, float]], e: Edge, per_code: dict
) -> None:
    """Count an edge's rates as its source's outbound and its dest's inbound.

    `slots` remembers each (node, direction, protocol)'s {code: rate}, so an edge costs two
    lookups rather than two chains of setdefault.
    """
    out = slots.get((e.source, h.OUTBOUND, e.protocol))
    if out is None:
        out = slots[(e.source, h.OUTBOUND, e.protocol)] = _slot(reqs, e.source, h.OUTBOUND, e.protocol)
    inb = slots.get((e.dest, h.INBOUND, e.protocol))
    if inb is None:
        inb = slots[(e.dest, h.INBOUND, e.protocol)] = _slot(reqs, e.dest, h.INBOUND, e.protocol)
    for code, v in per_code.items():
        out[code] = out.get(code, 0.0) + v
        inb[code] = inb.get(code, 0.0) + v


def _slot(reqs: dict[str, h.Requests], node: str, direction: str, protocol: str) -> dict[str, float]:
    """A new, empty {code: rate} at reqs[node][direction][protocol]."""
    node_reqs = reqs.get(node)
    if node_reqs is None:
        node_reqs = reqs[node] = {}
    protos = node_reqs.get(direction)
    if protos is None:
        protos = node_reqs[direction] = {}
    codes: dict[str, float] = {}
    protos[protocol] = codes
    return codes


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

    Tolerances per node first, then one pass over the edges for the nodes' per-code rates and
    each edge's status, then one over the nodes for their health: big meshes pay per node and
    edge, never per pair.
    """
    status_cache: dict[int, h.WorkloadStatus | None] = {}

    def status_of(w: Any) -> h.WorkloadStatus | None:
        # An app node and its app's health both ask for the same workload.
        if w is None:
            return None
        key = id(w)
        if key in status_cache:
            return status_cache[key]
        found = status_cache[key] = workload_status(w)
        return found

    tolerances = h.ToleranceResolver(rules)
    identities: dict[str, tuple[str, str, dict[str, str], Any]] = {}
    node_tols: dict[str, tuple[h.Tolerance, ...]] = {}
    for nid, n in graph.nodes.items():
        identities[nid] = kind, name, ann, _ = _identity(n, index)
        node_tols[nid] = tolerances(n.namespace, kind, name, ann)

    # One pass over the edges: per-code rates into node requests (as node_requests), then the
    # edge's status.
    requests: dict[str, h.Requests] = defaultdict(dict)
    slots: dict[tuple[str, str, str], dict[str, float]] = {}
    for e in graph.edges.values():
        md = e.metadata
        if not e.responses:
            md.pop("healthStatus", None)
            continue
        per_code = edge_codes(e)
        _add_edge(requests, slots, e, per_code)
        src, dst, proto = e.source, e.dest, e.protocol
        src_tols, dst_tols = node_tols.get(src), node_tols.get(dst)
        known = src_tols is not None and dst_tols is not None
        status = h.edge_status(proto, per_code, src_tols, dst_tols) if known else h.NA
        if status == h.NA:
            md.pop("healthStatus", None)
        else:
            md["healthStatus"] = status

    # App-level requests (every version of an app), for app nodes and app boxes.
    app_requests: dict[tuple[str, str, str], h.Requests] = defaultdict(dict)
    for nid, n in graph.nodes.items():
        if n.node_type == "app" and is_ok(n.app):
            _merge_requests(app_requests[(n.cluster, n.namespace, n.app)], requests.get(nid, {}))
    app_cache: dict[tuple[str, str, str], h.Health] = {}

    for nid, n in graph.nodes.items():
        kind, name, ann, w = identities[nid]
        tols = node_tols[nid]
        if n.metadata.get("isInaccessible"):
            n.health = None
            continue
        req = requests.get(nid)
        if req is None:
            req = {}
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
                app_tols = tolerances(n.namespace, "app", n.app)
                app = app_cache[akey] = h.app_health(app_requests[akey], statuses, app_tols)
            if kind == "workload":
                # A versioned app node shows its workload's health; the app box shows the app's.
                n.health = h.workload_health(req, status_of(w), tols, ann)
                n.metadata["healthDataApp"] = app
            else:
                n.health = app
        else:
            n.health = None


#: "No rate annotation", shared by most nodes; read only (health copies what it keeps).
_NO_RATE: dict[str, str] = {}


def _identity(n: Node, index: ConfigIndex) -> tuple[str, str, dict[str, str], Any]:
    """(health kind, name, rate annotation, workload) of a node, as its tolerances are resolved.

    Services and workloads use their annotations; a versioned app node is judged as its
    workload; unknown and aggregate nodes match rules by their node type. Health reads only
    the rate annotation, so only it is returned ({} when absent).
    """
    node_type = n.node_type
    if node_type == "service":
        svc = index.service(n.namespace, n.service)
        return "service", n.service, (_rate_annotation(svc.annotations) if svc is not None else _NO_RATE), None
    if (node_type == "workload" or node_type == "app") and is_ok(n.workload):
        w = index.workload(n.cluster, n.namespace, n.workload)
        return "workload", n.workload, (_workload_annotations(w) if w is not None else _NO_RATE), w
    if node_type == "app":
        return "app", n.app, _NO_RATE, None
    return node_type, _node_name(n), _NO_RATE, None


def _rate_annotation(annotations: dict[str, str]) -> dict[str, str]:
    """{RATE_ANNOTATION: value} when the annotations have it, else {}."""
    if h.RATE_ANNOTATION in annotations:
        return {h.RATE_ANNOTATION: annotations[h.RATE_ANNOTATION]}
    return _NO_RATE


def _workload_annotations(w: Any) -> dict[str, str]:
    """The controller's rate annotation over the pod template's (Kiali reads the workload's)."""
    own = w.obj.annotations if getattr(w, "obj", None) is not None else _NO_RATE
    if h.RATE_ANNOTATION in own:
        return {h.RATE_ANNOTATION: own[h.RATE_ANNOTATION]}
    return _rate_annotation(w.annotations or _NO_RATE)


def _merge_requests(into: h.Requests, other: h.Requests) -> None:
    """Add `other`'s rates into `into`; a direction or protocol new to `into` is copied whole."""
    for direction, protos in other.items():
        mine = into.get(direction)
        if mine is None:
            into[direction] = {proto: dict(codes) for proto, codes in protos.items()}
            continue
        for proto, codes in protos.items():
            acc = mine.get(proto)
            if acc is None:
                mine[proto] = dict(codes)
                continue
            for code, v in codes.items():
                acc[code] = acc.get(code, 0.0) + v
