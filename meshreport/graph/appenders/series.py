"""Mapping an appender query's series to graph edges, the same way the graph was built.

responseTime, securityPolicy and throughput read their own queries; their series must resolve
to exactly the node ids the graph used (same fix-ups, same injection), or values are lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.telemetry import RESOLVE_LABELS, Ends, Resolver
from meshreport.graph.traffic import NodeFactory

_N_RESOLVE = len(RESOLVE_LABELS)


class SeriesMapper:
    def __init__(self, ctx: AppenderContext) -> None:
        self.ctx = ctx
        self.ids = NodeFactory(ctx.graph_type, ctx.node_ids)
        self._pairs: dict = ctx.pairs_cache
        if ctx.resolver is None:
            ctx.resolver = Resolver(ctx.graph_type, ctx.inject_service_nodes)
        self._resolve = ctx.resolver  # the build's shared cache, without a call level

    def pairs_of(self, ends: Ends | None, last_hop_only: bool) -> list[tuple[str, str]]:
        """(source id, dest id) pairs of a flow: one, or with an injected service node either both
        hops or only service->dest (values that cannot be aggregated go on the last hop only).

        Cached by the ends: the responseTime, throughput and securityPolicy series of one flow
        all map to the same pairs. Callers must not change the returned list."""
        if ends is None:
            return []
        key = (id(ends), last_hop_only)  # the resolver hands out one object per distinct ends
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

    def rows(
        self, key: str, extra: tuple[str, ...] = (), *, last_hop_only: bool
    ) -> Iterator[tuple[float, list[tuple[str, str]], tuple]]:
        """(value, `pairs_of` its ends, values of the `extra` labels) of a query's positive-valued
        series for the namespace being processed, in order. Read as id columns: each flow is
        resolved and mapped to pairs once; only the `extra` labels become strings per series."""
        q = self.ctx.query(key)
        if q is None:
            return
        table = q.table((*RESOLVE_LABELS, *extra))
        rows = np.flatnonzero(table.values > 0)  # Kiali's `> 0` (NaN is not)
        if not len(rows):
            return
        flow_of, ends_of = self._resolve.flows(table, rows)
        pairs = [self.pairs_of(ends, last_hop_only) for ends in ends_of]
        cols = [table.column_text(_N_RESOLVE + j, rows) for j in range(len(extra))]
        extras = zip(*cols) if cols else repeat(())  # noqa: B905 (equal lengths)
        for v, flow, x in zip(table.values[rows].tolist(), flow_of, extras):  # noqa: B905
            yield v, pairs[flow], x
