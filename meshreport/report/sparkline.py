"""Sparklines of requests, error % and p95 over the window, from the snapshot's trend series.

The trend queries (`trend/requests`, `trend/errors`, `trend/p95`, one set per namespace) are
grouped by destination workload and service. Lines are summed per workload and per namespace
(p95 takes the highest series at each point: quantiles do not add up) and drawn as inline SVG
polylines of at most MAX_POINTS points: numbers only, nothing from the cluster goes into them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from meshreport.report import format as fmt
from meshreport.snapshot.model import Snapshot

WIDTH = 60
HEIGHT = 16
MAX_POINTS = 30


@dataclass(frozen=True)
class Spark:
    """One line: SVG polyline points in a WIDTH x HEIGHT box and the text said about it."""

    points: str
    text: str


@dataclass
class Lines:
    """Requests/s, errors/s and p95 (ms) at each timestamp."""

    requests: dict[float, float] = field(default_factory=dict)
    errors: dict[float, float] = field(default_factory=dict)
    p95: dict[float, float] = field(default_factory=dict)


@dataclass
class Trends:
    by_workload: dict[tuple[str, str], Lines] = field(default_factory=dict)
    by_namespace: dict[str, Lines] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_namespace)


def _add(target: dict[float, float], points, combine: Callable[[float, float], float]) -> None:
    for t, v in points:
        v = float(v)
        if v != v:  # NaN: no data at that step
            continue
        old = target.get(t)
        target[t] = v if old is None else combine(old, v)


def collect_trends(snapshot: Snapshot, namespaces: list[str]) -> Trends:
    trends = Trends()
    add = float.__add__
    for ns in namespaces:
        for key, attr, combine in (
            ("trend/requests", "requests", add),
            ("trend/errors", "errors", add),
            ("trend/p95", "p95", max),
        ):
            q = snapshot.query(key, ns)
            if q is None:
                continue
            ns_lines = trends.by_namespace.setdefault(ns, Lines())
            for s in q.series:
                if not s.points:
                    continue
                wl = (s.labels.get("destination_workload_namespace", ns), s.labels.get("destination_workload", ""))
                _add(getattr(trends.by_workload.setdefault(wl, Lines()), attr), s.points, combine)
                _add(getattr(ns_lines, attr), s.points, combine)
    return trends


def _downsample(values: list[float]) -> list[float]:
    if len(values) <= MAX_POINTS:
        return values
    size = len(values) / MAX_POINTS
    return [
        sum(chunk) / len(chunk)
        for chunk in (values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)] for i in range(MAX_POINTS))
    ]


def spark(values: list[float], what: str, unit: Callable[[float], str], span: str = "over the window") -> Spark | None:
    """A line through `values`, scaled from 0 to their maximum; None for fewer than 2 points."""
    values = _downsample(values)
    if len(values) < 2:
        return None
    top = max(values) or 1.0
    step = WIDTH / (len(values) - 1)
    pts = " ".join(f"{i * step:.0f},{HEIGHT - 1 - v / top * (HEIGHT - 2):.0f}" for i, v in enumerate(values))
    return Spark(pts, f"{what} {span}: {unit(min(values))} to {unit(max(values))}, last {unit(values[-1])}")


def sparks(lines: Lines | None) -> list[Spark]:
    """Requests, error % and p95 lines (those that have data), in that order."""
    if lines is None:
        return []
    times = sorted(lines.requests)
    req = [lines.requests[t] for t in times]
    err = [lines.errors.get(t, 0.0) / lines.requests[t] * 100.0 if lines.requests[t] > 0 else 0.0 for t in times]
    p95 = [lines.p95[t] for t in sorted(lines.p95)]
    out = [
        spark(req, "requests", fmt.req_rate),
        spark(err, "error %", fmt.pct) if any(err) else None,
        spark(p95, "p95", fmt.ms),
    ]
    return [s for s in out if s is not None]
