"""trafficGenerator finalizer: `isRoot` for nodes that send traffic and receive none."""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.model import TrafficGraph


class TrafficGeneratorAppender:
    name = "trafficGenerator"
    finalizer = True

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        sources = {k[0] for k in graph.edges}
        dests = {k[1] for k in graph.edges}
        for nid in sources - dests:
            node = graph.nodes.get(nid)
            if node is not None:
                node.metadata["isRoot"] = True
