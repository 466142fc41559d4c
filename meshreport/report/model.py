"""ReportModel: everything a page needs, computed once from the snapshot and the traffic graph.

Templates only format what is here (no arithmetic in jinja), so the HTML site and the PDF show
the same numbers. Later features add content through `Section`s (see `section_builder`) and
through the optional fields (`health`, `findings`) without touching existing code paths.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from meshreport import __version__
from meshreport.analysis import Analysis
from meshreport.graph.model import Edge, Node, TrafficGraph
from meshreport.report import format as fmt
from meshreport.report import overview
from meshreport.report.deep_links import LinkBases
from meshreport.report.edges import EdgeRow, NodeRef, edge_row, report_edges
from meshreport.report.findings import FindingRow, FindingsPage, findings_page, namespace_rows, not_collected
from meshreport.report.findings import row as finding_row
from meshreport.report.mtls_edges import MtlsCoverage, mtls_coverage, share_text
from meshreport.report.reasons import health_reason
from meshreport.report.service_pages import ServicePage, build_pages, page_paths, safe_names
from meshreport.report.sparkline import Spark, Trends, collect_trends, sparks
from meshreport.snapshot.model import Diagnostic, Snapshot

#: Status levels, worst first; also the CSS classes and the picture colours.
LEVELS = ("failure", "degraded", "healthy", "idle", "tcp")
LEVEL_TEXT = {
    "failure": "Failure",
    "degraded": "Degraded",
    "healthy": "Healthy",
    "idle": "No traffic",
    "tcp": "TCP (no error classes)",
    "na": "No health data",
}
LEVEL_HELP = {
    "failure": "an error class at or above its failure tolerance",
    "degraded": "an error class at or above its degraded tolerance",
    "healthy": "requests, no error class above its tolerance",
    "idle": "no requests in the window",
    "tcp": "TCP bytes; TCP has no error classes",
    "na": "the graph carries no health verdict",
}
#: Kiali's health statuses (meshreport.health) -> report level.
_KIALI_HEALTH = {"Failure": "failure", "Degraded": "degraded", "Healthy": "healthy", "Not Ready": "idle", "NA": "idle"}
#: Kiali's statuses in the order the health summary lists them.
HEALTH_ORDER = ("Failure", "Degraded", "Not Ready", "Healthy", "NA")


def edge_status(edge: Edge) -> str:
    """The edge's level, from the graph's health appender (`healthStatus`): one source of truth.

    Idle and TCP edges have their own levels; a request edge without a verdict (a graph built
    without the health appender) is `na`, never a second opinion computed here.
    """
    if edge.total <= 0:
        return "idle"
    if edge.protocol == "tcp":
        return "tcp"  # no error classes; Kiali draws TCP edges in their own colour
    return _KIALI_HEALTH.get(edge.metadata.get("healthStatus"), "na")


@dataclass(frozen=True)
class Stat:
    """One figure on an overview card."""

    label: str
    value: str
    hint: str = ""
    level: str = ""


@dataclass(frozen=True)
class WindowView:
    start: str
    end: str
    duration: str
    start_iso: str
    end_iso: str


@dataclass(frozen=True)
class HealthView:
    """What a health appender decided for a node, reduced to what a table shows."""

    level: str
    text: str
    detail: str = ""
    #: Why the rule fired (tolerance, direction, protocol, code class), for Failure/Degraded.
    reason: str = ""


@dataclass
class NodeRow:
    id: str
    name: str
    node_type: str
    kind: str
    namespace: str
    version: str
    req_in: float
    req_out: float
    req_in_text: str
    req_out_text: str
    error_pct: float | None
    error_text: str
    level: str
    tcp_text: str
    flags: list[str] = field(default_factory=list)
    page: str | None = None
    health: HealthView | None = None
    #: Inbound 4xx and server-side error shares (5xx, gRPC errors, no response).
    pct_4xx_text: str = "–"
    pct_5xx_text: str = "–"
    sparks: list[Spark] = field(default_factory=list)
    #: Since the previous report (report/since.py): e.g. "was Degraded"; empty without a baseline.
    change: str = ""
    #: The node's own page (report/service_pages.py), None for nodes without one.
    self_page: str | None = None


@dataclass
class ImageRef:
    """A topology picture: where the SVG goes (relative to the site root) and what it shows.

    `print_path` is what the PDF embeds: the SVG itself, or a PNG for big pictures (WeasyPrint
    draws SVG element by element, which costs seconds per picture of a hundred nodes).
    """

    path: str
    alt: str
    namespace: str | None  # None: the whole mesh
    caption: str = ""
    print_path: str = ""
    #: Said under the picture when its layout left something out (edge labels on big pictures).
    note: str = ""

    def __post_init__(self) -> None:
        self.print_path = self.print_path or self.path


@dataclass(frozen=True)
class GapRow:
    phase: str
    what: str
    reason: str
    namespace: str


@dataclass
class Section:
    """An add-on block of content with its own partial template under `templates/sections/`.

    `placement` is `index` (the overview page), `top` (the top of the overview page, before the
    figures), `namespace` (that namespace's page; set `namespace`), or `page` (its own page
    `<id>.html`, linked from the navigation).
    """

    id: str
    title: str
    template: str
    data: Any
    placement: str = "index"
    namespace: str | None = None


@dataclass(frozen=True)
class HealthCount:
    """How many apps, workloads and services the health appender gave one status."""

    status: str  # Kiali's: Failure, Degraded, Not Ready, Healthy, NA
    level: str
    count: int


@dataclass
class NamespaceSummary:
    """One row of the overview's namespace table (fixed columns for every namespace)."""

    rate_text: str
    error_text: str
    level: str
    workloads: int
    services: int
    gaps: int
    error_pct: float = -1.0
    rate: float = 0.0
    mtls_text: str = "–"
    sparks: list[Spark] = field(default_factory=list)


