"""Node, Edge and TrafficGraph: Kiali's TrafficMap, as dataclasses.

Rates are kept in plain dicts keyed by Kiali's own names (`httpIn`, `httpIn5xx`, `tcpOut`, ...)
so exports can be compared field by field with Kiali's graph JSON. Appender flags live in
`metadata` under Kiali's JSON names (`isRoot`, `hasVS`, `isOutOfMesh`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GRAPH_TYPES = ("app", "versionedApp", "workload", "service")
NODE_TYPES = ("app", "workload", "service", "unknown", "aggregate")
PROTOCOLS = ("http", "grpc", "tcp")


def is_ok(value: str | None) -> bool:
    """Kiali's IsOK: present and not the literal `unknown`."""
    return bool(value) and value != "unknown"


@dataclass(slots=True)
class Node:
    id: str
    node_type: str
    cluster: str
    namespace: str
    workload: str = ""
    app: str = ""
    version: str = ""
    service: str = ""
    #: {(cluster, namespace, name)} of the services the traffic to this node was addressed to.
    dest_services: set[tuple[str, str, str]] = field(default_factory=set)
    #: Kiali's node rate fields, e.g. {"httpIn": 1.2, "httpIn5xx": 0.1, "tcpOut": 300.0}.
    rates: dict[str, float] = field(default_factory=dict)
    #: Appender flags and data under Kiali's JSON names (isRoot, isDead, hasVS, ...).
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Health computed by the health appender (meshreport.health), None when not computed.
    health: Any = None

    def rate(self, name: str) -> float:
        return self.rates.get(name, 0.0)

    def add_rate(self, name: str, value: float) -> None:
        self.rates[name] = self.rates.get(name, 0.0) + value

    @property
    def label(self) -> str:
        """A short human name for pictures and tables."""
        if self.node_type == "unknown":
            return "unknown"
        if self.node_type == "service":
            return self.service or "unknown"
        if self.node_type == "app":
            return f"{self.app} {self.version}".strip() if self.version else self.app
        return self.workload or self.app or self.service


@dataclass(slots=True)
class Edge:
    source: str
    dest: str
    protocol: str
    #: Kiali's edge rate fields: {"http": total, "http5xx": .., "http4xx": .., "http3xx": ..,
    #: "httpNoResponse": ..} / {"grpc": .., "grpcErr": .., "grpcNoResponse": ..} / {"tcp": ..}.
    rates: dict[str, float] = field(default_factory=dict)
    #: code -> {"flags": {flag: rate}, "hosts": {host: rate}} (Kiali's <protocol>Responses).
    responses: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    #: Appender data: responseTime, throughput, isMTLS, principals, healthStatus ...
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.dest, self.protocol)

    @property
    def total(self) -> float:
        return self.rates.get(self.protocol, 0.0)

    @property
    def errors(self) -> float:
        """Error rate with Kiali's classes: http 4xx+5xx+no response, grpc err+no response."""
        r = self.rates
        if self.protocol == "http":
            return r.get("http4xx", 0.0) + r.get("http5xx", 0.0) + r.get("httpNoResponse", 0.0)
        if self.protocol == "grpc":
            return r.get("grpcErr", 0.0) + r.get("grpcNoResponse", 0.0)
        return 0.0

    @property
    def error_pct(self) -> float:
        return self.errors / self.total * 100.0 if self.total > 0 else 0.0


@dataclass
class TrafficGraph:
    graph_type: str
    #: Query time (window end) and rate range in seconds, as in Kiali's JSON.
    timestamp: float
    duration: int
    namespaces: list[str]
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def add_node(self, node: Node) -> Node:
        """Insert unless present; returns the node stored under that id."""
        return self.nodes.setdefault(node.id, node)

    def edge(self, source: str, dest: str, protocol: str) -> Edge:
        """The one edge per (source, dest, protocol), created on first use (Kiali 1.5.10)."""
        k = (source, dest, protocol)
        e = self.edges.get(k)
        if e is None:
            e = self.edges[k] = Edge(source, dest, protocol)
        return e

    def remove_node(self, node_id: str) -> None:
        self.nodes.pop(node_id, None)
        for k in [k for k in self.edges if k[0] == node_id or k[1] == node_id]:
            del self.edges[k]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.source == node_id]

    def in_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.dest == node_id]
