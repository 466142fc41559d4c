"""The appender interface: one small object per Kiali appender, run in Kiali's fixed order.

Namespace appenders run on each namespace's graph before the merge (`ctx.namespace` is set);
finalizers run once on the merged graph (`ctx.namespace` is None). Appenders never do I/O: they
read the snapshot's query results and the config index, both built once per graph.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from meshreport.graph.config_index import ConfigIndex
from meshreport.graph.telemetry import Resolver
from meshreport.snapshot.model import QueryResult, Snapshot

if TYPE_CHECKING:
    from meshreport.graph.build import GraphOptions
    from meshreport.graph.model import TrafficGraph


class Appender(Protocol):
    """`name` is Kiali's appender name; `finalizer` says whether it runs once on the merged graph."""

    name: str
    finalizer: bool

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None: ...


@dataclass
class AppenderContext:
    """What an appender may read. Shared by all appenders of one build; `namespace` varies."""

    snapshot: Snapshot
    options: GraphOptions
    index: ConfigIndex
    #: The graph type used while building: `workload` for service graphs (they are reduced last).
    graph_type: str
    inject_service_nodes: bool
    #: Namespaces the graph was asked for (outsider: anything else is outside).
    requested: frozenset[str]
    #: (cluster, namespace) pairs whose config could be read (outsider: anything else is
    #: inaccessible); cluster `*` means any cluster.
    accessible: frozenset[tuple[str, str]]
    #: The namespace being processed, for namespace appenders; None for finalizers.
    namespace: str | None = None
    _queries: dict[tuple[str, str | None], QueryResult] = field(default_factory=dict, repr=False)
    #: Caches shared by the whole build (for_namespace copies share them): series ends, node ids
    #: and appender edge pairs depend only on labels, the graph type and injection.
    resolver: Resolver | None = field(default=None, repr=False)
    node_ids: dict = field(default_factory=dict, repr=False)
    pair_list: list = field(default_factory=list, repr=False)
    pair_numbers: dict = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, snapshot: Snapshot, options: GraphOptions, **kw: object) -> AppenderContext:
        ctx = cls(snapshot=snapshot, options=options, **kw)  # type: ignore[arg-type]
        ctx._queries = {(q.key, q.namespace): q for q in snapshot.queries}
        ctx.resolver = Resolver(ctx.graph_type, ctx.inject_service_nodes, ctx.node_ids)
        return ctx

    def for_namespace(self, namespace: str | None) -> AppenderContext:
        return replace(self, namespace=namespace)

    def query(self, key: str, namespace: str | None = None) -> QueryResult | None:
        """A snapshot query result by key, for `namespace` (default: the one being processed)."""
        return self._queries.get((key, self.namespace if namespace is None else namespace))

    def is_accessible(self, cluster: str, namespace: str) -> bool:
        return (cluster, namespace) in self.accessible or ("*", namespace) in self.accessible

    @property
    def http_requests(self) -> bool:
        return self.options.rate_http == "requests"

    @property
    def grpc_requests(self) -> bool:
        return self.options.rate_grpc == "requests"


def out_index(graph: TrafficGraph) -> dict[str, list]:
    """source id -> its edges, built once so appenders never scan all edges per node."""
    idx: dict[str, list] = defaultdict(list)
    for e in graph.edges.values():
        idx[e.source].append(e)
    return idx


def in_index(graph: TrafficGraph) -> dict[str, list]:
    """dest id -> its edges."""
    idx: dict[str, list] = defaultdict(list)
    for e in graph.edges.values():
        idx[e.dest].append(e)
    return idx


def remove_nodes(graph: TrafficGraph, ids: set[str]) -> None:
    """Drop nodes and every edge touching them in one pass over the edges."""
    if not ids:
        return
    for nid in ids:
        graph.nodes.pop(nid, None)
    graph.edges = {k: e for k, e in graph.edges.items() if k[0] not in ids and k[1] not in ids}