@dataclass
class NamespaceSection:
    name: str
    page: str
    image: ImageRef
    summary: NamespaceSummary
    stats: list[Stat]
    nodes: list[NodeRow]
    #: The site's traffic table: every edge up to SITE_EDGES, else the failing and degraded ones first,
    #: then the busiest (each workload's and service's page lists all of its own).
    edges: list[EdgeRow]
    edges_omitted: int = 0
    #: The PDF's one-page summary lists only the busiest edges (dense tables cost ~0.3 s a page).
    print_edges: list[EdgeRow] = field(default_factory=list)
    print_edges_omitted: int = 0
    #: The PDF page's failing and degraded nodes, worst first, and how many more the site lists.
    print_bad: list[NodeRow] = field(default_factory=list)
    print_bad_omitted: int = 0
    findings: list[FindingRow] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


@dataclass
class ReportModel:
    title: str
    window: WindowView
    source: str
    generated_at: str
    version: str
    graph_type: str
    stats: list[Stat]
    mesh_image: ImageRef
    busiest_edges: list[EdgeRow]
    busiest_tcp_edges: list[EdgeRow]
    error_edges: list[EdgeRow]
    namespaces: list[NamespaceSection]
    gaps: list[GapRow]
    diagnostics: list[Diagnostic]
    legend: list[tuple[str, str, str]]
    #: False for a config-only snapshot: no traffic was collected, so no window, rates or pictures.
    has_traffic: bool = True
    #: False with --no-pdf: no page links to report.pdf.
    has_pdf: bool = True
    slow_edges: list[EdgeRow] = field(default_factory=list)
    unhealthy: list[overview.Unhealthy] = field(default_factory=list)
    health_page: overview.HealthPage | None = None
    #: mTLS on the edges (plain-text edges); the Mutual TLS section (report/mtls.py) holds the rest
    mtls: MtlsCoverage | None = None
    #: The PDF summary's mTLS sentence (report/mtls.py headline), empty without mTLS data
    mtls_headline: str = ""
    #: The namespaces table, worst first (failure, degraded, then by error share and rate).
    namespace_order: list[NamespaceSection] = field(default_factory=list)
    #: The namespaces that get a page in the PDF (worst first; the PDF stays ~40 pages).
    print_namespaces: list[NamespaceSection] = field(default_factory=list)
    print_namespaces_omitted: int = 0
    has_health: bool = False
    health: list[HealthCount] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    findings_page: FindingsPage | None = None
    sections: list[Section] = field(default_factory=list)
    pages: list[Section] = field(default_factory=list)
    top_sections: list[Section] = field(default_factory=list)
    #: One page per app, workload and service (report/service_pages.py).
    services: list[ServicePage] = field(default_factory=list)
    #: Whether deep links to Kiali, Grafana or Jaeger were configured.
    has_links: bool = False

    def images(self) -> list[ImageRef]:
        return [self.mesh_image] + [ns.image for ns in self.namespaces]


