"""Worst first: what the overview leads with, so a reader sees in one minute what needs action.

- health counts per kind (apps, workloads, services) and status, each linking to its list on
  the health page;
- the unhealthy nodes, failing before degraded, with the reason the health rule fired;
- edges ranked by error share (not error rate: a quiet edge failing half its requests matters
  more than a busy one failing 0.1 %), above a minimum-traffic floor so one failed request in an
  hour does not lead the list;
- the slowest edges by p95.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshreport.report.edges import EdgeRow

#: Edges below this rate (one request a minute) are too quiet for an error share to mean much.
ERROR_FLOOR_RPS = 1 / 60
KINDS = (("app", "Apps"), ("workload", "Workloads"), ("service", "Services"))
#: Health-page columns: (level, heading); the level is also the anchor part.
COLUMNS = (("failure", "Failure"), ("degraded", "Degraded"), ("idle", "No traffic / not ready"), ("healthy", "Healthy"))
WORST = {"failure": 0, "degraded": 1}


@dataclass(frozen=True)
class HealthCell:
    level: str
    count: int
    anchor: str  # on the health page


@dataclass(frozen=True)
class HealthRow:
    kind: str
    label: str
    cells: list[HealthCell]


@dataclass(frozen=True)
class Unhealthy:
    name: str
    kind: str
    namespace: str
    page: str | None
    level: str
    status: str
    reason: str
    node_type: str  # app, workload or service
    error_ratio: float = 0.0


@dataclass
class HealthList:
    """One (status, kind) list on the health page."""

    anchor: str
    title: str
    level: str
    items: list[Unhealthy] = field(default_factory=list)


@dataclass
class HealthPage:
    rows: list[HealthRow]
    lists: list[HealthList]


def health_page(items: list[Unhealthy]) -> HealthPage:
    """Counts per kind and level (the overview's table) and the lists they link to."""
    lists: dict[tuple[str, str], HealthList] = {}
    for level, heading in COLUMNS:
        for kind, label in KINDS:
            lists[(level, kind)] = HealthList(f"{level}-{kind}", f"{heading}: {label.lower()}", level)
    for it in items:
        key = (it.level if it.level in WORST or it.level == "healthy" else "idle", it.node_type)
        if key in lists:
            lists[key].items.append(it)
    rows = [
        HealthRow(kind, label, [HealthCell(lvl, len(lists[(lvl, kind)].items), f"{lvl}-{kind}") for lvl, _ in COLUMNS])
        for kind, label in KINDS
    ]
    rows = [r for r in rows if any(c.count for c in r.cells)]
    for hl in lists.values():
        hl.items.sort(key=lambda u: (u.namespace, u.name))
    return HealthPage(rows, [hl for hl in lists.values() if hl.items])


def top_unhealthy(items: list[Unhealthy], limit: int) -> list[Unhealthy]:
    """Failing before degraded; within a status the highest error ratio first."""
    bad = [u for u in items if u.level in WORST]
    bad.sort(key=lambda u: (WORST[u.level], -u.error_ratio, u.namespace, u.name))
    return bad[:limit]


def error_edges(rows: list[EdgeRow], limit: int) -> list[EdgeRow]:
    """Request edges with errors, highest error share first, above ERROR_FLOOR_RPS."""
    hits = [r for r in rows if r.protocol != "tcp" and r.errors > 0 and r.rate >= ERROR_FLOOR_RPS]
    hits.sort(key=lambda r: (-r.error_pct, -r.errors))
    return hits[:limit]


def slowest_edges(rows: list[EdgeRow], limit: int) -> list[EdgeRow]:
    """Request edges with a p95, slowest first."""
    hits = [r for r in rows if r.protocol != "tcp" and r.p95 >= 0 and r.rate > 0]
    hits.sort(key=lambda r: -r.p95)
    return hits[:limit]
