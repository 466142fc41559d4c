"""Node graphs: the traffic into and out of one workload, app or service (Kiali's node graph API).

Kiali runs queries centred on the node: inbound from destination telemetry, outbound from source
telemetry (Kiali graph/telemetry/istio/istio.go). The snapshot's namespace queries already hold exactly
those series (`incoming` is destination-reported, `outgoing` source-reported), so a node graph is
the normal build over a snapshot whose graph series are narrowed to the ones touching the node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from meshreport.errors import UsageError
from meshreport.graph import appenders as registry
from meshreport.graph.build import GraphOptions, build_graph
from meshreport.graph.model import TrafficGraph
from meshreport.mesh_index import MeshIndex
from meshreport.snapshot.model import QueryResult, Series, Snapshot

NODE_KINDS = ("workload", "app", "service")
_SPEC = re.compile(r"^(?P<kind>[a-z]+):(?P<ns>[^/:\s]+)/(?P<name>[^/:\s]+)(?::(?P<version>[^/:\s]+))?$")


@dataclass(frozen=True)
class NodeRef:
    """The node a node graph is centred on."""

    kind: str  # workload | app | service
    namespace: str
    name: str
    version: str = ""

    @classmethod
    def parse(cls, text: str) -> NodeRef:
        """`KIND:NAMESPACE/NAME[:VERSION]`, e.g. `workload:bookinfo/reviews-v1`, `app:bookinfo/reviews:v2`."""
        m = _SPEC.match(text.strip())
        if m is None:
            raise UsageError(
                f"invalid --node {text!r}: expected KIND:NAMESPACE/NAME[:VERSION], e.g. workload:bookinfo/reviews-v1"
            )
        kind = m["kind"]
        if kind not in NODE_KINDS:
            raise UsageError(f"invalid --node kind {kind!r}: expected one of {', '.join(NODE_KINDS)}")
        version = m["version"] or ""
        if version and kind != "app":
            raise UsageError(f"invalid --node {text!r}: only app nodes take a :VERSION")
        return cls(kind, m["ns"], m["name"], version)

    def is_dest(self, labels: dict[str, str]) -> bool:
        """Inbound traffic: the series' destination is this node."""
        if self.kind == "workload":
            return (
                labels.get("destination_workload_namespace") == self.namespace
                and labels.get("destination_workload") == self.name
            )
        if self.kind == "app":
            return (
                labels.get("destination_service_namespace") == self.namespace
                and labels.get("destination_canonical_service") == self.name
                and (not self.version or labels.get("destination_canonical_revision") == self.version)
            )
        # Kiali: destination_service=~"^<svc>\\.<ns>\\..*$"
        return labels.get("destination_service", "").startswith(f"{self.name}.{self.namespace}.")

    def is_source(self, labels: dict[str, str]) -> bool:
        """Outbound traffic: the series' source is this node (services have no outbound query)."""
        if self.kind == "workload":
            return (
                labels.get("source_workload_namespace") == self.namespace and labels.get("source_workload") == self.name
            )
        if self.kind == "app":
            return (
                labels.get("source_workload_namespace") == self.namespace
                and labels.get("source_canonical_service") == self.name
                and (not self.version or labels.get("source_canonical_revision") == self.version)
            )
        return False


def _keep(ref: NodeRef, role: str, labels: dict[str, str]) -> bool:
    if role == "incoming":
        return ref.is_dest(labels)
    if role == "outgoing":
        return ref.is_source(labels) or (
            # service nodes: source-reported requests that reached no workload
            ref.kind == "service" and labels.get("destination_workload") == "unknown" and ref.is_dest(labels)
        )
    if role == "unserviced":
        return ref.kind == "service" and ref.is_dest(labels)
    return False


def narrow(snapshot: Snapshot, ref: NodeRef) -> Snapshot:
    """The snapshot with the node's namespace graph series narrowed to the node's traffic."""
    queries: list[QueryResult] = []
    for q in snapshot.queries:
        parts = q.key.split("/")
        if parts[0] != "graph":
            queries.append(q)
            continue
        if q.namespace != ref.namespace or len(parts) != 3:
            continue
        kept = [Series(s.labels, s.value, s.points) for s in q.series if _keep(ref, parts[2], s.labels)]
        queries.append(replace(q, series=kept))
    return replace(snapshot, queries=queries, namespaces=[ref.namespace])


def node_graph(snapshot: Snapshot, ref: NodeRef, options: GraphOptions, mesh: MeshIndex | None = None) -> TrafficGraph:
    """Kiali's node graph: same options and appenders, but no idleNode and no service reduction.
    `mesh`: the snapshot's shared MeshIndex (the narrowed snapshot keeps every object)."""
    if ref.kind == "app" and options.graph_type not in ("app", "versionedApp"):
        raise UsageError("an app node graph needs --graph-type app or versionedApp")
    if ref.namespace not in snapshot.namespaces:
        raise UsageError(
            f"--node namespace {ref.namespace!r} is not in the snapshot (it has: {', '.join(snapshot.namespaces)})"
        )
    names = registry.selected_names(options.appenders)
    o = replace(options, namespaces=[ref.namespace], appenders=[n for n in names if n != "idleNode"])
    service_type = o.graph_type == "service"
    if service_type:
        # A service node graph is not reduced to a service graph: build the injected workload graph.
        o = replace(o, graph_type="workload", inject_service_nodes=True)
    graph = build_graph(narrow(snapshot, ref), o, mesh)
    if service_type:
        graph.graph_type = "service"
        graph.options["graphType"] = "service"
    graph.options["node"] = {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name, "version": ref.version}
    return graph