@dataclass
class ModelInput:
    """What section builders get: the inputs and the model built so far."""

    snapshot: Snapshot
    graph: TrafficGraph
    model: ReportModel
    #: Analysis.comparison: with the previous report's snapshot (render --baseline), or None.
    comparison: Any = None
    analysis: Analysis | None = None


SectionBuilder = Callable[[ModelInput], Iterable[Section]]
_SECTION_BUILDERS: list[SectionBuilder] = []


def section_builder(fn: SectionBuilder) -> SectionBuilder:
    """Register a function that contributes sections; adding a feature touches no other code."""
    if fn not in _SECTION_BUILDERS:
        _SECTION_BUILDERS.append(fn)
    return fn


TOP_EDGES = 10
#: Rows of a namespace's one-page summary in the PDF (busiest edges, failing and degraded nodes).
PRINT_EDGES = 6
#: Rows of a namespace page's traffic table: at 10,000 workloads a namespace has ~4,600 edges, 1.4 MB
#: of rows repeated on the service pages of both ends of each edge.
SITE_EDGES = 200
PRINT_BAD = 4
#: Namespaces with a page of their own in the PDF, worst first (the rest are in the site).
PRINT_NAMESPACES = 16
GRAPH_TYPE_TEXT = {
    "app": "app graph",
    "versionedApp": "versioned app graph",
    "workload": "workload graph",
    "service": "service graph",
}


