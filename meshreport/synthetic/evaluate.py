"""Evaluate planned queries offline against a synthetic mesh's raw series.

This is the ground truth for tests: it answers every query class of queries.py (RateQuery,
QuantileQuery, RatioQuery; instant and range) the way Prometheus would, given counters that
grow at constant per-second rates (mesh.py). Prometheus semantics reproduced here:

- label matchers `=`, `!=`, `=~`, `!~` on PromQL string bodies (Go escapes unescaped), regexes
  fully anchored, a missing label matches as the empty string; query-scope matchers;
- `rate()` of a constant-rate counter is that rate over any range; `sum by (...)` keeps only
  the non-empty grouping labels;
- `> 0` keeps series whose value is greater than 0 (NaN is dropped);
- `round(v, 0.001)` = floor(v * 1000 + 0.5) / 1000 (Go's implementation);
- `histogram_quantile` with Prometheus' bucket interpolation (sorted, coalesced, monotonic);
- `a / b` one-to-one on identical label sets (x/0 = +Inf, 0/0 = NaN);
- range queries: one point at every `step` from start to end;
- a shaped series (mesh.Shape) contributes rate x (its counter increase over [t - range, t]) /
  range at each time t: what Prometheus' rate() returns when samples sit at both ends of the
  range (query times and ranges on the sample grid, as the collection plan's are).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache

from meshreport.collect.queries import (
    Matcher,
    PlannedQuery,
    QuantileQuery,
    Query,
    RateQuery,
    RatioQuery,
    range_bounds,
)
from meshreport.snapshot.model import QueryResult, Series, Window
from meshreport.synthetic.model import DURATION_BUCKETS, HISTOGRAMS, SUMMARIES, Raw, Shape, le_label

Vector = list[tuple[dict[str, str], float]]
Parts = dict["Shape | None", float]
VecParts = dict["Shape | None", list[float]]
_LE_LABELS = tuple(le_label(b) for b in DURATION_BUCKETS)

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"', "'": "'"}


def unescape(body: str) -> str:
    """PromQL double-quoted string body -> its value (Go strconv.Unquote rules)."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError(f"trailing backslash in {body!r}")
        n = body[i + 1]
        if n in _ESCAPES:
            out.append(_ESCAPES[n])
            i += 2
        elif n in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[n]
            out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
            i += 2 + width
        elif n in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise ValueError(f"unknown escape \\{n} in {body!r}")
    return "".join(out)


@lru_cache(maxsize=4096)
def _regex(value: str) -> re.Pattern[str]:
    return re.compile(unescape(value))


def matches(m: Matcher, actual: str) -> bool:
    """One matcher against one label value ('' when the label is absent)."""
    if m.op == "=":
        return actual == unescape(m.value)
    if m.op == "!=":
        return actual != unescape(m.value)
    if m.op == "=~":
        return _regex(m.value).fullmatch(actual) is not None
    if m.op == "!~":
        return _regex(m.value).fullmatch(actual) is None
    raise ValueError(f"unknown matcher operator {m.op!r}")


_FRAGMENT = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse_fragment(fragment: str) -> tuple[Matcher, ...]:
    """Matchers from a raw selector fragment such as Kiali's `app!="ztunnel",`."""
    out = []
    pos = 0
    fragment = fragment.strip()
    while pos < len(fragment):
        m = _FRAGMENT.match(fragment, pos)
        if not m:
            raise ValueError(f"cannot parse selector fragment {fragment!r}")
        out.append(Matcher(m.group(1), m.group(2), m.group(3)))
        pos = m.end()
    return tuple(out)


def round_to(v: float, to: float = 0.001) -> float:
    """PromQL round(v, to): Go's math.Floor(v*(1/to)+0.5) / (1/to)."""
    if math.isnan(v) or math.isinf(v):
        return v
    inv = 1.0 / to
    return math.floor(v * inv + 0.5) / inv


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' bucketQuantile over (upper bound, cumulative count) pairs: sort, require a
    +Inf bucket, coalesce equal bounds, make counts monotonic, then interpolate linearly."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets, key=lambda b: b[0])
    if not buckets or not math.isinf(buckets[-1][0]):
        return math.nan
    bounds: list[float] = []
    counts: list[float] = []
    for ub, c in buckets:
        if bounds and bounds[-1] == ub:
            counts[-1] += c
        else:
            bounds.append(ub)
            counts.append(c)
    return _quantile_sorted(q, bounds, counts)


