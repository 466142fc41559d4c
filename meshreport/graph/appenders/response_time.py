"""responseTime: edge `responseTime` (ms) from the snapshot's latency queries (avg or a quantile).

With injected service nodes the value goes on the service->workload edge only: quantiles of
several workloads cannot be combined into the source->service edge.
"""

from __future__ import annotations

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import Codes, SeriesMapper
from meshreport.graph.model import TrafficGraph
from meshreport.graph.telemetry import N_RESOLVE
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
        mapper = SeriesMapper(ctx)
        protocols = Codes()
        pairs, protos, values = [], [], []
        for role in ROLES:
            key = response_time_key(STATS[ctx.options.response_time], role)
            got = mapper.pair_rows(key, ("request_protocol",), last_hop_only=True)
            if got is not None:
                table, rows, hops = got
                pairs.append(hops[:, 0])
                protos.append(protocols.of(table, N_RESOLVE, rows))
                values.append(table.values[rows])
        if not pairs:
            return
        pair, proto, value = np.concatenate(pairs), np.concatenate(protos), np.concatenate(values)
        keep = np.flatnonzero(pair >= 0)
        # The first value of each (source, dest, protocol) wins.
        _, first = np.unique(pair[keep] * len(protocols.values) + proto[keep], return_index=True)
        at = keep[first]
        found = {
            (*mapper.pair_list[p], protocols.values[c]): v
            for p, c, v in zip(pair[at].tolist(), proto[at].tolist(), value[at].tolist())  # noqa: B905
        }
        if not found:
            return
        for key, e in graph.edges.items():
            v = found.get(key)
            if v is not None:
                e.metadata["responseTime"] = v