def slug(name: str) -> str:
    """A file-name-safe form of a namespace name (names come from the cluster)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "_"
    return s[:100]


def wall_clock(now: float | None = None) -> float:
    """`now`, else SOURCE_DATE_EPOCH for byte-stable output (reproducible builds, goldens), else the clock."""
    if now is None:
        env = os.environ.get("SOURCE_DATE_EPOCH", "")
        now = float(env) if env.isdigit() else time.time()
    return now


def generated_at(now: float | None = None) -> str:
    return fmt.timestamp(wall_clock(now))


def build_model(
    snapshot: Snapshot,
    analysis: Analysis,
    *,
    title: str = "Service mesh report",
    now: float | None = None,
    builders: Iterable[SectionBuilder] | None = None,
    health_rules: list | None = None,
    pdf: bool = True,
    links: LinkBases | None = None,
) -> ReportModel:
    """Compute every number and text the pages show, once, from the analysis and its snapshot.

    An analysis without findings (`analysis.validation` None: the snapshot holds no config
    objects) gets a "config was not collected" findings page instead of an empty one. The report
    covers the graph's namespaces (`render -n` builds the graph for those only). `health_rules`
    are the rules the graph's health used; they name the tolerance behind each unhealthy status.
    `links`: the Kiali, Grafana and Jaeger base URLs for the service pages' deep links.
    """
    graph, validation = analysis.graph, analysis.validation
    namespaces = _report_namespaces(snapshot, graph)
    ns_names = safe_names((ns, ns) for ns in namespaces)  # file-name-safe and unique, also ignoring case
    pages = {ns: f"namespaces/{name}.html" for ns, name in ns_names.items()}
    own = page_paths(graph, namespaces)
    trends = collect_trends(snapshot, namespaces)
    rows = {nid: _node_row(n, pages.get(n.namespace), trends, health_rules) for nid, n in graph.nodes.items()}
    for nid, path in own.items():
        rows[nid].self_page = path
    refs = {nid: NodeRef(r.name, r.namespace, r.kind, r.self_page or r.page) for nid, r in rows.items()}
    mtls_known = any(q.key.startswith("appender/securityPolicy/") for q in snapshot.queries)
    edges = []
    touches = []
    for e, hop in report_edges(graph):
        if e.source in refs and e.dest in refs:
            row = edge_row(e, refs[e.source], refs[e.dest], edge_status(e), mtls_known=mtls_known, hop=hop)
            if hop is not None and hop.dest in refs:
                row.via = refs[hop.dest].name
            edges.append(row)
            touches.append((row, e.source, e.dest, hop.dest if hop is not None else None))
    req_edges = [r for r in edges if r.protocol != "tcp"]
    w = snapshot.window
    unhealthy = _unhealthy(graph, rows, set(namespaces))

    model = ReportModel(
        title=title,
        window=WindowView(
            start=fmt.timestamp(w.start),
            end=fmt.timestamp(w.end),
            duration=fmt.duration(w.duration),
            start_iso=fmt.iso(w.start),
            end_iso=fmt.iso(w.end),
        ),
        source=_source_text(snapshot),
        generated_at=generated_at(now),
        version=__version__,
        graph_type=GRAPH_TYPE_TEXT.get(graph.graph_type, graph.graph_type),
        stats=_mesh_stats(snapshot, graph, namespaces),
        mesh_image=ImageRef("img/mesh.svg", "Traffic topology of the whole mesh", None, "Whole mesh"),
        busiest_edges=sorted([r for r in req_edges if r.rate > 0], key=lambda r: -r.rate)[:TOP_EDGES],
        busiest_tcp_edges=sorted([r for r in edges if r.protocol == "tcp" and r.rate > 0], key=lambda r: -r.rate)[
            :TOP_EDGES
        ],
        error_edges=overview.error_edges(req_edges, TOP_EDGES),
        namespaces=[],
        gaps=[GapRow(g.phase, g.what, g.reason, g.namespace or "") for g in snapshot.gaps],
        diagnostics=list(snapshot.diagnostics),
        legend=[(lvl, LEVEL_TEXT[lvl], LEVEL_HELP[lvl]) for lvl in LEVELS],
        has_traffic=has_traffic(snapshot, graph),
        has_pdf=pdf,
        slow_edges=overview.slowest_edges(req_edges, TOP_EDGES),
        unhealthy=overview.top_unhealthy(unhealthy, TOP_EDGES),
        health_page=overview.health_page(unhealthy),
        mtls=mtls_coverage(edges, namespaces) if mtls_known else None,
        has_health=any(n.health is not None for n in graph.nodes.values()),
        health=_health_counts(graph, namespaces),
        findings=[] if validation is None else [finding_row(f) for f in validation.active],
        findings_page=not_collected() if validation is None else findings_page(validation, pages),
    )
    model.services = build_pages(graph, own, rows, touches, pages, analysis, links, w)
    model.has_links = bool(links is not None and links.any)
    model.stats.insert(len(model.stats) - 1, _findings_stat(model.findings_page))
    if not model.has_traffic:
        model.stats = [st for st in model.stats if st.label not in TRAFFIC_STATS]
    for ns in namespaces:
        ns_rows = sorted(
            (r for r in rows.values() if r.namespace == ns), key=lambda r: (_KIND_ORDER.get(r.node_type, 9), r.name)
        )
        ns_edges = [r for r in edges if r.source.namespace == ns or r.dest.namespace == ns]
        ns_edges.sort(key=lambda r: (r.protocol == "tcp", -r.rate))
        summary = _namespace_summary(snapshot, graph, ns)
        summary.sparks = sparks(trends.by_namespace.get(ns))
        summary.mtls_text = _mtls_text(analysis, model.mtls, ns)
        ns_stats = _namespace_stats(snapshot, graph, ns)
        if not model.has_traffic:
            ns_stats = [st for st in ns_stats if st.label not in TRAFFIC_STATS]
        model.namespaces.append(
            NamespaceSection(
                name=ns,
                page=pages[ns],
                image=ImageRef(f"img/ns-{ns_names[ns]}.svg", f"Traffic topology of namespace {ns}", ns, ns),
                summary=summary,
                stats=ns_stats,
                nodes=ns_rows,
                edges=_site_edges(ns_edges),
                edges_omitted=max(0, len(ns_edges) - SITE_EDGES),
                print_edges=ns_edges[:PRINT_EDGES],
                print_edges_omitted=max(0, len(ns_edges) - PRINT_EDGES),
                print_bad=(bad := _worst_nodes(ns_rows))[:PRINT_BAD],
                print_bad_omitted=max(0, len(bad) - PRINT_BAD),
                findings=namespace_rows(validation, ns),
            )
        )
    model.namespace_order = sorted(model.namespaces, key=_trouble)
    model.print_namespaces = model.namespace_order[:PRINT_NAMESPACES]
    model.print_namespaces_omitted = max(0, len(namespaces) - PRINT_NAMESPACES)
    if model.has_health:
        model.pages.append(Section("health", "Health", "health.html", model.health_page, placement="page"))
    model.pages.append(Section("findings", "Findings", "findings.html", model.findings_page, placement="page"))
    inp = ModelInput(snapshot, graph, model, analysis.comparison, analysis)
    _apply_sections(model, inp, _SECTION_BUILDERS if builders is None else builders)
    return model


def _mtls_text(analysis: Analysis, coverage: MtlsCoverage | None, ns: str) -> str:
    """A namespace's share of requests over mTLS: the Mutual TLS section's figure (destination-reported
    traffic), else the edges' when the snapshot has no security-policy results for it."""
    a = analysis.mtls
    mine = a.namespace(ns) if a is not None and a.traffic_collected else None
    if mine is not None and mine.inbound.requests > 0:
        return share_text(mine.inbound.request_share)
    return coverage.namespaces.get(ns, "–") if coverage is not None else "–"


