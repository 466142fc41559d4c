""" "Since the previous report": the overview's opening section, table marks and, per namespace,
previous and current numbers side by side.

A section builder (model.section_builder) over the `compare.Comparison` that `render --baseline`
passes in; without one it adds nothing. Regressions first, then improvements, then new and
resolved findings, then everything else, as in `meshreport diff`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshreport.compare import IMPROVEMENT, REGRESSION, Comparison
from meshreport.report import format as fmt
from meshreport.report.changes import describe, headline, sections
from meshreport.report.findings import FindingRow
from meshreport.report.findings import row as finding_row
from meshreport.report.model import ModelInput, ReportModel, Section, section_builder

_LEVEL = {REGRESSION: "failure", IMPROVEMENT: "healthy"}
#: Kiali's health statuses -> report level (as the node tables colour them).
_STATUS_LEVEL = {"Failure": "failure", "Degraded": "degraded", "Healthy": "healthy"}
_OTHER = ("Appeared", "Disappeared", "Other changes", "Config changes", "Data gaps")
MAX_ROWS = 100  # per list on the page; `meshreport diff --format json` has everything
NODE_KINDS = ("service", "app", "workload")


@dataclass(frozen=True)
class ChangeRow:
    subject: str  # `service bookinfo/ratings`
    text: str  # `health Degraded → Failure`
    level: str  # colour: failure (regression), healthy (improvement)


@dataclass(frozen=True)
class OtherList:
    title: str
    lines: list[str]
    more: int = 0


@dataclass
class SinceView:
    previous: str  # the previous report's window
    headline: str
    notes: list[str]
    regressions: list[ChangeRow]
    improvements: list[ChangeRow]
    findings_compared: bool
    new_findings: list[FindingRow] = field(default_factory=list)
    resolved_findings: list[FindingRow] = field(default_factory=list)
    other: list[OtherList] = field(default_factory=list)
    empty: bool = False


@dataclass(frozen=True)
class SideBySideRow:
    """A service, app or workload: previous and current numbers."""

    name: str
    kind: str
    health_before: str
    health_now: str
    level_before: str
    level_now: str
    rate_before: str
    rate_now: str
    error_before: str
    error_now: str
    changed: bool


def _rows(changes: Iterable) -> list[ChangeRow]:
    out = []
    for c in changes:
        subject, text = describe(c)
        out.append(ChangeRow(subject, text, _LEVEL.get(c.direction, "idle")))
    return out


def since_view(c: Comparison) -> SinceView:
    f = c.findings
    view = SinceView(
        previous=f"{fmt.timestamp(c.old.start)} – {fmt.timestamp(c.old.end)}",
        headline=headline(c),
        notes=list(c.notes),
        regressions=_rows(c.regressions())[:MAX_ROWS],
        improvements=_rows(c.improvements())[:MAX_ROWS],
        findings_compared=f is not None,
        new_findings=[finding_row(x) for x in f.new[:MAX_ROWS]] if f else [],
        resolved_findings=[finding_row(x) for x in f.resolved[:MAX_ROWS]] if f else [],
        empty=c.empty,
    )
    for title, lines in sections(c):
        if title in _OTHER:
            view.other.append(OtherList(title, lines[:MAX_ROWS], max(0, len(lines) - MAX_ROWS)))
    return view


def _facts(n: Any) -> tuple[str, str, str, str]:
    """(health, level, rate, error share) texts of a digest.NodeFacts; dashes when the node was not there."""
    if n is None:
        return "absent", "idle", "–", "–"
    status = n.status or "–"
    return status, _STATUS_LEVEL.get(status, "idle"), fmt.req_rate(n.rate), fmt.pct(n.error_pct)


def side_by_side(c: Comparison, namespace: str) -> list[SideBySideRow]:
    """Every service, app and workload of the namespace on either side; changed ones first."""
    ids = {nid for nid, n in c.new_nodes.items() if n.namespace == namespace and n.node_type in NODE_KINDS}
    ids |= {nid for nid, n in c.old_nodes.items() if n.namespace == namespace and n.node_type in NODE_KINDS}
    changed = {x.key for x in (*c.health, *c.moves, *c.presence)}
    rows = []
    for nid in ids:
        a, b = c.old_nodes.get(nid), c.new_nodes.get(nid)
        n = b or a
        assert n is not None
        hb, lb, rb, eb = _facts(a)
        hn, ln, rn, en = _facts(b)
        rows.append(SideBySideRow(n.name, n.node_type, hb, hn, lb, ln, rb, rn, eb, en, nid in changed))
    rows.sort(key=lambda r: (not r.changed, NODE_KINDS.index(r.kind), r.name))
    return rows


def mark_tables(model: ReportModel, c: Comparison) -> None:
    """Tables mark new edges and nodes whose health changed."""
    new_edges = c.new_edges()
    health = c.health_by_node()
    for ns in model.namespaces:
        for e in ns.edges:
            if e.key in new_edges:
                e.change = "new"
        for n in ns.nodes:
            h = health.get(n.id)
            if h is not None:
                n.change = f"was {h.old}"
    for e in (*model.busiest_edges, *model.busiest_tcp_edges, *model.error_edges, *model.slow_edges):
        if e.key in new_edges:
            e.change = "new"


@section_builder
def since_sections(inp: ModelInput) -> list[Section]:
    c = inp.comparison
    if c is None:
        return []
    mark_tables(inp.model, c)
    out = [Section("since", "Since the previous report", "since.html", since_view(c), placement="top")]
    for ns in inp.model.namespaces:
        rows = side_by_side(c, ns.name)
        if rows:
            out.append(
                Section(
                    f"since-{ns.name}",
                    "Previous and current report",
                    "since_namespace.html",
                    rows,
                    placement="namespace",
                    namespace=ns.name,
                )
            )
    return out
