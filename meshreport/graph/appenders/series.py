"""Mapping an appender query's series to graph edges, the same way the graph was built.

responseTime, securityPolicy and throughput read their own queries; their series must resolve
to exactly the node ids the graph used (same fix-ups, same injection), or values are lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.telemetry import Ends
from meshreport.graph.traffic import NodeFactory
from meshreport.snapshot.model import Series


class SeriesMapper:
    def __init__(self, ctx: AppenderContext) -> None:
        self.ctx = ctx
        self.ids = NodeFactory(ctx.graph_type, ctx.node_ids)
        self._pairs: dict = ctx.pairs_cache
        self._resolve = ctx.resolver or ctx.resolve  # the build's shared cache, without a call level

    def pairs(self, labels: dict[str, str], *, last_hop_only: bool) -> list[tuple[str, str]]:
        """(source id, dest id) pairs of one series; with an injected service node either both hops
        or only service->dest (values that cannot be aggregated go on the last hop only).

        Cached by the series' ends: the responseTime, throughput and securityPolicy series of one
        flow all map to the same pairs. Callers must not change the returned list.
        """
        ends = self._resolve(labels)
        if ends is None:
            return []
        key = (ends, last_hop_only)
        found = self._pairs.get(key)
        if found is None:
            found = self._pairs[key] = self._compute(ends, last_hop_only)
        return found

    def _compute(self, ends: Ends, last_hop_only: bool) -> list[tuple[str, str]]:
        hops = (
            [(ends.source, ends.dest)]
            if ends.service is None
            else [(ends.source, ends.service), (ends.service, ends.dest)]
        )
        if last_hop_only:
            hops = hops[-1:]
        out = []
        for s, d in hops:
            rs, rd = self.ids.resolve(s), self.ids.resolve(d)
            if rs is None or rd is None:
                return []
            out.append((rs[0], rd[0]))
        return out

    def series(self, key: str) -> Iterator[Series]:
        """Positive-valued series of a query for the namespace being processed (Kiali's `> 0`)."""
        q = self.ctx.query(key)
        if q is None:
            return
        for s in q.series:
            v = s.value
            if v is not None and not math.isnan(v) and v > 0:
                yield s