def _worst_nodes(rows: list[NodeRow]) -> list[NodeRow]:
    """Failing, then degraded nodes, the highest inbound error share first."""
    bad = [r for r in rows if r.level in ("failure", "degraded")]
    return sorted(bad, key=lambda r: (r.level != "failure", -(r.error_pct or 0.0), r.name))


def has_traffic(snapshot: Snapshot, graph: TrafficGraph) -> bool:
    """Whether metrics were collected at all (a config-only snapshot from YAML files has none)."""
    return bool(snapshot.queries) or bool(graph.edges)


#: Cards that report traffic; a config-only report leaves them out rather than show zeros.
TRAFFIC_STATS = frozenset({"Request rate", "Error share", "TCP traffic", "Graph nodes", "Graph edges"})
_TROUBLE = {"failure": 0, "degraded": 1, "na": 2, "healthy": 3, "tcp": 4, "idle": 5}


def _trouble(ns: NamespaceSection) -> tuple:
    return (_TROUBLE.get(ns.summary.level, 9), -ns.summary.error_pct, ns.name)


def _unhealthy(graph: TrafficGraph, rows: dict[str, NodeRow], wanted: set[str]) -> list[overview.Unhealthy]:
    """Every app, workload and service of the report's namespaces with its health verdict."""
    out = []
    for nid, n in graph.nodes.items():
        r = rows[nid]
        if r.health is None or n.namespace not in wanted or n.node_type not in ("app", "workload", "service"):
            continue
        out.append(
            overview.Unhealthy(
                name=r.name,
                kind=r.kind,
                namespace=r.namespace,
                page=r.self_page or r.page,
                level=r.health.level,
                status=r.health.text,
                reason=r.health.reason,
                node_type=n.node_type,
                error_ratio=float(getattr(n.health, "error_ratio", 0.0) or 0.0),
            )
        )
    return out


