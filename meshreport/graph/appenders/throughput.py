"""throughput: edge `throughput` in bytes/s (request or response bodies), HTTP edges only."""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import SeriesMapper
from meshreport.graph.model import TrafficGraph

ROLES = ("incoming", "outgoing")


def throughput_key(kind: str, role: str) -> str:
    return f"appender/throughput/{kind}/{role}"


class ThroughputAppender:
    name = "throughput"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        if not ctx.http_requests:
            return
        mapper = SeriesMapper(ctx)
        sums: dict[tuple[str, str], float] = {}
        for role in ROLES:
            for value, pairs, _ in mapper.rows(throughput_key(ctx.options.throughput, role), last_hop_only=True):
                for pair in pairs:
                    sums[pair] = sums.get(pair, 0.0) + value
        if not sums:
            return
        for (src, dst, protocol), e in graph.edges.items():
            if protocol == "http" and (src, dst) in sums:
                e.metadata["throughput"] = sums[(src, dst)]
