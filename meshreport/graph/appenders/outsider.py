"""Outsider finalizer: mark nodes outside the requested namespaces or in unreadable ones (1.8).

Report pages and other appenders skip such nodes (no badges, no health), as Kiali does.
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.model import TrafficGraph


class OutsiderAppender:
    name = "outsider"
    finalizer = True

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        """Kiali's markOutsideOrInaccessible: any node whose (cluster, namespace) config could not be
        read is inaccessible, in the requested namespaces too (a cluster whose API was not readable).
        Inside the requested namespaces only when the config names at least one cluster of the graph:
        a metrics-only snapshot reads no config at all, and objects tagged with kubeconfig context
        names that are not Istio's cluster ids name none; marking every node would only hide health."""
        readable = {cluster for cluster, _ns in ctx.accessible}
        lined_up = "*" in readable or any(n.cluster in readable for n in graph.nodes.values())
        for n in graph.nodes.values():
            md = n.metadata
            if n.node_type == "unknown":
                md["isInaccessible"] = True
            elif n.node_type == "service" and (n.namespace == "unknown" or md.get("isEgressCluster")):
                md["isInaccessible"] = True
            elif n.namespace != "unknown" and n.namespace not in ctx.requested:
                md["isOutside"] = True
            if (md.get("isOutside") or lined_up) and not md.get("isInaccessible"):
                if not ctx.is_accessible(n.cluster, n.namespace):
                    md["isInaccessible"] = True