def _findings_stat(page: FindingsPage) -> Stat:
    if not page.collected:
        return Stat("Findings", "–", "config was not collected", "idle")
    return Stat(
        "Findings",
        str(page.active),
        page.summary,
        page.level,
    )


def _health_counts(graph: TrafficGraph, namespaces: list[str]) -> list[HealthCount]:
    """Apps, workloads and services of the report's namespaces per health status (appender's verdict)."""
    wanted = set(namespaces)
    counts: dict[str, int] = {}
    for n in graph.nodes.values():
        if n.health is None or n.namespace not in wanted or n.node_type not in ("app", "workload", "service"):
            continue
        status = _status_text(n.health)
        counts[status] = counts.get(status, 0) + 1
    order = list(HEALTH_ORDER) + sorted(set(counts) - set(HEALTH_ORDER))
    return [HealthCount(s, _KIALI_HEALTH.get(s, "idle"), counts[s]) for s in order if s in counts]


def _status_text(health: Any) -> str:
    status = getattr(health, "status", health)
    return str(getattr(status, "value", status))


_TROUBLE_RANK = {"failure": 0, "degraded": 1}


def _site_edges(rows: list[EdgeRow]) -> list[EdgeRow]:
    """Up to SITE_EDGES of `rows`, in their order: failing, then degraded (highest error share first),
    then the busiest."""
    if len(rows) <= SITE_EDGES:
        return rows
    ranked = sorted(rows, key=lambda r: (_TROUBLE_RANK.get(r.level, 2), -r.error_pct, -r.rate))
    keep = {id(r) for r in ranked[:SITE_EDGES]}
    return [r for r in rows if id(r) in keep]


def _apply_sections(model: ReportModel, inp: ModelInput, builders: Iterable[SectionBuilder]) -> None:
    by_ns = {ns.name: ns for ns in model.namespaces}
    for build in builders:
        for sec in build(inp):
            if sec.placement == "namespace":
                if sec.namespace in by_ns:
                    by_ns[sec.namespace].sections.append(sec)
            elif sec.placement == "page":
                model.pages.append(sec)
            elif sec.placement == "top":
                model.top_sections.append(sec)
            else:
                model.sections.append(sec)


def _report_namespaces(snapshot: Snapshot, graph: TrafficGraph) -> list[str]:
    """The graph's namespaces (render -n builds it for those), else the snapshot's, in the order asked."""
    return list(dict.fromkeys(graph.namespaces or snapshot.namespaces))


_KIND_ORDER = {"app": 0, "workload": 0, "service": 1, "aggregate": 2, "unknown": 3}


def _flag(metadata: dict[str, Any], key: str) -> bool:
    """Kiali flags are `true` or an info object (`isGateway: {ingressInfo: ...}`), even an empty one."""
    return metadata.get(key) not in (None, False)


def node_kind(node: Node) -> str:
    """The human name of a node's kind, as the legend and tables call it."""
    md = node.metadata
    if node.node_type == "unknown":
        return "unknown source"
    if node.node_type == "service":
        if _flag(md, "isEgressCluster"):
            return "egress"
        if _flag(md, "isServiceEntry"):
            return "service entry"
        return "service"
    if node.node_type == "aggregate":
        return "operation"
    if _flag(md, "isGateway"):
        return "gateway"
    return node.node_type


