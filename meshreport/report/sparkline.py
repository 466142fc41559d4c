"""Sparklines of requests, error % and p95 over the window, from the snapshot's trend series.

The trend queries (`trend/requests`, `trend/errors`, `trend/p95`, one set per namespace) are
grouped by destination workload and service. Lines are summed per workload and per namespace
(p95 takes the highest series at each point: quantiles do not add up) and drawn as inline SVG
polylines of at most MAX_POINTS points: numbers only, nothing from the cluster goes into them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from meshreport.report import format as fmt
from meshreport.report import lean
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
    """Requests/s, errors/s and p95 (ms) on one time axis; NaN where a line has no point."""

    requests: np.ndarray
    errors: np.ndarray
    p95: np.ndarray


@dataclass
class Trends:
    by_workload: dict[tuple[str, str], Lines] = field(default_factory=dict)
    by_namespace: dict[str, Lines] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_namespace)


def collect_trends(snapshot: Snapshot, namespaces: list[str]) -> Trends:
    """Lines per destination workload and per namespace, summed by `lean.trend_lines`."""
    wl_rows, ns_rows, wl, nsm = lean.trend_lines(snapshot, namespaces)

    def lines(m: lean.TrendMatrix, i: int) -> Lines:
        return Lines(m.lines["requests"][i], m.lines["errors"][i], m.lines["p95"][i])

    return Trends(
        by_workload={key: lines(wl, i) for key, i in wl_rows.items()},
        by_namespace={ns: lines(nsm, i) for ns, i in ns_rows.items()},
    )


def _downsample(values: list[float]) -> list[float]:
    if len(values) <= MAX_POINTS:
        return values
    size = len(values) / MAX_POINTS
    return [
        sum(chunk) / len(chunk)
        for chunk in (values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)] for i in range(MAX_POINTS))
    ]


def spark(
    values: list[float],
    what: str,
    unit: Callable[[float], str],
    span: str = "",
    every_point: bool = False,
) -> Spark | None:
    """A line through `values`, scaled from 0 to their maximum; None for fewer than 2 points.

    Points on a straight run are left out unless `every_point` (one point per run of an archive)."""
    values = _downsample(values)
    if len(values) < 2:
        return None
    top = max(values) or 1.0
    step = WIDTH / (len(values) - 1)
    pts = lean.polyline(
        (i * step for i in range(len(values))), (HEIGHT - 1 - v / top * (HEIGHT - 2) for v in values), every_point
    )
    low, high = unit(min(values)), unit(max(values))
    what = f"{what} {span}" if span else what  # the table's Trend column says "over the window"
    if low == high:
        return Spark(pts, f"{what}: steady at {high}")
    return Spark(pts, f"{what}: {low} to {high}, last {unit(values[-1])}")


def sparks(lines: Lines | None) -> list[Spark]:
    """Requests, error % and p95 lines (those that have data), in that order."""
    if lines is None:
        return []
    seen = ~np.isnan(lines.requests)
    req_a = lines.requests[seen]
    err_a = np.nan_to_num(lines.errors[seen])
    with np.errstate(divide="ignore", invalid="ignore"):
        err_pct = np.where(req_a > 0, err_a / req_a * 100.0, 0.0)
    req, err = req_a.tolist(), err_pct.tolist()
    p95 = lines.p95[~np.isnan(lines.p95)].tolist()
    out = [
        spark(req, "requests", fmt.req_rate),
        spark(err, "error %", fmt.pct) if any(err) else None,
        spark(p95, "p95", fmt.ms),
    ]
    return [s for s in out if s is not None]
