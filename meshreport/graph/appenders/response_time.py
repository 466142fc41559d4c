"""responseTime: edge `responseTime` (ms) from the snapshot's latency queries (avg or a quantile).

With injected service nodes the value goes on the service->workload edge only: quantiles of
several workloads cannot be combined into the source->service edge.
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import SeriesMapper
from meshreport.graph.model import TrafficGraph

#: option value -> the <stat> part of the snapshot key `appender/responseTime/<stat>/<role>`.
STATS = {"avg": "avg", "50": "0.5", "95": "0.95", "99": "0.99"}
ROLES = ("incoming", "outgoing")  # destination telemetry first: the first value found wins


def response_time_key(option: str, role: str) -> str:
    return f"appender/responseTime/{STATS[option]}/{role}"


class ResponseTimeAppender:
    name = "responseTime"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        if not (ctx.http_requests or ctx.grpc_requests):
            return
        mapper = SeriesMapper(ctx)
        values: dict[tuple[str, str, str], float] = {}
        for role in ROLES:
            key = response_time_key(ctx.options.response_time, role)
            for value, pairs, (protocol,) in mapper.rows(key, ("request_protocol",), last_hop_only=True):
                for src, dst in pairs:
                    values.setdefault((src, dst, protocol or ""), value)
        if not values:
            return
        for key, e in graph.edges.items():
            v = values.get(key)
            if v is not None:
                e.metadata["responseTime"] = v
