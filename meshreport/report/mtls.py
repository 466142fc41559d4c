"""The report's one "Mutual TLS" section: the configured mode next to the traffic seen, on the overview,
on each namespace page and in the PDF.

Two answers side by side, per namespace (per workload on a namespace page) and for the mesh: the mode
the configuration gives with the object that decides it (meshreport.mtls, through Analysis.mtls) and the
share of inbound requests and TCP bytes in the window that were mutual TLS (meshreport.mtls_traffic).
Then the findings of the comparison (MR0101 Ready for STRICT, MR0102 Blocks STRICT, MR0103 Will break,
callers named; suppressed ones are counted, not shown), the PERMISSIVE workloads, and the edges that
carried plain text (from the report's edge rows, the graph's securityPolicy appender).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from meshreport.mtls_traffic import PERMISSIVE, MtlsAnalysis, MtlsFinding, Share
from meshreport.report import format as fmt
from meshreport.report.edges import EdgeRow
from meshreport.report.model import ModelInput, Section, section_builder
from meshreport.report.mtls_edges import MtlsCoverage, share_text
from meshreport.validation.model import ValidationResult

#: The most plaintext edges listed in the site (worst by traffic first); the rest are counted.
PLAINTEXT_LIMIT = 200
#: ... and in the PDF, which lists the busiest of them.
PRINT_PLAINTEXT = 12
SECTION_ID = "mtls"
TITLE = "Mutual TLS"
LEVEL = {"will-break": "failure", "blocks-strict": "degraded", "ready-for-strict": "healthy"}


@dataclass(frozen=True)
class ModeRow:
    """One scope (mesh, namespace or workload): configured mode and decider beside the traffic seen."""

    name: str
    mode: str
    decided_by: str
    request_share: str
    tcp_share: str
    requests: str
    tcp_bytes: str
    #: `PERMISSIVE workloads / workloads seen` (mesh and namespace rows); empty for a workload
    permissive: str = ""
    page: str | None = None


@dataclass(frozen=True)
class FindingView:
    code: str
    title: str
    level: str
    severity: str
    where: str
    message: str
    callers: list[str]
    apply: str


@dataclass
class MtlsView:
    mesh: ModeRow
    auto_mtls: bool
    traffic_collected: bool
    config_collected: bool
    rows: list[ModeRow]
    findings: list[FindingView] = field(default_factory=list)
    suppressed: int = 0
    floor: str = ""
    namespace: str | None = None
    #: "" on the overview, "../" on a namespace page (the section's links)
    root: str = ""
    #: PERMISSIVE workloads (`namespace/workload`, or the workload on a namespace page)
    permissive: list[str] = field(default_factory=list)
    plaintext: list[EdgeRow] = field(default_factory=list)
    plaintext_omitted: int = 0
    print_plaintext: list[EdgeRow] = field(default_factory=list)
    print_plaintext_omitted: int = 0
    edges_total: int = 0
    edges_mtls: int = 0


def _decided(mode) -> str:
    decided = mode.decided_by or ("Istio default" if mode.level == "default" else mode.level)
    return f"{decided} ({mode.level})" if mode.decided_by else decided


def _row(name: str, mode, share: Share, permissive: str = "", page: str | None = None, ports=None) -> ModeRow:
    decided = _decided(mode)
    if ports:
        decided += "; " + ", ".join(f"port {p} {m.mode}" for p, m in sorted(ports.items()))
    return ModeRow(
        name,
        mode.mode,
        decided,
        share_text(share.request_share),
        share_text(share.tcp_share),
        f"{share.requests:,.0f}",
        fmt.byte_count(share.tcp_bytes) if share.tcp_bytes > 0 else "–",
        permissive,
        page,
    )


def _caller(c) -> str:
    parts = [c.security]
    if c.requests > 0:
        parts.append(f"{c.requests:,.0f} requests")
    if c.tcp_bytes > 0:
        parts.append(f"{c.tcp_bytes:,.0f} TCP bytes")
    return f"{c.name} ({', '.join(parts)})"


def _finding(f: MtlsFinding) -> FindingView:
    where = f"{f.object_kind} {f.namespace}/{f.workload}" if f.workload else f"namespace {f.namespace}"
    return FindingView(
        f.code, f.title, LEVEL[f.kind], f.severity, where, f.message, [_caller(c) for c in f.callers], f.apply
    )


def floor_text(a: MtlsAnalysis) -> str:
    fl = a.floor
    return (
        f"Ready for STRICT needs at least {fl.ready_min_requests:,.0f} requests or {fl.ready_min_tcp_bytes:,.0f} TCP "
        f"bytes into the namespace or workload in the window; a caller is named from {fl.caller_min_requests:,.0f} "
        f"request{'' if fl.caller_min_requests == 1 else 's'} or {fl.caller_min_tcp_bytes:,.0f} TCP bytes "
        "(config file `mtls:`)."
    )


def active_findings(
    a: MtlsAnalysis, validation: ValidationResult | None, namespaces: Iterable[str] | None = None
) -> tuple[list[MtlsFinding], int]:
    """The comparison's findings in `namespaces` that no suppression silenced, and how many were suppressed.

    The findings are validation findings too (validation/traffic.py); a suppressed one is matched by its
    code and object."""
    wanted = None if namespaces is None else set(namespaces)
    silenced = set()
    if validation is not None:
        silenced = {(f.code, f.kind, f.namespace, f.name) for f in validation.suppressed}
    kept, suppressed = [], 0
    for f in a.findings:
        if wanted is not None and f.namespace not in wanted:
            continue
        key = (f.code, f.object_kind, f.namespace if f.workload else None, f.object_name)
        if key in silenced:
            suppressed += 1
        else:
            kept.append(f)
    return kept, suppressed


def _permissive(a: MtlsAnalysis, shown: set[str]) -> dict[str, list[str]]:
    return {
        n.namespace: [w.workload for w in n.workloads if w.mode.mode == PERMISSIVE]
        for n in a.namespaces
        if n.namespace in shown
    }


def _plain(view: MtlsView, rows: list[EdgeRow]) -> None:
    view.plaintext = rows[:PLAINTEXT_LIMIT]
    view.plaintext_omitted = max(0, len(rows) - PLAINTEXT_LIMIT)
    view.print_plaintext = rows[:PRINT_PLAINTEXT]
    view.print_plaintext_omitted = max(0, len(rows) - PRINT_PLAINTEXT)


def headline(
    a: MtlsAnalysis | None, coverage: MtlsCoverage | None, validation: ValidationResult | None, namespaces: list[str]
) -> str:
    """One sentence for the PDF's summary page: the shares and the findings of the comparison."""
    parts = []
    if a is not None and a.traffic_collected:
        s = a.inbound
        text = f"{share_text(s.request_share)} of requests"
        if s.tcp_bytes > 0:
            text += f" and {share_text(s.tcp_share)} of TCP bytes"
        parts.append(text + " were mutual TLS")
    if coverage is not None:
        parts.append(f"{len(coverage.plaintext)} of {coverage.edges_total} edges with traffic carried plain text")
    if a is not None:
        found, _ = active_findings(a, validation, namespaces)
        counts = [sum(1 for f in found if f.kind == k) for k in ("ready-for-strict", "blocks-strict", "will-break")]
        parts.append(f"Ready for STRICT {counts[0]}, Blocks STRICT {counts[1]}, Will break {counts[2]}")
    return "; ".join(parts) + "." if parts else ""