_FLAG_TEXT = (
    ("isRoot", "entry point"),
    ("isGateway", "gateway"),
    ("isOutOfMesh", "no sidecar"),
    ("isOutside", "other namespace"),
    ("isDead", "dead"),
    ("isIdle", "idle"),
    ("hasVS", "VirtualService"),
    ("hasCB", "circuit breaker"),
    ("hasTrafficShifting", "traffic shifting"),
    ("hasFaultInjection", "fault injection"),
    ("hasMirroring", "mirroring"),
)


def _node_row(node: Node, page: str | None, trends: Trends, rules: list | None = None) -> NodeRow:
    req_in = node.rate("httpIn") + node.rate("grpcIn")
    req_out = node.rate("httpOut") + node.rate("grpcOut")
    err_in = sum(node.rate(k) for k in ("httpIn4xx", "httpIn5xx", "httpInNoResponse", "grpcInErr", "grpcInNoResponse"))
    err_pct = err_in / req_in * 100.0 if req_in > 0 else None
    tcp = []
    if node.rate("tcpIn"):
        tcp.append(f"in {fmt.byte_rate(node.rate('tcpIn'))}")
    if node.rate("tcpOut"):
        tcp.append(f"out {fmt.byte_rate(node.rate('tcpOut'))}")
    health = _health_view(node.health)
    if health is not None:
        health = HealthView(health.level, health.text, health.detail, health_reason(node, rules))
    in4 = node.rate("httpIn4xx")
    in5 = err_in - in4
    return NodeRow(
        id=node.id,
        name=node.label,
        node_type=node.node_type,
        kind=node_kind(node),
        namespace=node.namespace,
        version=node.version,
        req_in=req_in,
        req_out=req_out,
        req_in_text=fmt.rate(req_in) if req_in else "–",
        req_out_text=fmt.rate(req_out) if req_out else "–",
        error_pct=err_pct,
        error_text=fmt.pct(err_pct),
        level=health.level if health else _node_level(node, req_in),
        tcp_text=", ".join(tcp) or "–",
        flags=[text for key, text in _FLAG_TEXT if _flag(node.metadata, key)],
        page=page,
        health=health,
        pct_4xx_text=fmt.pct(in4 / req_in * 100.0) if req_in > 0 else "–",
        pct_5xx_text=fmt.pct(in5 / req_in * 100.0) if req_in > 0 else "–",
        sparks=sparks(trends.by_workload.get((node.namespace, node.workload))) if node.workload else [],
    )


def _node_level(node: Node, req_in: float) -> str:
    """A node without a health verdict: its traffic kind, or `na` (no second health rule here)."""
    if req_in <= 0:
        return "tcp" if node.rate("tcpIn") > 0 else "idle"
    return "na"


def _health_view(health: Any) -> HealthView | None:
    """Duck-typed: a health object with `status` (Kiali's strings) or a plain status string."""
    if health is None:
        return None
    status = _status_text(health)
    ratio = getattr(health, "error_ratio", None)
    detail = f"error ratio {fmt.pct(ratio)}" if isinstance(ratio, (int, float)) else ""
    return HealthView(_KIALI_HEALTH.get(status, "idle"), status, detail)


def _request_totals(graph: TrafficGraph, namespace: str | None = None) -> tuple[float, float]:
    """Requests and errors counted once: edges leaving a service node repeat the traffic that
    reached it (service node injection), so only edges from non-service nodes are summed."""
    total = errors = 0.0
    for e in graph.edges.values():
        src = graph.nodes.get(e.source)
        dst = graph.nodes.get(e.dest)
        if e.protocol == "tcp" or src is None or dst is None or src.node_type == "service":
            continue
        if namespace is not None and namespace not in (src.namespace, dst.namespace):
            continue
        total += e.total
        errors += e.errors
    return total, errors


