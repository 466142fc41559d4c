"""A small hand-built mesh: enough to check every table, picture and the escaping rules.

A module of its own (not conftest) so test files import it by a name no other test folder uses.
"""

from __future__ import annotations

from meshreport.analysis import Analysis
from meshreport.graph.appenders.node_health import annotate
from meshreport.graph.config_index import ConfigIndex
from meshreport.graph.model import Node, TrafficGraph
from meshreport.health import DEFAULT_RULE
from meshreport.pipeline import findings
from meshreport.snapshot.model import ConfigObject, Diagnostic, Gap, Snapshot, Source, Window

T0 = 1704067200.0
EVIL = "<script>document.title='pwned'</script>"
QUOTE_AMP = 'say "hi" & <b>bye</b>'


def _node(nid: str, node_type: str, ns: str, **kw) -> Node:
    return Node(id=nid, node_type=node_type, cluster="east", namespace=ns, **kw)


def build_small_graph() -> TrafficGraph:
    """ingress -> web -> api (10 % 5xx) -> db (tcp); an evil-named workload; an unknown source."""
    g = TrafficGraph(graph_type="workload", timestamp=T0 + 3600, duration=3600, namespaces=["shop", "edge"])
    nodes = [
        _node("unk", "unknown", "unknown", metadata={"isRoot": True, "isInaccessible": True}),
        _node("gw", "workload", "edge", workload="ingress-gw", metadata={"isGateway": {}, "isRoot": True}),
        _node("web", "workload", "shop", workload="web-v1", app="web", version="v1"),
        _node("api", "workload", "shop", workload="api-v1", app="api", version="v1"),
        _node("db", "workload", "shop", workload="orders-db", app="orders-db"),
        _node("evil", "workload", "shop", workload=EVIL),
        _node("qa", "workload", "shop", workload=QUOTE_AMP),
        _node("svc-api", "service", "shop", service="api"),
    ]
    for n in nodes:
        g.add_node(n)

    def http(src: str, dst: str, total: float, c5: float = 0.0, c4: float = 0.0) -> None:
        e = g.edge(src, dst, "http")
        e.rates.update({"http": total})
        # Per-code responses, as the graph build records them: the health appender reads these.
        for code, rate in (("200", total - c5 - c4), ("503", c5), ("404", c4)):
            if rate:
                e.responses[code] = {"flags": {"-": rate}, "hosts": {}}
        if c5:
            e.rates["http5xx"] = c5
        if c4:
            e.rates["http4xx"] = c4
        g.nodes[src].add_rate("httpOut", total)
        d = g.nodes[dst]
        d.add_rate("httpIn", total)
        if c5:
            d.add_rate("httpIn5xx", c5)
        if c4:
            d.add_rate("httpIn4xx", c4)

    http("unk", "gw", 2.0)
    http("gw", "web", 42.5, c4=0.5)
    http("web", "svc-api", 20.0, c5=2.0)
    http("svc-api", "api", 20.0, c5=2.0)
    http("web", "evil", 3.25)
    http("evil", "qa", 1.0, c5=0.01)
    e = g.edge("api", "db", "tcp")
    e.rates["tcp"] = 12345.0
    g.nodes["api"].add_rate("tcpOut", 12345.0)
    g.nodes["db"].add_rate("tcpIn", 12345.0)
    return g


def build_small_graph_with_health() -> TrafficGraph:
    """The small graph after the real health appender (Kiali's default tolerances), as render builds it."""
    g = build_small_graph()
    annotate(g, ConfigIndex([]), [DEFAULT_RULE])
    return g


def build_small_snapshot() -> Snapshot:
    dep = ConfigObject("apps/v1", "Deployment", "web-v1", "shop", {"metadata": {"name": "web-v1"}})
    vs = ConfigObject(
        "networking.istio.io/v1",
        "VirtualService",
        "api",
        "shop",
        {
            "metadata": {"name": "api"},
            "spec": {"hosts": ["api"], "http": [{"directResponse": {"status": 204}}]},
        },
    )
    # Findings: IST0101 and IST0106 (not a valid host name) whose messages carry a hostile host; a
    # DestinationRule suppressed by annotation.
    evil_vs = ConfigObject(
        "networking.istio.io/v1",
        "VirtualService",
        EVIL,
        "shop",
        {
            "metadata": {"name": EVIL},
            "spec": {"hosts": ["web"], "http": [{"route": [{"destination": {"host": EVIL}}]}]},
        },
    )
    quiet_dr = ConfigObject(
        "networking.istio.io/v1",
        "DestinationRule",
        "quiet",
        "shop",
        {
            "metadata": {"name": "quiet", "annotations": {"galley.istio.io/analyze-suppress": "*"}},
            "spec": {"host": "nowhere"},
        },
    )
    return Snapshot(
        window=Window(T0, T0 + 3600),
        source=Source(kind="synthetic", description="hand-built test mesh"),
        namespaces=["shop", "edge"],
        objects=[dep, vs, evil_vs, quiet_dr],
        gaps=[Gap("metrics", "graph/istio_requests_total/incoming", "timeout after 30s", namespace="edge")],
        diagnostics=[Diagnostic("MR-NO-GRPC", "no gRPC traffic in the window")],
    )


def analysis_of(snap: Snapshot, graph: TrafficGraph, validation=None) -> Analysis:
    """The Analysis the report reads: this graph, and the given findings or, when the snapshot
    has config objects, their validation with defaults (as `pipeline.analyse` would)."""
    if validation is None and snap.objects:
        validation = findings(snap.objects, now=snap.window.end)
    return Analysis.of(graph, validation)


def report_input(snap: Snapshot, graph: TrafficGraph, validation=None) -> tuple[Snapshot, Analysis]:
    """(snapshot, analysis): the two things `build_model` reads."""
    return snap, analysis_of(snap, graph, validation)
