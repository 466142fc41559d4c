"""Mapping an appender query's series to graph edges, the same way the graph was built.

responseTime, securityPolicy and throughput read their own queries; their series must resolve
to exactly the node ids the graph used (same fix-ups, same injection), or values are lost.
"""

from __future__ import annotations

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.telemetry import RESOLVE_LABELS, Ends, FlowIndex, Resolver
from meshreport.graph.traffic import NodeFactory
from meshreport.snapshot.table import SeriesTable

_N_RESOLVE = len(RESOLVE_LABELS)


class SeriesMapper:
    def __init__(self, ctx: AppenderContext) -> None:
        self.ctx = ctx
        self.ids = NodeFactory(ctx.graph_type, ctx.node_ids)
        self._pairs: dict = ctx.pairs_cache
        if ctx.resolver is None:
            ctx.resolver = Resolver(ctx.graph_type, ctx.inject_service_nodes)
        self._resolve = ctx.resolver  # the build's shared cache, without a call level
        #: (source id, dest id) of every pair number handed out by `pair_rows`, for the build.
        self.pair_list: list[tuple[str, str]] = ctx.pair_list
        self._pair_numbers: dict[tuple[str, str], int] = ctx.pair_numbers
        self._pair_arrays: dict = ctx.pair_arrays

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
        """Pair numbers of every flow's hops (`pairs_of`), extended as the flows grow."""
        key = (id(flows), last_hop_only)
        found = self._pair_arrays.get(key)
        have = found[1] if found is not None and found[0] is flows else np.zeros((0, 2), dtype=np.intp)
        if len(have) < len(flows.ends):
            numbers, pairs = self._pair_numbers, self.pair_list
            new = []
            for ends in flows.ends[len(have) :]:
                row = [-1, -1]
                for j, pair in enumerate(self.pairs_of(ends, last_hop_only)):
                    n = numbers.get(pair)
                    if n is None:
                        n = numbers[pair] = len(pairs)
                        pairs.append(pair)
                    row[j] = n
                new.append(row)
            have = np.concatenate([have, np.array(new, dtype=np.intp)])
            self._pair_arrays[key] = (flows, have)
        return have


class Codes:
    """Small integers for label values (None counts as ""), so a few labels of many series can
    be compared and grouped as numbers; `names[code]` is the value."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.names: list[str] = []

    def of(self, table: SeriesTable, column: int, rows: np.ndarray) -> np.ndarray:
        """The code of column `column` of each of `rows`."""
        ids = table.ids[rows, column]
        distinct, inverse = np.unique(ids, return_inverse=True)
        mapped = [self._code(v) for v in table.text(distinct.tolist())]
        return np.array(mapped, dtype=np.intp)[inverse.ravel()]

    def _code(self, value: str | None) -> int:
        value = value or ""
        n = self.numbers.get(value)
        if n is None:
            n = self.numbers[value] = len(self.names)
            self.names.append(value)
        return n
