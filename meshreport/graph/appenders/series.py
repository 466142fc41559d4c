"""Mapping an appender query's series to graph edges, the same way the graph was built.

responseTime, securityPolicy and throughput read their own queries; their series must resolve
to exactly the node ids the graph used (same fix-ups, same injection), or values are lost.
"""

from __future__ import annotations

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.telemetry import RESOLVE_LABELS, FlowIndex, Resolver
from meshreport.graph.traffic import NodeFactory
from meshreport.snapshot.packed import StringTable
from meshreport.snapshot.table import SeriesTable


class SeriesMapper:
    def __init__(self, ctx: AppenderContext) -> None:
        self.ctx = ctx
        self.ids = NodeFactory(ctx.graph_type, ctx.node_ids)
        if ctx.resolver is None:
            ctx.resolver = Resolver(ctx.graph_type, ctx.inject_service_nodes, ctx.node_ids)
        self._resolve = ctx.resolver  # the build's shared cache, without a call level
        #: (source id, dest id) of every pair number handed out by `pair_rows`, for the build.
        self.pair_list: list[tuple[str, str]] = ctx.pair_list
        self._pair_numbers: dict[tuple[str, str], int] = ctx.pair_numbers
        self._pair_arrays: dict = ctx.pair_arrays

    def pair_rows(
        self, key: str, extra: tuple[str, ...] = (), *, last_hop_only: bool
    ) -> tuple[SeriesTable, np.ndarray, np.ndarray] | None:
        """A query's positive-valued series for the namespace being processed, as arrays:
        (table with RESOLVE_LABELS then `extra`, the rows kept, and the node pairs of each row's
        hops: numbers into `pair_list`, shape (rows, 2), -1 where there is no hop).

        The pairs come from per-flow arrays kept for the whole build, so a query's series reach
        their edges without any Python work per series; None when nothing is left."""
        q = self.ctx.query(key)
        if q is None:
            return None
        table = q.table((*RESOLVE_LABELS, *extra))
        rows = np.flatnonzero(table.values > 0)  # Kiali's `> 0` (NaN is not)
        if not len(rows):
            return None
        numbers, flows = self._resolve.flows(table, rows)
        return table, rows, self._hop_pairs(flows, last_hop_only)[numbers]

    def _hop_pairs(self, flows: FlowIndex, last_hop_only: bool) -> np.ndarray:
        """Pair numbers of every flow's hops, (flows, 2), -1 for none: one hop, or with an
        injected service node both hops, or only service->dest when `last_hop_only` (values
        that cannot be aggregated go on the last hop only). A flow whose hops name no node
        has none. Both forms are computed together, once per flow, and extended as flows grow."""
        found = self._pair_arrays.get(id(flows))
        if found is None or found[0] is not flows:
            found = (flows, np.zeros((0, 2), dtype=np.intp), np.zeros((0, 2), dtype=np.intp))
        _, both, last = found
        if len(both) < len(flows.ends):
            resolve, number = self.ids.resolve, self._pair_number
            new_both, new_last = [], []
            for ends in flows.ends[len(both) :]:
                b = l_ = (-1, -1)
                if ends is not None:
                    src, dst = resolve(ends.source), resolve(ends.dest)
                    if ends.service is None:
                        if src is not None and dst is not None:
                            b = l_ = (number(src[0], dst[0]), -1)
                    else:
                        svc = resolve(ends.service)
                        if svc is not None and dst is not None:
                            l_ = (number(svc[0], dst[0]), -1)
                            if src is not None:
                                b = (number(src[0], svc[0]), l_[0])
                new_both.append(b)
                new_last.append(l_)
            both = np.concatenate([both, np.array(new_both, dtype=np.intp)])
            last = np.concatenate([last, np.array(new_last, dtype=np.intp)])
            self._pair_arrays[id(flows)] = (flows, both, last)
        return last if last_hop_only else both

    def _pair_number(self, src: str, dst: str) -> int:
        n = self._pair_numbers.get((src, dst))
        if n is None:
            n = self._pair_numbers[(src, dst)] = len(self.pair_list)
            self.pair_list.append((src, dst))
        return n


class Codes(StringTable):
    """Small integers for label values (None counts as ""), so a few labels of many series can
    be compared and grouped as numbers; `values[code]` is the value."""

    def of(self, table: SeriesTable, column: int, rows: np.ndarray) -> np.ndarray:
        """The code of column `column` of each of `rows`."""
        distinct, inverse = np.unique(table.ids[rows, column], return_inverse=True)
        mapped = [self.id(v or "") for v in table.text(distinct.tolist())]
        return np.array(mapped, dtype=np.intp)[inverse.ravel()]
