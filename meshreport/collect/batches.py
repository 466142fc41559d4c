"""Fewer, larger queries: one request answers the same query for several namespaces.

The plan (`queries.collection_plan`) has some forty queries per namespace, the same expression
with the namespace in a matcher. Sent one by one, a 100-namespace mesh costs 4,040 requests,
each with its own planning, index lookups and HTTP round trip. A `Batch` sends one expression
for a group of namespaces, with `label="ns"` turned into `label=~"ns1|ns2"`, and hands each
answered series to the namespace query (or queries) it belongs to. This is exact because every
matcher that names the namespace is on a label of the query's `by (...)`: the output series
carry it, so the matcher can be checked on them (`route`), and a sum over a group whose
members all pass or all fail a matcher on a grouping label is the same sum either way. A
matcher that differs between namespaces and is not on a grouping label stops the batch (never
the case in today's plan, checked anyway).

Each namespace's results keep the PromQL of its own query in the snapshot (what its series are
the answer to); the requests actually sent are in the collector facts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from meshreport.collect.queries import Matcher, PlannedQuery, QuantileQuery, Query, RateQuery, RatioQuery

#: Namespace names a batch may hold: Kubernetes names (RFC 1123 labels) need no regex escaping.
_PLAIN_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass(frozen=True)
class Check:
    """A matcher applied to answered series instead of in Prometheus (its label is a grouping label)."""

    label: str
    op: str
    value: str  # the unescaped value (or regex)
    pattern: re.Pattern[str] | None = None

    def ok(self, labels: dict[str, str]) -> bool:
        got = labels.get(self.label, "")
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        hit = self.pattern.fullmatch(got) is not None  # type: ignore[union-attr]
        return hit if self.op == "=~" else not hit


@dataclass
class Batch:
    """One request: `query` answers `members` (plan positions `index`) at once."""

    members: list[PlannedQuery]
    index: list[int]
    query: Query
    checks: list[list[Check]] = field(default_factory=list)  # per member, empty for a single member
    by_value: tuple[str, dict[str, list[int]]] | None = None  # a label whose value names the member

    @property
    def key(self) -> str:
        return self.members[0].key

    @property
    def kind(self) -> str:
        return self.members[0].kind

    @property
    def namespaces(self) -> list[str | None]:
        return [m.namespace for m in self.members]

    def promql(self) -> str:
        return self.query.promql()

    def route(self, labels: dict[str, str]) -> list[int]:
        """The members (positions in `members`) an answered series belongs to."""
        if len(self.members) == 1:
            return [0]
        if self.by_value is not None:
            label, where = self.by_value
            candidates = where.get(labels.get(label, ""), ())
        else:
            candidates = range(len(self.members))
        checks = self.checks
        return [i for i in candidates if all(c.ok(labels) for c in checks[i])]

    def halves(self) -> list[Batch]:
        """Two batches of half the namespaces each (a response too big, or failed)."""
        mid = (len(self.members) + 1) // 2
        parts = [(self.members[:mid], self.index[:mid]), (self.members[mid:], self.index[mid:])]
        return [b for m, i in parts if m for b in make_batches(m, i, len(m))]


def make_batches(plan: list[PlannedQuery], index: list[int] | None = None, size: int = 1) -> list[Batch]:
    """The requests for `plan`: queries with the same key and shape, up to `size` namespaces each.

    Batches come in the plan's order of first member, so the first namespaces' answers come first.
    """
    index = list(range(len(plan))) if index is None else index
    groups: dict[tuple[Any, ...], list[tuple[int, PlannedQuery]]] = {}
    singles: list[Batch] = []
    for i, pq in zip(index, plan, strict=True):
        if size > 1 and pq.namespace is not None and _PLAIN_NAME.fullmatch(pq.namespace):
            groups.setdefault(_shape(pq), []).append((i, pq))
        else:
            singles.append(Batch([pq], [i], pq.query))
    batches = singles
    for members in groups.values():
        for start in range(0, len(members), size):
            part = members[start : start + size]
            batches.extend(_batch([pq for _, pq in part], [i for i, _ in part]))
    return sorted(batches, key=lambda b: b.index[0])


def _shape(pq: PlannedQuery) -> tuple[Any, ...]:
    """Queries with the same shape differ only in their namespace (and so can share a request)."""
    return (pq.key, pq.kind, pq.step, type(pq.query).__name__, pq.query.promql().count('"'))


def _batch(members: list[PlannedQuery], index: list[int]) -> list[Batch]:
    if len(members) == 1:
        return [Batch(members, index, members[0].query)]
    merged = _merge([m.query for m in members])
    if merged is None:  # not batchable after all: one request each
        return [Batch([m], [i], m.query) for m, i in zip(members, index, strict=True)]
    query, checks = merged
    by_value = None
    for pos, c in enumerate(checks[0]):
        if c.op == "=" and len({cs[pos].value for cs in checks}) == len(checks):
            where: dict[str, list[int]] = {}
            for k, cs in enumerate(checks):
                where.setdefault(cs[pos].value, []).append(k)
            by_value = (c.label, where)
            break
    return [Batch(members, index, query, checks, by_value)]


def _merge(queries: list[Query]) -> tuple[Query, list[list[Check]]] | None:
    """One query for all, and per query the matchers its series must pass; None if they differ otherwise."""
    first = queries[0]
    if isinstance(first, RateQuery):
        return _merge_rate(queries)  # type: ignore[arg-type]
    if isinstance(first, QuantileQuery):
        got = _merge_rate([q.rate for q in queries], grouped=_out_labels(first.rate))  # type: ignore[union-attr]
        if got is None or any(dataclasses.replace(q, rate=first.rate) != first for q in queries):  # type: ignore[arg-type]
            return None
        return dataclasses.replace(first, rate=got[0]), got[1]
    if isinstance(first, RatioQuery):
        num = _merge_rate([q.num for q in queries])  # type: ignore[union-attr]
        den = _merge_rate([q.den for q in queries])  # type: ignore[union-attr]
        if num is None or den is None or num[1] != den[1]:
            return None
        if any(dataclasses.replace(q, num=first.num, den=first.den) != first for q in queries):  # type: ignore[arg-type]
            return None
        return dataclasses.replace(first, num=num[0], den=den[0]), num[1]
    return None


def _out_labels(q: RateQuery) -> frozenset[str]:
    return frozenset(q.by) - {"le"}


def _merge_rate(
    queries: list[RateQuery], grouped: frozenset[str] | None = None
) -> tuple[RateQuery, list[list[Check]]] | None:
    first = queries[0]
    grouped = frozenset(first.by) if grouped is None else grouped
    if any(
        len(q.matchers) != len(first.matchers) or dataclasses.replace(q, matchers=first.matchers) != first
        for q in queries
    ):
        return None
    merged: list[Matcher] = []
    checks: list[list[Check]] = [[] for _ in queries]
    for pos, m in enumerate(first.matchers):
        column = [q.matchers[pos] for q in queries]
        if all(c == m for c in column):
            merged.append(m)
            continue
        if any(c.label != m.label or c.op != m.op for c in column) or m.label not in grouped:
            return None
        if m.op == "=":
            merged.append(Matcher(m.label, "=~", "|".join(dict.fromkeys(c.value for c in column))))
        elif m.op == "=~":
            merged.append(Matcher(m.label, "=~", "|".join(dict.fromkeys(f"(?:{c.value})" for c in column))))
        # != and !~ are left to `route`: the answer holds the series of every namespace.
        for k, c in enumerate(column):
            value = _unescape(c.value)
            pattern = re.compile(value) if c.op in ("=~", "!~") else None
            checks[k].append(Check(c.label, c.op, value, pattern))
    return dataclasses.replace(first, matchers=tuple(merged)), checks


def _unescape(body: str) -> str:
    """A PromQL double-quoted string body as the value it stands for (`\\\\` is one backslash)."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)
