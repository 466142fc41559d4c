"""The health finalizer: health on every node, `healthStatus` on every edge (Kiali 3.6).

Request health is rebuilt from the graph's own edges (same window as the graph): each edge's
per-code rates count as outbound for its source and inbound for its dest. Workload status comes
from the snapshot's workloads. Tolerances come from the configured rate rules, or from the
`health.kiali.io/rate` annotation of the node's Service or workload.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from meshreport import health as h
from meshreport.graph.config_index import ConfigIndex
from meshreport.graph.model import Edge, Node, TrafficGraph, is_ok
from meshreport.workload_status import workload_status

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
    for k, e in graph.edges.items():
        if codes is None:
            if e.responses:
                _count_edge(reqs, e)
        elif codes[k]:
            _count_edge(reqs, e, codes[k])
    return reqs


def _count_edge(reqs: dict[str, h.Requests], e: Edge, per_code: dict[str, float] | None = None) -> dict[str, float]:
    """Count an edge's rates as its source's outbound and its dest's inbound; return {code: rate}.

    The rates are edge_codes(e) unless given. This runs once per edge of the graph: the two
    {code: rate} are found with plain lookups (a get per level, setdefault only when missing)
    and the responses are read in the same loop that counts them.
    """
    node = reqs.get(e.source) or reqs.setdefault(e.source, {})
    protos = node.get(h.OUTBOUND) or node.setdefault(h.OUTBOUND, {})
    out = protos.get(e.protocol) or protos.setdefault(e.protocol, {})
    node = reqs.get(e.dest) or reqs.setdefault(e.dest, {})
    protos = node.get(h.INBOUND) or node.setdefault(h.INBOUND, {})
    inb = protos.get(e.protocol) or protos.setdefault(e.protocol, {})
    if per_code is None:
        per_code = {}
        for code, detail in e.responses.items():
            per_code[code] = v = float(sum((detail.get("flags") or detail.get("hosts") or {}).values()))
            out[code] = out.get(code, 0.0) + v
            inb[code] = inb.get(code, 0.0) + v
        return per_code
    for code, v in per_code.items():
        out[code] = out.get(code, 0.0) + v
        inb[code] = inb.get(code, 0.0) + v
    return per_code


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
    match = RememberedMatches()
    identities: dict[str, tuple[str, str, dict[str, str], Any]] = {}
    node_tols: dict[str, tuple[h.Tolerance, ...]] = {}
    for nid, n in graph.nodes.items():
        identities[nid] = kind, name, ann, _ = _identity(n, index)
        node_tols[nid] = tolerances.resolve(n.namespace, kind, name, ann)

    # One pass over the edges: per-code rates into node requests (as node_requests), then the
    # edge's status.
    requests: dict[str, h.Requests] = {}
    for e in graph.edges.values():
        md = e.metadata
        if not e.responses:
            md.pop("healthStatus", None)
            continue
        per_code = _count_edge(requests, e)
        src, dst, proto = e.source, e.dest, e.protocol
        src_tols, dst_tols = node_tols.get(src), node_tols.get(dst)
        known = src_tols is not None and dst_tols is not None
        status = h.edge_status(proto, per_code, src_tols, dst_tols, match.edge) if known else h.NA
        if status == h.NA:
            md.pop("healthStatus", None)
        else:
            md["healthStatus"] = status

    apps = _Apps(graph, requests, index, tolerances, status_of, match)
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
            n.health = h.service_health(req, tols, ann, rh=h.request_health(req, tols, match))
        elif n.node_type == "workload":
            n.health = h.workload_health(req, status_of(w), tols, ann, rh=h.request_health(req, tols, match))
        elif n.node_type == "app" and kind == "workload":
            # A versioned app node shows its workload's health; the app box shows the app's.
            rh = h.request_health(req, tols, match)
            n.health = h.workload_health(req, status_of(w), tols, ann, rh=rh)
            n.metadata["healthDataApp"] = apps.health(n, tols, rh)
        elif n.node_type == "app":
            n.health = apps.health(n)
        else:
            n.health = None


class RememberedMatches:
    """`health.matching`, remembered for one graph: a mesh has few distinct tolerance tuples and
    code sets, and most traffic (all 2xx) matches nothing, which then costs one dict lookup.

    Keyed by the tolerance tuple's identity (hashing its frozen dataclasses per call is slow);
    the tuples are kept here, so no id is reused while this object lives.
    """

    def __init__(self) -> None:
        self.answers: dict[tuple[int, str, str, tuple[str, ...]], tuple] = {}
        self.edges: dict[tuple[int, int, str, tuple[str, ...]], tuple] = {}
        self.kept: dict[int, tuple[h.Tolerance, ...]] = {}

    def __call__(
        self, tolerances: tuple[h.Tolerance, ...], direction: str, protocol: str, codes: dict[str, float]
    ) -> tuple:
        key = (id(tolerances), direction, protocol, tuple(codes))
        found = self.answers.get(key)
        if found is None:
            self.kept[id(tolerances)] = tolerances
            found = self.answers[key] = h.matching(tolerances, direction, protocol, codes)
        return found

    def edge(
        self,
        source_tolerances: tuple[h.Tolerance, ...],
        dest_tolerances: tuple[h.Tolerance, ...],
        protocol: str,
        codes: dict[str, float],
    ) -> tuple:
        """`health.edge_matches`, remembered: a graph has few distinct tolerance pairs and code sets."""
        key = (id(source_tolerances), id(dest_tolerances), protocol, tuple(codes))
        found = self.edges.get(key)
        if found is None:
            self.kept[id(source_tolerances)] = source_tolerances
            self.kept[id(dest_tolerances)] = dest_tolerances
            found = self.edges[key] = h.edge_matches(source_tolerances, dest_tolerances, protocol, codes)
        return found


class _Apps:
    """Each app's health, computed once: for app nodes and for versioned-app boxes.

    An app's requests are those of every node of the app (every version). When the app has one
    node, its requests equal that node's, so with the same tolerances the node's request health
    is the app's too and is not computed twice.
    """

    def __init__(
        self,
        graph: TrafficGraph,
        requests: dict[str, h.Requests],
        index: ConfigIndex,
        tolerances: h.ToleranceResolver,
        status_of: Callable[[Any], h.WorkloadStatus | None],
        match: h.Matcher = h.matching,
    ) -> None:
        self.index, self.tolerances, self.status_of, self.match = index, tolerances, status_of, match
        self.requests: dict[tuple[str, str, str], h.Requests] = {}
        self.nodes: dict[tuple[str, str, str], int] = {}
        for nid, n in graph.nodes.items():
            if n.node_type == "app" and is_ok(n.app):
                key = (n.cluster, n.namespace, n.app)
                app_requests = self.requests.get(key)
                if app_requests is None:
                    app_requests = self.requests[key] = {}
                _merge_requests(app_requests, requests.get(nid, {}))
                self.nodes[key] = self.nodes.get(key, 0) + 1
        self.cache: dict[tuple[str, str, str], h.Health] = {}

    def health(
        self, n: Node, node_tols: tuple[h.Tolerance, ...] | None = None, node_rh: h.RequestHealth | None = None
    ) -> h.Health:
        """The health of `n`'s app; `node_rh` is n's request health under `node_tols`, if known."""
        key = (n.cluster, n.namespace, n.app)
        found = self.cache.get(key)
        if found is None:
            statuses = []
            for w in self.index.app_workloads_for(n.namespace, n.app):
                status = self.status_of(w)
                if status is not None:
                    statuses.append(status)
            tols = self.tolerances.resolve(n.namespace, "app", n.app)
            # The app's only node, judged by the same tolerances: its request health is the app's.
            same = node_rh is not None and node_tols is tols and self.nodes.get(key) == 1
            app_requests = self.requests.get(key, {})
            rh = node_rh if same else h.request_health(app_requests, tols, self.match)
            found = self.cache[key] = h.app_health(app_requests, statuses, tols, rh=rh)
        return found


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
        svc = index.service(n.namespace, n.service, n.cluster)
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
    """Add `other`'s rates into `into`; a protocol new to `into` is copied whole."""
    for direction, protos in other.items():
        mine = into.get(direction)
        if mine is None:
            mine = into[direction] = {}
        for proto, codes in protos.items():
            acc = mine.get(proto)
            if acc is None:
                mine[proto] = dict(codes)
                continue
            for code, v in codes.items():
                acc[code] = acc.get(code, 0.0) + v