def _quantile_sorted(q: float, bounds: list[float] | tuple[float, ...], counts: list[float]) -> float:
    """The interpolation part, for distinct sorted bounds ending in +Inf (0 <= q <= 1)."""
    for i in range(1, len(counts)):  # ensureMonotonic
        if counts[i] < counts[i - 1]:
            counts[i] = counts[i - 1]
    n = len(counts)
    if n < 2:
        return math.nan
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == n - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def _div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a)
    return a / b


class Evaluator:
    """Answers queries over a fixed set of raw series; build once, query many times."""

    def __init__(self, series: Iterable[Raw]) -> None:
        self._by_metric: dict[str, list[Raw]] = {}
        for s in series:
            self._by_metric.setdefault(s.metric, []).append(s)
        self._index: dict[tuple[str, str], dict[str, list[int]]] = {}
        self._key_cache: dict[tuple[str, ...], dict[int, tuple[str, ...]]] = {}
        self._factors: dict[tuple[int, float, float], float] = {}
        self._shapes: dict[int, Shape] = {}

    def _keyf(self, by: tuple[str, ...]):
        # Raw series (and so their base dicts) live as long as the evaluator: ids stay valid.
        return _key_function(by, self._key_cache.setdefault(by, {}))

    # -- selection -----------------------------------------------------------------------

    def _family(self, metric: str) -> tuple[str, str]:
        """(stored metric, part): part is `value`, `bucket`, `sum` or `count`."""
        for fam in HISTOGRAMS + SUMMARIES:
            for part in ("bucket", "sum", "count"):
                if metric == f"{fam}_{part}" and not (part == "bucket" and fam in SUMMARIES):
                    return fam, part
        return metric, "value"

    def _eq_index(self, metric: str, label: str) -> dict[str, list[int]]:
        key = (metric, label)
        idx = self._index.get(key)
        if idx is None:
            idx = {}
            for i, s in enumerate(self._by_metric.get(metric, ())):
                idx.setdefault(s.get(label), []).append(i)
            self._index[key] = idx
        return idx

    def select(self, metric: str, matchers: tuple[Matcher, ...]) -> list[Raw]:
        """Series matching every matcher: candidates from the most selective equality matcher's
        index (kept in storage order), the other matchers checked one by one."""
        rows = self._by_metric.get(metric, [])
        eq = [(self._eq_index(metric, m.label).get(unescape(m.value), []), m) for m in matchers if m.op == "="]
        if eq:
            eq.sort(key=lambda im: len(im[0]))
            ids, first = eq[0]
            picked = [rows[i] for i in ids]
            rest = [m for m in matchers if m is not first]
        else:
            picked = rows
            rest = list(matchers)
        return [s for s in picked if all(matches(m, s.get(m.label)) for m in rest)]

    # -- expressions ---------------------------------------------------------------------
    #
    # A value is a sum of terms `rate x shape.mean(t, range)` (Parts: shape -> summed rate; None
    # is the constant shape), so one grouping serves every evaluation time of a range query.

    def _factor(self, shape: Shape | None, t: float, range_s: float) -> float:
        if shape is None:
            return 1.0
        k = (id(shape), t, range_s)
        f = self._factors.get(k)
        if f is None:
            f = self._factors[k] = shape.mean(t, range_s)
            self._shapes[id(shape)] = shape  # keeps the id valid
        return f

    def _rows(self, q: RateQuery, scope: tuple[tuple[str, str], ...]) -> tuple[str, list[Raw]]:
        fam, part = self._family(q.metric)
        matchers = tuple(Matcher(k, "=", v) for k, v in scope) + parse_fragment(q.prefix) + q.matchers
        return part, self.select(fam, matchers)

    def _rate_parts(self, q: RateQuery, scope: tuple[tuple[str, str], ...]) -> list[tuple[dict[str, str], Parts]]:
        """`sum(rate(metric{...}[r])) by (...)` as parts per output series."""
        part, rows = self._rows(q, scope)
        by = tuple(q.by)
        if part == "bucket":
            rest = tuple(label for label in by if label != "le")
            out: list[tuple[dict[str, str], Parts]] = []
            for labels, vparts in self._bucket_groups(rows, rest):
                if "le" in by:
                    for i, le in enumerate(_LE_LABELS):
                        out.append(({**labels, "le": le}, {sh: vec[i] for sh, vec in vparts.items()}))
                else:
                    out.append((labels, {sh: sum(vec) for sh, vec in vparts.items()}))
            return out
        groups: dict[tuple[str, ...], Parts] = {}
        keyf = self._keyf(by)
        for s in rows:
            key = keyf(s)
            v = s.sum_rate if part == "sum" else s.count_rate if part == "count" else s.value
            g = groups.get(key)
            if g is None:
                groups[key] = {s.shape: v}  # type: ignore[dict-item]
            else:
                g[s.shape] = g.get(s.shape, 0.0) + v  # type: ignore[operator]
        return [(_labels(by, key), v) for key, v in groups.items()]

    def _bucket_groups(self, rows: list[Raw], by: tuple[str, ...]) -> list[tuple[dict[str, str], VecParts]]:
        """Rows grouped by `by` (without `le`), cumulative bucket rates summed per group and shape."""
        groups: dict[tuple[str, ...], VecParts] = {}
        keyf = self._keyf(by)
        for s in rows:
            g = groups.setdefault(keyf(s), {})
            acc = g.get(s.shape)
            vec = s.value  # cumulative bucket rates, aligned with DURATION_BUCKETS
            if acc is None:
                g[s.shape] = list(vec)  # type: ignore[arg-type]
            else:
                for i, x in enumerate(vec):  # type: ignore[arg-type]
                    acc[i] += x
        return [(_labels(by, key), v) for key, v in groups.items()]

    def _value(self, parts: Parts, t: float, range_s: float) -> float:
        return sum(v * self._factor(sh, t, range_s) for sh, v in parts.items())

    def series_fns(self, q: Query, scope: tuple[tuple[str, str], ...]) -> list[tuple[dict[str, str], Fn]]:
        """The expression before `> 0` and round(): one function of evaluation time per series.
        A function with `constant=True` has the same value at every time."""
        if isinstance(q, RateQuery):
            r = q.range_s
            return [
                (labels, self._fn(parts, lambda t, p=parts: self._value(p, t, r)))
                for labels, parts in self._rate_parts(q, scope)
            ]
        if isinstance(q, QuantileQuery) and self._family(q.rate.metric)[1] == "bucket" and "le" in q.rate.by:
            # Fast path: group the histogram vectors directly instead of per-`le` series.
            part, rows = self._rows(q.rate, scope)
            rest = tuple(label for label in q.rate.by if label != "le")
            r, qq = q.rate.range_s, q.quantile

            def quantile(t: float, vparts: VecParts) -> float:
                if len(vparts) == 1 and None in vparts:
                    vec = list(vparts[None])
                else:
                    vec = [0.0] * len(DURATION_BUCKETS)
                    for sh, vv in vparts.items():
                        f = self._factor(sh, t, r)
                        for i, x in enumerate(vv):
                            vec[i] += x * f
                if 0 <= qq <= 1:
                    return _quantile_sorted(qq, DURATION_BUCKETS, vec)
                return bucket_quantile(qq, list(zip(DURATION_BUCKETS, vec, strict=True)))

            return [
                (labels, self._fn(vparts, lambda t, vp=vparts: quantile(t, vp)))
                for labels, vparts in self._bucket_groups(rows, rest)
            ]
        if isinstance(q, QuantileQuery):
            groups: dict[tuple[tuple[str, str], ...], list[tuple[float, Fn]]] = {}
            for labels, fn in self.series_fns(q.rate, scope):
                if "le" not in labels:
                    continue
                rest_labels = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
                groups.setdefault(rest_labels, []).append((float(labels["le"]), fn))
            out: list[tuple[dict[str, str], Fn]] = []
            for k, bs in groups.items():

                def general(t: float, bs: list[tuple[float, Fn]] = bs) -> float:
                    return bucket_quantile(q.quantile, [(le, fn(t)) for le, fn in bs])

                out.append((dict(k), _Fn(general, all(fn.constant for _, fn in bs))))
            return out
        if isinstance(q, RatioQuery):
            den = {_key(labels): fn for labels, fn in self.series_fns(q.den, scope)}
            ratio: list[tuple[dict[str, str], Fn]] = []
            for labels, nf in self.series_fns(q.num, scope):
                df = den.get(_key(labels))
                if df is not None:
                    ratio.append((labels, _Fn(lambda t, a=nf, b=df: _div(a(t), b(t)), nf.constant and df.constant)))
            return ratio
        raise TypeError(f"cannot evaluate {type(q).__name__}")

    @staticmethod
    def _fn(parts: Parts | VecParts, f) -> Fn:
        return _Fn(f, all(sh is None for sh in parts))

    def evaluate(self, q: Query, times: list[float]) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """The full query as its promql() renders it (filter, scope, rounding) at each time;
        series without any point left are dropped, as Prometheus does."""
        out = []
        for labels, fn in self.series_fns(q, tuple(q.scope)):
            if fn.constant:
                v = fn(times[-1])
                if not q.idle and not v > 0:
                    continue
                v = round_to(v) if q.rounded else v
                out.append((labels, [(t, v) for t in times]))
                continue
            pts = []
            for t in times:
                v = fn(t)
                if not q.idle and not v > 0:
                    continue
                pts.append((t, round_to(v) if q.rounded else v))
            if pts:
                out.append((labels, pts))
        out.sort(key=lambda lp: tuple(lp[0].items()))  # labels are in `by` order: deterministic
        return out

    def instant(self, q: Query, time: float = 0.0) -> Vector:
        """The query at one time (the time matters only for shaped series)."""
        return [(labels, pts[0][1]) for labels, pts in self.evaluate(q, [time])]

    def run(self, planned: PlannedQuery, window: Window) -> QueryResult:
        """One planned query as a QueryResult, evaluated the way the collector runs it:
        instant at the window end, or range over `queries.range_bounds()` at `step`."""
        q = planned.query
        if planned.kind == "range":
            step = planned.step or 60
            start, end = range_bounds(window.start, window.end, step)
            series = [
                Series(labels=labels, points=pts) for labels, pts in self.evaluate(q, range_times(start, end, step))
            ]
            return QueryResult(
                key=planned.key,
                promql=q.promql(),
                namespace=planned.namespace,
                kind="range",
                time=end,
                series=series,
                start=start,
                step=step,
            )
        return QueryResult(
            key=planned.key,
            promql=q.promql(),
            namespace=planned.namespace,
            kind="instant",
            time=window.end,
            series=[Series(labels=labels, value=v) for labels, v in self.instant(q, window.end)],
        )


