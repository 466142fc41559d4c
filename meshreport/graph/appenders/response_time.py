"""responseTime: edge `responseTime` (ms) from the snapshot's latency queries (avg or a quantile).

With injected service nodes the value goes on the service->workload edge only: quantiles of
several workloads cannot be combined into the source->service edge.
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import SeriesMapper
from meshreport.graph.model import TrafficGraph
from meshreport.snapshot.keys import response_time_key

#: option value -> the <stat> part of the snapshot key `appender/responseTime/<stat>/<role>`.
STATS = {"avg": "avg", "50": "0.5", "95": "0.95", "99": "0.99"}
ROLES = ("incoming", "outgoing")  # destination telemetry first: the first value found wins


class ResponseTimeAppender:
    name = "responseTime"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        if not (ctx.http_requests or ctx.grpc_requests):
            return
        keys = [response_time_key(STATS[ctx.options.response_time], role) for role in ROLES]
        found = SeriesMapper(ctx).first_values(keys, "request_protocol")  # (source, dest, protocol)
        if not found:
            return
        for key, e in graph.edges.items():
            v = found.get(key)
            if v is not None:
                e.metadata["responseTime"] = v