@section_builder
def mtls_section(inp: ModelInput) -> Iterator[Section]:
    a: MtlsAnalysis | None = inp.analysis.mtls if inp.analysis is not None else None
    if a is None:
        return
    model = inp.model
    validation = inp.analysis.validation if inp.analysis is not None else None
    pages = {ns.name: ns.page for ns in model.namespaces}
    shown = set(pages)
    permissive = _permissive(a, shown)
    coverage = model.mtls
    findings, suppressed = active_findings(a, validation, shown)
    seen = sum(len(n.workloads) for n in a.namespaces if n.namespace in shown)
    n_perm = sum(len(v) for v in permissive.values())
    mesh = _row("mesh", a.mesh, a.inbound, f"{n_perm} of {seen}")
    rows = [
        _row(
            n.namespace, n.mode, n.inbound, f"{len(permissive[n.namespace])} of {len(n.workloads)}", pages[n.namespace]
        )
        for n in a.namespaces
        if n.namespace in shown
    ]
    view = MtlsView(
        mesh,
        a.auto_mtls,
        a.traffic_collected,
        a.config_collected,
        rows,
        [_finding(f) for f in findings],
        suppressed,
        floor_text(a),
        permissive=[f"{ns}/{w}" for ns, ws in permissive.items() for w in ws],
        edges_total=coverage.edges_total if coverage else 0,
        edges_mtls=coverage.edges_mtls if coverage else 0,
    )
    if coverage is not None:
        _plain(view, coverage.plaintext)
    # the PDF's summary page says it in one sentence (its own chapter has the rest)
    model.mtls_headline = headline(a, coverage, validation, list(pages))
    yield Section(SECTION_ID, TITLE, "mtls.html", view)
    for n in a.namespaces:
        if n.namespace not in shown:
            continue
        mine = [f for f in findings if f.namespace == n.namespace]
        _, ns_suppressed = active_findings(a, validation, [n.namespace])
        ns_view = MtlsView(
            _row(n.namespace, n.mode, n.inbound, f"{len(permissive[n.namespace])} of {len(n.workloads)}"),
            a.auto_mtls,
            a.traffic_collected,
            a.config_collected,
            [_row(w.workload, w.mode, w.inbound, ports=w.ports) for w in n.workloads],
            [_finding(f) for f in mine],
            ns_suppressed,
            floor_text(a),
            namespace=n.namespace,
            root="../",
            permissive=permissive[n.namespace],
        )
        if coverage is not None:
            edges_in = coverage.into(n.namespace)
            _plain(ns_view, edges_in.plaintext)
            ns_view.edges_total, ns_view.edges_mtls = edges_in.edges_total, edges_in.edges_mtls
        yield Section(SECTION_ID, TITLE, "mtls.html", ns_view, placement="namespace", namespace=n.namespace)
