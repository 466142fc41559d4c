"""The numbers an SRE reads off one edge: rate, 4xx %, 5xx %, p50/p95/p99, mTLS %, codes, flags.

One function turns a graph edge into an `EdgeRow`, so every traffic table (overview, namespace,
service pages, PDF) shows the same columns computed the same way.

Service hops: with injected service nodes, `caller -> service` and `service -> workload` carry the
same requests. When a service has one backend per protocol, its `service -> workload` hop only
repeats the caller's edge; `report_edges` drops such hops and gives the caller's edge the hop's
latency (latency is measured on the last hop only) and its destination workload as `via`.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshreport.graph.model import Edge, TrafficGraph
from meshreport.report import format as fmt

QUANTILES = ("50", "95", "99")
#: How many response codes and flags an edge's cell lists (the rest are summed into "other").
TOP_CODES = 3


@dataclass(frozen=True)
class NodeRef:
    name: str
    namespace: str
    kind: str
    page: str | None


@dataclass
class EdgeRow:
    source: NodeRef
    dest: NodeRef
    protocol: str
    rate: float
    rate_text: str
    errors: float
    errors_text: str
    error_pct: float
    error_text: str
    level: str
    #: Client errors (4xx) and server-side errors (5xx, gRPC errors, no response), percent of requests.
    pct_4xx: float | None = None
    pct_5xx: float | None = None
    pct_4xx_text: str = "–"
    pct_5xx_text: str = "–"
    #: Latency quantiles in ms ({"50": .., "95": .., "99": ..}); missing ones are absent.
    latency: dict[str, float] | None = None
    latency_text: dict[str, str] | None = None
    #: Percent of the edge's traffic sent with mutual TLS; None when the snapshot has no mTLS data.
    mtls: float | None = None
    mtls_text: str = "–"
    codes_text: str = ""
    flags_text: str = ""
    #: The workload a service edge reaches when its own service -> workload hop was folded in.
    via: str = ""
    key: tuple[str, str, str] = ("", "", "")  # the graph edge's (source id, dest id, protocol)
    #: Since the previous report (report/since.py): "new" for an edge the baseline did not have.
    change: str = ""

    @property
    def p95(self) -> float:
        return (self.latency or {}).get("95", -1.0)

    def sort_value(self, column: str) -> float:
        """The number a sortable table orders this row by (missing values sort last: -1)."""
        value = {
            "rate": self.rate,
            "4xx": self.pct_4xx,
            "5xx": self.pct_5xx,
            "err": self.error_pct if self.protocol != "tcp" else None,
            "mtls": self.mtls,
        }.get(column)
        if column in QUANTILES:
            value = (self.latency or {}).get(column)
        return -1.0 if value is None else value


def _pct(part: float, total: float) -> float | None:
    return part / total * 100.0 if total > 0 else None


def split_errors(edge: Edge) -> tuple[float, float]:
    """(4xx rate, server-side error rate): 5xx + no response for HTTP, errors + no response for gRPC."""
    r = edge.rates
    if edge.protocol == "http":
        return r.get("http4xx", 0.0), r.get("http5xx", 0.0) + r.get("httpNoResponse", 0.0)
    if edge.protocol == "grpc":
        return 0.0, r.get("grpcErr", 0.0) + r.get("grpcNoResponse", 0.0)
    return 0.0, 0.0


def _share_text(parts: dict[str, float], total: float) -> str:
    if total <= 0 or not parts:
        return ""
    ranked = sorted(parts.items(), key=lambda kv: (-kv[1], kv[0]))
    out = [f"{name} {fmt.pct(v / total * 100.0)}" for name, v in ranked[:TOP_CODES]]
    rest = sum(v for _, v in ranked[TOP_CODES:])
    if rest > 0:
        out.append(f"other {fmt.pct(rest / total * 100.0)}")
    return ", ".join(out)


def codes_and_flags(edge: Edge) -> tuple[str, str]:
    """Response codes and Envoy response flags (other than `-`) as shares of the edge's responses."""
    codes: dict[str, float] = {}
    flags: dict[str, float] = {}
    for code, detail in edge.responses.items():
        for flag, rate in (detail.get("flags") or {}).items():
            codes[code] = codes.get(code, 0.0) + rate
            if flag != "-":
                flags[flag] = flags.get(flag, 0.0) + rate
    total = sum(codes.values())
    return _share_text(codes, total), _share_text(flags, total)


def latency_of(edge: Edge) -> dict[str, float]:
    return dict(edge.metadata.get("responseTimes") or {})


def edge_row(
    edge: Edge, source: NodeRef, dest: NodeRef, level: str, *, mtls_known: bool, hop: Edge | None = None
) -> EdgeRow:
    """`hop`: the folded service -> workload edge whose latency and destination this edge shows."""
    tcp = edge.protocol == "tcp"
    c4, c5 = split_errors(edge)
    latency = latency_of(edge) or (latency_of(hop) if hop is not None else {})
    codes, flags = codes_and_flags(edge)
    mtls = float(edge.metadata.get("isMTLS", 0.0)) if mtls_known and edge.total > 0 else None
    p4, p5 = (None, None) if tcp else (_pct(c4, edge.total), _pct(c5, edge.total))
    return EdgeRow(
        source=source,
        dest=dest,
        protocol=edge.protocol,
        rate=edge.total,
        rate_text=fmt.byte_rate(edge.total) if tcp else fmt.req_rate(edge.total),
        errors=edge.errors,
        errors_text="–" if tcp else fmt.req_rate(edge.errors),
        error_pct=edge.error_pct,
        error_text="–" if tcp else fmt.pct(edge.error_pct),
        level=level,
        pct_4xx=p4,
        pct_5xx=p5,
        pct_4xx_text=fmt.pct(p4),
        pct_5xx_text=fmt.pct(p5),
        latency=latency or None,
        latency_text={q: fmt.ms(latency[q]) if q in latency else "–" for q in QUANTILES},
        mtls=mtls,
        mtls_text=fmt.pct(mtls) if mtls is not None else "–",
        codes_text=codes,
        flags_text=flags,
        key=edge.key,
    )


def folded_hops(graph: TrafficGraph) -> dict[tuple[str, str], Edge]:
    """(service node id, protocol) -> its only outgoing edge of that protocol, for services with one backend."""
    out: dict[tuple[str, str], list[Edge]] = {}
    for e in graph.edges.values():
        src = graph.nodes.get(e.source)
        if src is not None and src.node_type == "service":
            out.setdefault((e.source, e.protocol), []).append(e)
    return {k: es[0] for k, es in out.items() if len(es) == 1}


def report_edges(graph: TrafficGraph) -> list[tuple[Edge, Edge | None]]:
    """Every edge a table lists, as (edge, folded hop), sorted by key; repeated service hops left out."""
    folded = folded_hops(graph)
    hidden = {id(e) for e in folded.values()}
    rows = []
    for e in sorted(graph.edges.values(), key=lambda e: e.key):
        if id(e) in hidden:
            continue
        rows.append((e, folded.get((e.dest, e.protocol))))
    return rows
