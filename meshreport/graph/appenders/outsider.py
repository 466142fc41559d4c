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
        for n in graph.nodes.values():
            md = n.metadata
            if n.node_type == "unknown":
                md["isInaccessible"] = True
            elif n.node_type == "service" and (n.namespace == "unknown" or md.get("isEgressCluster")):
                md["isInaccessible"] = True
            elif n.namespace != "unknown" and n.namespace not in ctx.requested:
                md["isOutside"] = True
            if md.get("isOutside") and not md.get("isInaccessible"):
                if not ctx.is_accessible(n.cluster, n.namespace):
                    md["isInaccessible"] = True