class _Fn:
    """A series' value as a function of evaluation time; `constant` when no shape is involved."""

    __slots__ = ("f", "constant")

    def __init__(self, f, constant: bool) -> None:
        self.f = f
        self.constant = constant

    def __call__(self, t: float) -> float:
        return self.f(t)


Fn = _Fn


def range_times(start: float, end: float, step: float) -> list[float]:
    """Prometheus' range-query evaluation times: start, start+step, ... while <= end."""
    n = int(math.floor((end - start) / step + 1e-9))
    return [start + i * step for i in range(n + 1)]


def _key_function(by: tuple[str, ...], cache: dict[int, tuple[str, ...]]):
    """Group key of a raw series for `by`: the base-label part is computed once per shared base
    dict (one per flow and reporter; `cache` is kept per `by` across queries), the per-series
    labels are patched in by position."""
    positions: dict[tuple[str, ...], tuple[tuple[int, str], ...]] = {}

    def key(s: Raw) -> tuple[str, ...]:
        base = cache.get(id(s.base))
        if base is None:
            base = cache[id(s.base)] = tuple(s.base.get(label, "") for label in by)
        extra = s.extra
        if not extra:
            return base
        names = tuple(extra)
        pos = positions.get(names)
        if pos is None:
            pos = positions[names] = tuple((i, label) for i, label in enumerate(by) if label in extra)
        if not pos:
            return base
        k = list(base)
        for i, label in pos:
            k[i] = extra[label]
        return tuple(k)

    return key


def _labels(by: tuple[str, ...], key: tuple[str, ...]) -> dict[str, str]:
    return {label: v for label, v in zip(by, key, strict=True) if v != ""}


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))
