"""The "mTLS: configured and seen" section: the configured mode next to the share of traffic that was mutual TLS, and
the Ready for STRICT / Blocks STRICT / Will break findings (meshreport.mtls_traffic), on the overview,
on each namespace page and in the PDF. A section builder: it reads only the analysis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from meshreport.mtls_traffic import MtlsAnalysis, MtlsFinding, Share
from meshreport.report import format as fmt
from meshreport.report.model import ModelInput, Section, section_builder

LEVEL = {"will-break": "failure", "blocks-strict": "degraded", "ready-for-strict": "healthy"}


@dataclass(frozen=True)
class ModeRow:
    name: str
    mode: str
    decided_by: str
    request_share: str
    tcp_share: str
    requests: str


@dataclass(frozen=True)
class FindingView:
    title: str
    level: str
    where: str
    message: str
    callers: list[str]
    apply: str


@dataclass
class MtlsView:
    mesh: ModeRow
    auto_mtls: bool
    traffic_collected: bool
    rows: list[ModeRow]
    findings: list[FindingView] = field(default_factory=list)
    floor: str = ""
    namespace: str | None = None


def _row(name: str, mode, share: Share) -> ModeRow:
    decided = mode.decided_by or ("Istio default" if mode.level == "default" else mode.level)
    return ModeRow(
        name,
        mode.mode,
        f"{decided} ({mode.level})" if mode.decided_by else decided,
        fmt.pct(share.request_share),
        fmt.pct(share.tcp_share),
        f"{share.requests:,.0f}",
    )


def _finding(f: MtlsFinding) -> FindingView:
    where = f"{f.namespace}/{f.workload}" if f.workload else f"namespace {f.namespace}"
    callers = [f"{c.name} ({c.security}, {c.requests:,.0f} requests, {c.tcp_bytes:,.0f} TCP bytes)" for c in f.callers]
    return FindingView(f.title, LEVEL[f.kind], where, f.message, callers, f.apply)


def _floor() -> str:
    from meshreport import mtls_traffic as t

    return (
        f"Ready for STRICT needs at least {t.FLOOR_REQUESTS} requests or {t.FLOOR_TCP_BYTES:,} TCP bytes into the "
        f"namespace or workload in the window; a caller is named from {t.CALLER_FLOOR_REQUESTS} request or "
        f"{t.CALLER_FLOOR_TCP_BYTES:,} TCP bytes."
    )


@section_builder
def mtls_section(inp: ModelInput) -> Iterator[Section]:
    a: MtlsAnalysis | None = inp.analysis.mtls if inp.analysis is not None else None
    if a is None:
        return
    shown = {ns.name for ns in inp.model.namespaces}
    mesh = _row("mesh", a.mesh, a.inbound)
    rows = [_row(n.namespace, n.mode, n.inbound) for n in a.namespaces if n.namespace in shown]
    findings = [f for f in a.findings if f.namespace in shown]
    yield Section(
        "mtls-readiness",
        "mTLS: configured and seen",
        "mtls_readiness.html",
        MtlsView(mesh, a.auto_mtls, a.traffic_collected, rows, [_finding(f) for f in findings], _floor()),
    )
    for n in a.namespaces:
        if n.namespace not in shown:
            continue
        wrows = [_row(w.workload, w.mode, w.inbound) for w in n.workloads]
        view = MtlsView(
            _row(n.namespace, n.mode, n.inbound),
            a.auto_mtls,
            a.traffic_collected,
            wrows,
            [_finding(f) for f in findings if f.namespace == n.namespace],
            _floor(),
            namespace=n.namespace,
        )
        yield Section(
            "mtls-readiness",
            "mTLS: configured and seen",
            "mtls_readiness.html",
            view,
            placement="namespace",
            namespace=n.namespace,
        )