def _worst_health(graph: TrafficGraph, namespace: str | None, total: float) -> str:
    """The worst health the appender gave a node (of the namespace); `idle` without traffic."""
    if total <= 0:
        return "idle"
    levels = {
        _KIALI_HEALTH.get(_status_text(n.health), "idle")
        for n in graph.nodes.values()
        if n.health is not None and (namespace is None or n.namespace == namespace)
    }
    for level in ("failure", "degraded", "healthy"):
        if level in levels:
            return level
    return "na"


def _mesh_stats(snapshot: Snapshot, graph: TrafficGraph, namespaces: list[str]) -> list[Stat]:
    total, errors = _request_totals(graph)
    kinds = [n.node_type for n in graph.nodes.values()]
    tcp = sum(e.total for e in graph.edges.values() if e.protocol == "tcp")
    stats = [
        Stat("Namespaces", str(len(namespaces))),
        Stat("Request rate", fmt.req_rate(total), "each request counted once"),
        Stat(
            "Error share",
            fmt.pct(errors / total * 100 if total else None),
            "4xx, 5xx, gRPC errors, no response",
        ),
        Stat("TCP traffic", fmt.byte_rate(tcp)),
        Stat(
            "Graph nodes",
            str(len(kinds)),
            f"{sum(k in ('app', 'workload') for k in kinds)} apps/workloads, {kinds.count('service')} services",
        ),
        Stat("Graph edges", str(len(graph.edges))),
    ]
    stats += _config_stats(snapshot, None)
    stats.append(
        Stat(
            "Gaps",
            str(len(snapshot.gaps)),
            "data that could not be collected" if snapshot.gaps else "collection complete",
            "degraded" if snapshot.gaps else "healthy",
        )
    )
    return stats


def _namespace_stats(snapshot: Snapshot, graph: TrafficGraph, ns: str) -> list[Stat]:
    total, errors = _request_totals(graph, ns)
    nodes = [n for n in graph.nodes.values() if n.namespace == ns]
    stats = [
        Stat("Request rate", fmt.req_rate(total), "to, from and within the namespace"),
        Stat("Error share", fmt.pct(errors / total * 100 if total else None)),
        Stat("Graph nodes", str(len(nodes))),
    ]
    stats += _config_stats(snapshot, ns)
    gaps = sum(1 for g in snapshot.gaps if g.namespace == ns)
    if gaps:
        stats.append(Stat("Gaps", str(gaps), "data that could not be collected", "degraded"))
    return stats


def _namespace_summary(snapshot: Snapshot, graph: TrafficGraph, ns: str) -> NamespaceSummary:
    total, errors = _request_totals(graph, ns)
    kinds = [n.node_type for n in graph.nodes.values() if n.namespace == ns]
    return NamespaceSummary(
        rate_text=fmt.req_rate(total),
        error_text=fmt.pct(errors / total * 100 if total else None),
        level=_worst_health(graph, ns, total),
        error_pct=errors / total * 100 if total else -1.0,
        rate=total,
        workloads=sum(k in ("app", "workload") for k in kinds),
        services=kinds.count("service"),
        gaps=sum(1 for g in snapshot.gaps if g.namespace == ns),
    )


_CONFIG_KINDS = (("Deployment", "Deployments"), ("Service", "Services"), ("Pod", "Pods"))
_ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")


def _config_stats(snapshot: Snapshot, ns: str | None) -> list[Stat]:
    objs = [o for o in snapshot.objects if ns is None or o.namespace == ns]
    if not objs:
        return []
    out = [Stat(label, str(sum(o.kind == kind for o in objs))) for kind, label in _CONFIG_KINDS]
    out.append(Stat("Istio config", str(sum(o.group in _ISTIO_GROUPS for o in objs)), "objects"))
    return out


def _source_text(snapshot: Snapshot) -> str:
    s = snapshot.source
    parts = [s.description or s.kind]
    if s.prometheus_url:
        parts.append(f"Prometheus {s.prometheus_url}")
    if s.clusters:
        parts.append("clusters " + ", ".join(s.clusters))
    return "; ".join(parts)
