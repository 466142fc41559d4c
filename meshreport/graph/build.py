"""Snapshot series -> traffic graph, with Kiali's semantics (Kiali graph/telemetry/istio/istio.go and appender/).

Per namespace: read that namespace's graph queries in Kiali's order, turn each series into
nodes and an edge, run the namespace appenders; merge the namespace graphs; run the finalizers;
reduce to a service graph when asked. Pure: reads only the snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from meshreport.errors import UsageError
from meshreport.graph import appenders as registry
from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.config_index import ConfigIndex
from meshreport.graph.merge import GraphMerger
from meshreport.graph.model import GRAPH_TYPES, TrafficGraph
from meshreport.graph.service_graph import reduce_to_service_graph
from meshreport.graph.telemetry import RESOLVE_LABELS, Resolver
from meshreport.graph.traffic import FlowWriter, NodeFactory
from meshreport.graph.vectorised import graph_series
from meshreport.mesh_index import MeshIndex
from meshreport.snapshot.keys import (
    DEFAULT_AGGREGATE,
    GRAPH_ROLES,
    REQUEST_MESSAGES,
    REQUESTS,
    RESPONSE_MESSAGES,
    TCP_RECEIVED,
    TCP_SENT,
    graph_key,
)
from meshreport.snapshot.model import Snapshot
from meshreport.snapshot.table import SeriesTable

RATE_HTTP = ("requests", "none")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RATE_GRPC = ("requests", "sent", "received", "total", "none")
RATE_TCP = ("sent", "received", "total", "none")
RESPONSE_TIMES = ("avg", "50", "95", "99")
THROUGHPUTS = ("request", "response")
BOX_BY = ("app", "namespace", "cluster")


#: GraphOptions field -> its allowed values (box_by: of each list item).
CHOICES: dict[str, tuple[str, ...]] = {
    "graph_type": GRAPH_TYPES,
    "rate_http": RATE_HTTP,
    "rate_grpc": RATE_GRPC,
    "rate_tcp": RATE_TCP,
    "response_time": RESPONSE_TIMES,
    "throughput": THROUGHPUTS,
    "box_by": BOX_BY,
}


@dataclass
class GraphOptions:
    """Kiali's graph request options (graph/options.go), with the API's defaults."""

    graph_type: str = "versionedApp"  # app | versionedApp | workload | service
    namespaces: list[str] | None = None  # None = snapshot.namespaces
    inject_service_nodes: bool = False
    include_idle_edges: bool = False
    rate_http: str = "requests"
    rate_grpc: str = "requests"
    rate_tcp: str = "sent"
    appenders: list[str] | None = None  # None = all (Kiali API default); [] = none
    response_time: str = "95"  # avg|50|95|99
    throughput: str = "response"  # request|response
    box_by: list[str] = field(default_factory=list)
    health_rules: list | None = None  # health.RateRule list for the health appender; None = Kiali's defaults
    #: aggregateNode: the metric label to aggregate requests by (Kiali's `aggregate`), and one value
    #: of it (Kiali's aggregate node graph, `aggregateValue`; "" = every value)
    aggregate: str = DEFAULT_AGGREGATE
    aggregate_value: str = ""

    def validate(self, names: Mapping[str, str] | None = None) -> None:
        """Bad values are the user's mistake: one clear line, exit code 2. The one place graph
        option choices are checked; `names` maps a field to what the caller calls it (a flag)."""
        names = names or {}
        for name, allowed in CHOICES.items():
            values = getattr(self, name)
            for value in values if isinstance(values, list) else [values]:
                if value not in allowed:
                    raise UsageError(f"invalid {names.get(name, name)} {value!r}: expected one of {', '.join(allowed)}")
        registry.selected_names(self.appenders)
        if not _LABEL_NAME.match(self.aggregate):
            flag = names.get("aggregate", "aggregate")
            raise UsageError(
                f"invalid {flag} {self.aggregate!r}: expected a Prometheus label name such as request_operation"
            )

    @property
    def injects(self) -> bool:
        """Service graphs are built from service-injected workload graphs."""
        return self.inject_service_nodes or self.graph_type == "service"

    @property
    def build_type(self) -> str:
        return "workload" if self.graph_type == "service" else self.graph_type


def graph_metrics(options: GraphOptions) -> list[tuple[str, str]]:
    """[(metric, kind)] to read, in Kiali's order; kind is requests|grpc|tcp.

    TCP is deliberately swapped: rate `sent` reads istio_tcp_received_bytes_total (istio#32399).
    """
    out: list[tuple[str, str]] = []
    if options.rate_http == "requests" or options.rate_grpc == "requests":
        out.append((REQUESTS, "requests"))
    if options.rate_grpc in ("sent", "total"):
        out.append((REQUEST_MESSAGES, "grpc"))
    if options.rate_grpc in ("received", "total"):
        out.append((RESPONSE_MESSAGES, "grpc"))
    if options.rate_tcp in ("sent", "total"):
        out.append((TCP_RECEIVED, "tcp"))
    if options.rate_tcp in ("received", "total"):
        out.append((TCP_SENT, "tcp"))
    return out


#: The labels the graph reads from each series: the ends, then protocol, code, flags, gRPC status.
SERIES_LABELS = (*RESOLVE_LABELS, "request_protocol", "response_code", "response_flags", "grpc_response_status")


def build_namespace_graph(
    snapshot: Snapshot, namespace: str, options: GraphOptions, ctx: AppenderContext | None = None
) -> TrafficGraph:
    """One namespace's traffic map (Kiali buildNamespaceTrafficMap + populateTrafficMap)."""
    graph = TrafficGraph(
        graph_type=options.graph_type,
        timestamp=snapshot.window.end,
        duration=snapshot.window.duration_s,
        namespaces=[namespace],
    )
    nodes = NodeFactory(options.build_type, ctx.node_ids if ctx is not None else None)
    lookup = ctx.query if ctx is not None else snapshot.query
    if ctx is not None and ctx.resolver is None:
        ctx.resolver = Resolver(options.build_type, options.injects, ctx.node_ids)
    resolver = ctx.resolver if ctx is not None else Resolver(options.build_type, options.injects, nodes.ids)
    enabled = set()
    if options.rate_http == "requests":
        enabled.add("http")
    if options.rate_grpc == "requests":
        enabled.add("grpc")
    writer = FlowWriter(graph, nodes)
    for metric, kind in graph_metrics(options):
        for role in GRAPH_ROLES:
            result = lookup(graph_key(metric, role), namespace)
            if result is not None:
                _apply(writer, resolver, result.table(SERIES_LABELS), metric, kind, enabled, options.include_idle_edges)
    return graph


def _apply(
    writer: FlowWriter,
    resolver: Resolver,
    table: SeriesTable,
    metric: str,
    kind: str,
    enabled: set[str],
    idle: bool,
) -> None:
    """One graph query's series, in order, onto the graph (Kiali populateTrafficMap): a series
    with a value (or any, with idle edges), the labels its kind needs and an enabled protocol
    adds its value to the hops of its flow. Only `requests` series count errors."""
    add = writer.add
    errors = kind == "requests"
    for ends, protocol, value, code, flags in graph_series(resolver, table, kind, enabled, idle):
        add(ends, metric, protocol, value, code, flags, errors)


def accessible_namespaces(snapshot: Snapshot, requested: list[str] | None = None) -> frozenset[tuple[str, str]]:
    """(cluster, namespace) pairs whose config was readable, keyed per cluster as Kiali keys them.

    A cluster that lists Namespace objects has those (and the graph's requested namespaces, which
    Kiali requires to be readable): an object in an unlisted namespace was not readable as a
    namespace, like a ServiceEntry in a namespace Kiali's client cannot see. A cluster without
    Namespace objects has the namespaces its objects are in plus the snapshot's namespaces. A
    config gap for a namespace takes it out. Cluster `*` stands for any cluster when no object
    names one.
    """
    blocked = {(g.cluster, g.namespace) for g in snapshot.gaps if g.phase == "config" and g.namespace}
    all_blocked = any(g.phase == "config" and not g.namespace for g in snapshot.gaps) and not snapshot.objects
    listed: dict[str, set[str]] = {}
    seen: dict[str, set[str]] = {}
    for o in snapshot.objects:
        if o.kind == "Namespace":
            listed.setdefault(o.cluster, set()).add(o.name)
        elif o.namespace:
            seen.setdefault(o.cluster, set()).add(o.namespace)
    pairs: set[tuple[str, str]] = set()
    for cluster in sorted(set(listed) | set(seen)) or ["*"]:
        if cluster in listed:
            names = listed[cluster] | set(requested if requested is not None else snapshot.namespaces)
        else:
            names = set(seen.get(cluster, ()))
            if not all_blocked:
                names |= set(snapshot.namespaces)
        pairs |= {(cluster, ns) for ns in names if (None, ns) not in blocked and (cluster, ns) not in blocked}
    return frozenset(pairs)


def build_graph(snapshot: Snapshot, options: GraphOptions | None = None, mesh: MeshIndex | None = None) -> TrafficGraph:
    """The traffic graph for the snapshot's window, Kiali's namespace graph semantics.

    `mesh` is the snapshot's shared MeshIndex (`pipeline.analyse` builds it once for every
    analysis); without it one is built here.

    Callers building big graphs pause the cyclic garbage collector around this
    (`meshreport.pipeline.paused_gc`, as `pipeline.analyse` does).
    """
    o = options or GraphOptions()
    o.validate()
    namespaces = list(o.namespaces) if o.namespaces is not None else list(snapshot.namespaces)
    index = ConfigIndex.from_snapshot(snapshot, mesh)
    ctx = AppenderContext.create(
        snapshot,
        o,
        index=index,
        graph_type=o.build_type,
        inject_service_nodes=o.injects,
        requested=frozenset(namespaces),
        accessible=accessible_namespaces(snapshot, namespaces),
    )
    ns_appenders, finalizers = registry.select(o.appenders)
    graph = TrafficGraph(
        graph_type=o.graph_type,
        timestamp=snapshot.window.end,
        duration=snapshot.window.duration_s,
        namespaces=namespaces,
        options=_options_dict(o),
    )
    merger = GraphMerger(graph)
    for ns in namespaces:
        ns_graph = build_namespace_graph(snapshot, ns, o, ctx)
        ns_ctx = ctx.for_namespace(ns)
        for a in ns_appenders:
            a.apply(ns_graph, ns_ctx)
        merger.merge(ns_graph, ns)
    for a in finalizers:
        a.apply(graph, ctx)
    if o.graph_type == "service":
        graph = reduce_to_service_graph(graph)
    return graph


def _options_dict(o: GraphOptions) -> dict:
    extra = {}
    if o.aggregate != DEFAULT_AGGREGATE or o.aggregate_value:
        extra = {"aggregate": o.aggregate, "aggregateValue": o.aggregate_value}
    return extra | {
        "graphType": o.graph_type,
        "injectServiceNodes": o.injects,
        "includeIdleEdges": o.include_idle_edges,
        "rateHttp": o.rate_http,
        "rateGrpc": o.rate_grpc,
        "rateTcp": o.rate_tcp,
        "appenders": None if o.appenders is None else list(o.appenders),
        "responseTime": o.response_time,
        "throughputType": o.throughput,
        "boxBy": list(o.box_by),
    }
