"""Mapping an appender query's series to graph edges, the same way the graph was built.

responseTime, securityPolicy and throughput read their own queries; their series must resolve
to exactly the node ids the graph used (same fix-ups, same injection), or values are lost.
This is the appenders' one array module: they ask for per-edge values (`first_values`,
`sums`, `policies`) and get dicts keyed by node ids; the numpy work stays here.
"""

from __future__ import annotations

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.telemetry import N_RESOLVE, RESOLVE_LABELS, FlowIndex, Resolver
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

    def first_values(self, keys: list[str], label: str) -> dict[tuple[str, str, str], float]:
        """(source, dest, `label` value) -> the first value of the `keys` queries, in order, on
        each series' last hop (responseTime: the first value found wins)."""
        labels = Codes()
        pairs, codes, values = [], [], []
        for key in keys:
            got = self.pair_rows(key, (label,), last_hop_only=True)
            if got is not None:
                table, rows, hops = got
                pairs.append(hops[:, 0])
                codes.append(labels.of(table, N_RESOLVE, rows))
                values.append(table.values[rows])
        if not pairs:
            return {}
        pair, code, value = np.concatenate(pairs), np.concatenate(codes), np.concatenate(values)
        keep = np.flatnonzero(pair >= 0)
        _, first = np.unique(pair[keep] * len(labels.values) + code[keep], return_index=True)
        at = keep[first]
        return {
            (*self.pair_list[p], labels.values[c]): v
            for p, c, v in zip(pair[at].tolist(), code[at].tolist(), value[at].tolist())  # noqa: B905
        }

    def sums(self, keys: list[str]) -> dict[tuple[str, str], float]:
        """(source, dest) -> the sum of the `keys` queries' values on each series' last hop,
        added in row order as a loop over the series would."""
        pairs, values = [], []
        for key in keys:
            got = self.pair_rows(key, last_hop_only=True)
            if got is not None:
                table, rows, hops = got
                pairs.append(hops[:, 0])
                values.append(table.values[rows])
        if not pairs:
            return {}
        pair, value = np.concatenate(pairs), np.concatenate(values)
        keep = pair >= 0
        distinct, inverse = np.unique(pair[keep], return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=value[keep])
        return {self.pair_list[p]: t for p, t in zip(distinct.tolist(), totals.tolist())}  # noqa: B905

    def policies(
        self, keys: list[str], labels: tuple[str, str, str]
    ) -> tuple[dict[tuple[str, str], dict[str, float]], dict[tuple[str, str], tuple[str, str]]]:
        """For every hop of the `keys` queries' series (both hops with an injected service):
        (source, dest) -> {first label's value: summed rate, in order of first appearance}, and
        (source, dest) -> the second and third labels of the pair's first series
        (securityPolicy: connection_security_policy, then the principals)."""
        codes = Codes()
        parts: list[tuple[np.ndarray, ...]] = []
        for key in keys:
            got = self.pair_rows(key, labels, last_hop_only=False)
            if got is None:
                continue
            table, rows, hops = got
            # Both hops of a series, one after the other, as a loop over its pairs would add them.
            label = [np.repeat(codes.of(table, N_RESOLVE + j, rows), 2) for j in range(len(labels))]
            parts.append((hops.ravel(), np.repeat(table.values[rows], 2), *label))
        if not parts:
            return {}, {}
        pair, value, csp, src_p, dst_p = (np.concatenate(cols) for cols in zip(*parts))  # noqa: B905
        keep = np.flatnonzero(pair >= 0)
        if not len(keep):
            return {}, {}
        pair, value, csp, src_p, dst_p = pair[keep], value[keep], csp[keep], src_p[keep], dst_p[keep]
        names, pairs = codes.values, self.pair_list
        distinct, first, inverse = np.unique(pair * len(names) + csp, return_index=True, return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=value)
        order = np.argsort(first, kind="stable")
        by_pair, by_policy = np.divmod(distinct[order], len(names))
        policies: dict[tuple[str, str], dict[str, float]] = {}
        for p, c, t in zip(by_pair.tolist(), by_policy.tolist(), totals[order].tolist()):  # noqa: B905
            policies.setdefault(pairs[p], {})[names[c]] = t
        distinct, first = np.unique(pair, return_index=True)
        principals = {
            pairs[p]: (names[s], names[d])
            for p, s, d in zip(distinct.tolist(), src_p[first].tolist(), dst_p[first].tolist())  # noqa: B905
        }
        return policies, principals

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
