"""throughput: edge `throughput` in bytes/s (request or response bodies), HTTP edges only."""

from __future__ import annotations

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import SeriesMapper
from meshreport.graph.model import TrafficGraph
from meshreport.snapshot.keys import throughput_key

ROLES = ("incoming", "outgoing")


class ThroughputAppender:
    name = "throughput"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        if not ctx.http_requests:
            return
        mapper = SeriesMapper(ctx)
        pairs, values = [], []
        for role in ROLES:
            got = mapper.pair_rows(throughput_key(ctx.options.throughput, role), last_hop_only=True)
            if got is not None:
                table, rows, hops = got
                pairs.append(hops[:, 0])
                values.append(table.values[rows])
        if not pairs:
            return
        pair, value = np.concatenate(pairs), np.concatenate(values)
        keep = pair >= 0
        # bincount adds in row order, as a loop over the series would.
        distinct, inverse = np.unique(pair[keep], return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=value[keep])
        sums = {mapper.pair_list[p]: t for p, t in zip(distinct.tolist(), totals.tolist())}  # noqa: B905
        if not sums:
            return
        for (src, dst, protocol), e in graph.edges.items():
            if protocol == "http" and (src, dst) in sums:
                e.metadata["throughput"] = sums[(src, dst)]
