"""responseTime: edge `responseTime` (ms) from the snapshot's latency queries (avg or a quantile).

With injected service nodes the value goes on the service->workload edge only: quantiles of
several workloads cannot be combined into the source->service edge. The report shows p50, p95
and p99 side by side, so each quantile the snapshot holds also goes into `responseTimes`
({"50": ms, ...}); graph exports leave that key out (Kiali's edge has one responseTime).
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.model import TrafficGraph
from meshreport.graph.vectorised import SeriesMapper
from meshreport.snapshot.keys import response_time_key

#: option value -> the <stat> part of the snapshot key `appender/responseTime/<stat>/<role>`.
STATS = {"avg": "avg", "50": "0.5", "95": "0.95", "99": "0.99"}
ROLES = ("incoming", "outgoing")  # destination telemetry first: the first value found wins
#: The quantiles the report's traffic tables show.
QUANTILES = ("50", "95", "99")


class ResponseTimeAppender:
    name = "responseTime"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        if not (ctx.http_requests or ctx.grpc_requests):
            return
        mapper = SeriesMapper(ctx)
        chosen = ctx.options.response_time
        found = _values(mapper, chosen)
        if found:
            for key, e in graph.edges.items():
                v = found.get(key)
                if v is not None:
                    e.metadata["responseTime"] = v
        for option in QUANTILES:
            values = found if option == chosen else _values(mapper, option)
            for key, v in values.items():
                e = graph.edges.get(key)
                if e is not None:
                    e.metadata.setdefault("responseTimes", {})[option] = v


def _values(mapper: SeriesMapper, option: str) -> dict[tuple[str, str, str], float]:
    """(source, dest, protocol) -> the `option` statistic, from the snapshot's latency queries."""
    keys = [response_time_key(STATS[option], role) for role in ROLES]
    return mapper.first_values(keys, "request_protocol")
