"""throughput: edge `throughput` in bytes/s (request or response bodies), HTTP edges only."""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.model import TrafficGraph
from meshreport.graph.vectorised import SeriesMapper
from meshreport.snapshot.keys import throughput_key

ROLES = ("incoming", "outgoing")


class ThroughputAppender:
    name = "throughput"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        if not ctx.http_requests:
            return
        sums = SeriesMapper(ctx).sums([throughput_key(ctx.options.throughput, role) for role in ROLES])
        if not sums:
            return
        for (src, dst, protocol), e in graph.edges.items():
            if protocol == "http" and (src, dst) in sums:
                e.metadata["throughput"] = sums[(src, dst)]
