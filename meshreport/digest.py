"""Digest: what a comparison reads of one analysed snapshot, and nothing more.

Two big snapshots are compared one after the other: each is analysed, reduced to a digest
(plain numbers per node and edge, finding keys, config bodies, gaps) and its graph dropped, so
a diff holds one traffic graph at a time. Pure: built from a snapshot, its traffic graph and
its validation, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshreport.graph.model import Edge, Node, TrafficGraph
from meshreport.snapshot.model import ConfigObject, Snapshot, Window
from meshreport.validation.model import Finding, ValidationResult

#: Kinds whose objects churn on every rollout (pod names, endpoints): not compared as config.
VOLATILE_KINDS = frozenset({"Pod", "ReplicaSet", "Endpoints", "EndpointSlice", "Event", "Lease"})
#: Metadata a cluster writes on every change; only labels and annotations are compared.
_NOISY_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision")

#: The graph appenders whose work a digest reads (Kiali's names, for `GraphOptions.appenders`):
#: the ones that add, remove or retype nodes (serviceEntry, deadNode, aggregateNode, idleNode), the
#: edges' p95 and mTLS share (responseTime, securityPolicy) and health. The others only add
#: metadata no digest reads (throughput, meshCheck's out-of-mesh, istio's VS/DR/gateway badges,
#: workloadEntry); outsider and trafficGenerator always run. A comparison builds only these.
APPENDERS = ("serviceEntry", "deadNode", "responseTime", "securityPolicy", "aggregateNode", "idleNode", "health")

REQUEST_RATES = ("httpIn", "grpcIn")
ERROR_RATES = ("httpIn4xx", "httpIn5xx", "httpInNoResponse", "grpcInErr", "grpcInNoResponse")


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """One app, workload or service node: inbound requests/s, error share and health status."""

    node_type: str
    namespace: str
    name: str
    rate: float
    error_pct: float | None  # None without inbound requests
    status: str | None  # Kiali's health status (Healthy, Degraded, Failure, Not Ready, NA); None: not computed


@dataclass(frozen=True, slots=True)
class EdgeFacts:
    """One edge: requests/s (bytes/s for TCP), error share, p95 in ms, mTLS share in %."""

    source: str  # node ids
    dest: str
    protocol: str
    rate: float
    error_pct: float | None  # None for TCP
    p95: float | None  # None where the graph has no response time (source -> service edges)
    mtls: float  # % of the traffic with mutual TLS (0: plaintext or unknown)
    status: str | None  # the health appender's edge verdict


@dataclass
class Digest:
    """One analysed snapshot, reduced for comparison."""

    window: Window
    schema_version: int
    graph_type: str
    namespaces: tuple[str, ...]
    clusters: tuple[str, ...]
    nodes: dict[str, NodeFacts] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], EdgeFacts] = field(default_factory=dict)
    #: Active findings (suppressed ones are not debt); None when config was not collected.
    findings: list[Finding] | None = None
    #: (cluster, kind, namespace, name) -> compared body; None when config was not collected.
    objects: dict[tuple[str, str, str, str], dict[str, Any]] | None = None
    #: (phase, what, namespace, cluster) -> reason.
    gaps: dict[tuple[str, str, str, str], str] = field(default_factory=dict)

    def node_name(self, node_id: str) -> str:
        n = self.nodes.get(node_id)
        return f"{n.namespace}/{n.name}" if n is not None and n.namespace else (n.name if n else node_id)


def node_name(node: Node) -> str:
    """What tables call a node: `reviews v2`, `reviews` (service), `unknown`."""
    return node.label or node.id


def _node_facts(node: Node) -> NodeFacts:
    req = sum(node.rates.get(k, 0.0) for k in REQUEST_RATES)
    err = sum(node.rates.get(k, 0.0) for k in ERROR_RATES)
    status = getattr(node.health, "status", node.health)
    return NodeFacts(
        node.node_type,
        node.namespace,
        node_name(node),
        req,
        err / req * 100.0 if req > 0 else None,
        None if status is None else str(status),
    )


def _edge_facts(edge: Edge) -> EdgeFacts:
    md = edge.metadata
    rt = md.get("responseTime")
    return EdgeFacts(
        edge.source,
        edge.dest,
        edge.protocol,
        edge.total,
        None if edge.protocol == "tcp" else edge.error_pct,
        float(rt) if isinstance(rt, (int, float)) else None,
        float(md.get("isMTLS") or 0.0),
        md.get("healthStatus"),
    )


def compared_body(obj: ConfigObject) -> dict[str, Any]:
    """The part of an object a config change is about: everything but status and the metadata
    a cluster rewrites (uid, resourceVersion, timestamps, managed fields)."""
    body = {k: v for k, v in obj.body.items() if k not in ("status", "metadata", "apiVersion", "kind")}
    meta = obj.metadata
    labels = meta.get("labels")
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _NOISY_ANNOTATIONS}
    if labels:
        body["metadata.labels"] = labels
    if annotations:
        body["metadata.annotations"] = annotations
    return body


def digest(snapshot: Snapshot, graph: TrafficGraph, validation: ValidationResult | None) -> Digest:
    """Reduce an analysed snapshot; `validation` None means its config was not collected."""
    d = Digest(
        window=snapshot.window,
        schema_version=snapshot.schema_version,
        graph_type=graph.graph_type,
        namespaces=tuple(snapshot.namespaces),
        clusters=tuple(snapshot.source.clusters),
    )
    d.nodes = {nid: _node_facts(n) for nid, n in graph.nodes.items() if n.node_type != "aggregate"}
    d.edges = {k: _edge_facts(e) for k, e in graph.edges.items()}
    if validation is not None:
        d.findings = validation.active
        d.objects = {
            (o.cluster, o.kind, o.namespace or "", o.name): compared_body(o)
            for o in snapshot.objects
            if o.kind not in VOLATILE_KINDS
        }
    d.gaps = {(g.phase, g.what, g.namespace or "", g.cluster or ""): g.reason for g in snapshot.gaps}
    return d
