"""The graph's array code: every numpy operation of the graph build and its metric appenders.

A 10,000-workload mesh answers some 600,000 series. The readable Kiali logic (`build.py`,
`telemetry.resolve_key`, `traffic.FlowWriter`, the appenders) works on one flow at a time; this
module gets it there fast. Series are read as id columns (`snapshot.table.SeriesTable`); a
series' flow (the values of `telemetry.RESOLVE_LABELS`) is found by a dict lookup of its ids'
bytes, so only new flows become strings and are resolved; the few labels that vary per series
(code, protocol, policy) are grouped or numbered and turned into strings once per value. The
metric appenders (responseTime, securityPolicy, throughput) ask `SeriesMapper` for per-edge
values and get dicts keyed by node ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.telemetry import N_RESOLVE, RESOLVE_LABELS, Ends, Resolver
from meshreport.graph.traffic import NodeFactory, code_of
from meshreport.snapshot.packed import StringTable
from meshreport.snapshot.table import MISSING, SeriesTable, group

# --- flows: distinct RESOLVE_LABELS rows -------------------------------------------------------

_FLOW_KEY = np.dtype((np.void, 4 * N_RESOLVE))


class FlowIndex:
    """The flows (distinct rows of RESOLVE_LABELS ids) of the tables that share one string
    table, numbered in order of first appearance, and their ends (None: the series are skipped).
    `hops` holds the appenders' per-flow node pair arrays (`SeriesMapper`), grown with `ends`."""

    __slots__ = ("strings", "numbers", "ends", "hops")

    def __init__(self, strings: Sequence[str]) -> None:
        self.strings = strings
        self.numbers: dict[bytes, int] = {}
        self.ends: list[Ends | None] = []
        #: (both hops, last hop only) pair numbers per flow, (flows, 2) each; see SeriesMapper.
        self.hops: tuple[np.ndarray, np.ndarray] | None = None


def flow_index(resolver: Resolver, strings: Sequence[str]) -> FlowIndex:
    """The resolver's FlowIndex for tables over `strings` (a snapshot's queries share one)."""
    for index in resolver.flow_indexes:
        if index.strings is strings:
            return index
    index = FlowIndex(strings)
    resolver.flow_indexes.append(index)
    return index


def flows(resolver: Resolver, table: SeriesTable, rows: np.ndarray) -> tuple[np.ndarray, FlowIndex]:
    """The flows of the series `rows` of a table whose first columns are RESOLVE_LABELS:
    (flow number of each row, the index whose `ends` those numbers point into).

    A snapshot's queries share one string table, so a flow's ids are the same in every query
    that sees it: it is resolved (from strings) once, where it first appears, and every other
    series of it finds its number with one dict lookup of its ids' bytes.
    """
    key_ids = np.ascontiguousarray(table.ids[rows, :N_RESOLVE])
    raw = key_ids.view(_FLOW_KEY).ravel().tolist()
    index = flow_index(resolver, table.strings)
    numbers = index.numbers
    get = numbers.get
    out = [get(b, -1) for b in raw]
    if -1 in out:
        text, by_key, ends = table.text, resolver.by_key, index.ends
        for i, n in enumerate(out):
            if n == -1:
                b = raw[i]
                n = numbers.get(b)
                if n is None:
                    n = numbers[b] = len(ends)
                    ends.append(by_key(text(key_ids[i].tolist())))
                out[i] = n
    return np.array(out, dtype=np.intp), index


# --- the graph build's series ------------------------------------------------------------------

#: Columns of a graph query's table after RESOLVE_LABELS (build.SERIES_LABELS).
PROTOCOL, CODE, FLAGS, GRPC = range(N_RESOLVE, N_RESOLVE + 4)


def graph_series(
    resolver: Resolver, table: SeriesTable, kind: str, enabled: set[str], idle: bool
) -> Iterator[tuple[Ends, str, float, str, str]]:
    """(ends, protocol, value, code, flags) of each series of one graph query that Kiali keeps,
    in order: a value (or `idle`), the labels its kind needs, resolvable ends, an enabled protocol.

    The checks that look at one label or a code are made on the id columns; each distinct flow
    and each distinct (code, gRPC status, protocol) is turned into strings once.
    """
    values = np.where(np.isnan(table.values), 0.0, table.values)  # NaN counts as 0, as Kiali reads it
    ids = table.ids
    keep = np.ones(len(values), dtype=bool) if idle else values > 0
    if kind == "requests":
        keep &= (ids[:, PROTOCOL] != MISSING) & (ids[:, CODE] != MISSING) & (ids[:, FLAGS] != MISSING)
    elif kind == "tcp":
        keep &= ids[:, FLAGS] != MISSING
    rows = np.flatnonzero(keep)
    if not len(rows):
        return
    flow_of, index = flows(resolver, table, rows)
    ends_of = index.ends
    text = table.text
    flags_of = table.column_text(FLAGS, rows) if kind != "grpc" else [""] * len(rows)
    if kind == "requests":
        kinds, firsts = group(ids[rows][:, [CODE, GRPC, PROTOCOL]])
        found = []
        for i in firsts.tolist():
            code, grpc, protocol = text(ids[rows[i], [CODE, GRPC, PROTOCOL]].tolist())
            found.append((protocol, code_of(code, grpc, protocol)) if protocol in enabled else None)
        per_series = [found[k] for k in kinds.tolist()]
    elif kind == "tcp":
        per_series = [("tcp", "-")] * len(rows)
    else:
        per_series = [("grpc", "-")] * len(rows)
    for value, flow, pc, flags in zip(values[rows].tolist(), flow_of.tolist(), per_series, flags_of):  # noqa: B905
        ends = ends_of[flow]
        if ends is None or pc is None:
            continue
        yield ends, pc[0], value, pc[1], flags


# --- the metric appenders' series --------------------------------------------------------------


class SeriesMapper:
    """An appender query's series mapped to graph edges, the same way the graph was built.

    responseTime, securityPolicy and throughput read their own queries; their series must
    resolve to exactly the node ids the graph used (same fix-ups, same injection), or values
    are lost. They ask for per-edge values (`first_values`, `sums`, `policies`) and get dicts.
    """

    def __init__(self, ctx: AppenderContext) -> None:
        self.ctx = ctx
        self.ids = NodeFactory(ctx.graph_type, ctx.node_ids)
        if ctx.resolver is None:
            ctx.resolver = Resolver(ctx.graph_type, ctx.inject_service_nodes, ctx.node_ids)
        self._resolver = ctx.resolver  # the build's shared cache
        #: (source id, dest id) of every pair number handed out by `pair_rows`, for the build.
        self.pair_list: list[tuple[str, str]] = ctx.pair_list
        self._pair_numbers: dict[tuple[str, str], int] = ctx.pair_numbers

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
        numbers, index = flows(self._resolver, table, rows)
        return table, rows, self._hop_pairs(index, last_hop_only)[numbers]

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

    def _hop_pairs(self, index: FlowIndex, last_hop_only: bool) -> np.ndarray:
        """Pair numbers of every flow's hops, (flows, 2), -1 for none: one hop, or with an
        injected service node both hops, or only service->dest when `last_hop_only` (values
        that cannot be aggregated go on the last hop only). A flow whose hops name no node
        has none. Both forms are computed together, once per flow, and extended as flows grow."""
        both, last = index.hops or (np.zeros((0, 2), dtype=np.intp), np.zeros((0, 2), dtype=np.intp))
        if len(both) < len(index.ends):
            resolve, number = self.ids.resolve, self._pair_number
            new_both, new_last = [], []
            for ends in index.ends[len(both) :]:
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
            index.hops = (both, last)
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
