"""ReportModel: the numbers and texts the pages show, computed from a hand-built graph."""

from __future__ import annotations

from report_mesh import EVIL, build_small_graph, build_small_graph_with_health, build_small_snapshot, report_input

from meshreport.graph.model import Edge
from meshreport.report.model import Section, build_model, edge_status, slug


def _edge(protocol: str, **rates: float) -> Edge:
    e = Edge("a", "b", protocol)
    e.rates = dict(rates)
    return e


def test_edge_status_is_the_health_appenders_verdict():
    e = _edge("http", http=100.0, http5xx=50.0)
    assert edge_status(e) == "na"  # no verdict: no second health rule in the report
    for verdict, level in (("Healthy", "healthy"), ("Degraded", "degraded"), ("Failure", "failure")):
        e.metadata["healthStatus"] = verdict
        assert edge_status(e) == level
    assert edge_status(_edge("tcp", tcp=500.0)) == "tcp"
    assert edge_status(_edge("http", http=0.0)) == "idle"


def test_levels_come_from_the_graph_health_with_kiali_default_tolerances():
    m = build_model(*report_input(build_small_snapshot(), build_small_graph_with_health()))
    levels = {(r.source.name, r.dest.name): r.level for r in m.busiest_edges}
    assert levels[("web-v1", "api")] == "failure"  # 10 % 5xx fails
    assert levels[("ingress-gw", "web-v1")] == "healthy"  # ~1.2 % 4xx is below 10 %
    assert levels[(EVIL, 'say "hi" & <b>bye</b>')] == "degraded"  # any 5xx degrades
    shop = {n.name: n for n in m.namespaces[0].nodes}
    assert shop["api-v1"].health.text == "Failure" and shop["api-v1"].level == "failure"
    assert shop["web-v1"].health.text == "Degraded"  # its outbound calls carry 8.6 % 5xx
    assert shop["orders-db"].health.text == "NA" and shop["orders-db"].level == "idle"  # TCP only
    assert m.has_health
    assert [(h.status, h.count) for h in m.health] == [("Failure", 2), ("Degraded", 3), ("Healthy", 1), ("NA", 1)]
    assert m.namespaces[0].summary.level == "failure" and m.namespaces[1].summary.level == "healthy"


def test_health_rules_change_the_levels():
    from meshreport.graph.appenders.node_health import annotate
    from meshreport.graph.config_index import ConfigIndex
    from meshreport.health import rules_from_config

    g = build_small_graph()
    lax = {"rate": [{"namespace": "shop", "tolerance": [{"code": "5XX", "degraded": 50, "failure": 90}]}]}
    annotate(g, ConfigIndex([]), rules_from_config(lax))
    m = build_model(*report_input(build_small_snapshot(), g))
    levels = {(r.source.name, r.dest.name): r.level for r in m.busiest_edges}
    assert levels[("web-v1", "api")] == "healthy"


def test_model_window_counts_and_top_edges():
    m = build_model(*report_input(build_small_snapshot(), build_small_graph_with_health()), now=1704067200.0 + 7200)
    assert m.window.start == "2024-01-01 00:00 UTC"
    assert m.window.end == "2024-01-01 01:00 UTC"
    assert m.window.duration == "1h"
    assert m.generated_at == "2024-01-01 02:00 UTC"
    stats = {s.label: s.value for s in m.stats}
    assert stats["Namespaces"] == "2"
    # Requests counted once: the svc-api -> api-v1 edge repeats web -> svc-api and is not summed.
    assert stats["Request rate"] == "68.75 req/s"
    assert stats["Graph edges"] == "7"
    assert stats["Gaps"] == "1"
    assert stats["Deployments"] == "1" and stats["Istio config"] == "3"
    assert stats["Findings"] == "2"  # two errors; the annotated DestinationRule's warning is suppressed

    # The service's hop to its only workload repeats web-v1 -> api: it is folded into that edge.
    assert [(r.source.name, r.dest.name) for r in m.busiest_edges[:2]] == [("ingress-gw", "web-v1"), ("web-v1", "api")]
    assert m.busiest_edges[1].via == "api-v1"
    assert not [r for r in m.busiest_edges if r.source.name == "api"]
    assert m.busiest_edges[0].rate_text == "42.50 req/s"
    assert all(r.protocol != "tcp" for r in m.busiest_edges)
    assert [r.dest.name for r in m.busiest_tcp_edges] == ["orders-db"]
    assert m.busiest_tcp_edges[0].rate_text == "12.3 kB/s"
    # Highest error share first (10 %, 1.2 %, 1 %), each edge once.
    assert [(r.source.name, r.error_text) for r in m.error_edges] == [
        ("web-v1", "10.0 %"),
        ("ingress-gw", "1.2 %"),
        (EVIL, "1.0 %"),
    ]
    assert m.error_edges[0].level == "failure"
    assert m.error_edges[0].pct_5xx_text == "10.0 %" and m.error_edges[0].pct_4xx_text == "0 %"
    assert m.error_edges[1].pct_4xx_text == "1.2 %" and m.error_edges[1].pct_5xx_text == "0 %"


def test_namespace_sections_tables_and_links():
    m = build_model(*report_input(build_small_snapshot(), build_small_graph_with_health()))
    assert [ns.name for ns in m.namespaces] == ["shop", "edge"]
    shop = m.namespaces[0]
    assert shop.page == "namespaces/shop.html"
    assert shop.image.path == "img/ns-shop.svg"
    names = [n.name for n in shop.nodes]
    assert set(names) == {"web-v1", "api-v1", "orders-db", EVIL, 'say "hi" & <b>bye</b>', "api"}
    assert names[-1] == "api"  # services after workloads
    api = next(n for n in shop.nodes if n.name == "api-v1")
    assert api.req_in_text == "20.00" and api.error_text == "10.0 %" and api.level == "failure"
    assert api.tcp_text == "out 12.3 kB/s"
    gw = next(n for n in m.namespaces[1].nodes if n.name == "ingress-gw")
    assert gw.kind == "gateway" and "entry point" in gw.flags
    assert shop.summary.workloads == 5 and shop.summary.services == 1
    assert m.namespaces[1].summary.gaps == 1
    # The unknown source belongs to no requested namespace, so it links nowhere.
    unknown = next(r for r in m.busiest_edges if r.source.name == "unknown")
    assert unknown.source.page is None and unknown.dest.page == "services/edge/wl-ingress-gw.html"


def test_health_column_appears_only_when_a_health_appender_ran():
    g = build_small_graph()
    assert build_model(*report_input(build_small_snapshot(), g)).has_health is False

    class H:
        status = "Degraded"
        error_ratio = 4.2

    g.nodes["web"].health = H()
    m = build_model(*report_input(build_small_snapshot(), g))
    assert m.has_health is True
    web = next(n for n in m.namespaces[0].nodes if n.name == "web-v1")
    assert web.health.text == "Degraded" and web.health.level == "degraded" and web.level == "degraded"
    assert web.health.detail == "error ratio 4.2 %"


def test_section_builders_add_content_without_touching_the_model():
    def builder(inp):
        yield Section("extra", "Extra", "x.html", {"n": len(inp.graph.nodes)})
        yield Section("per-ns", "Per namespace", "x.html", 1, placement="namespace", namespace="edge")
        yield Section("own", "Own page", "x.html", 2, placement="page")
        yield Section("lost", "No such namespace", "x.html", 3, placement="namespace", namespace="nope")

    m = build_model(*report_input(build_small_snapshot(), build_small_graph()), builders=[builder])
    assert [s.id for s in m.sections] == ["extra"] and m.sections[0].data == {"n": 8}
    assert [s.id for s in m.namespaces[1].sections] == ["per-ns"]
    assert m.namespaces[0].sections == []
    assert [p.id for p in m.pages] == ["findings", "own"]


def test_slug_keeps_file_names_safe():
    assert slug("bookinfo") == "bookinfo"
    assert slug("../etc") == "etc"
    assert slug("a/b c") == "a_b_c"
    assert slug("..") == "_"


def test_tcp_edges_keep_their_own_level_even_with_a_health_verdict():
    e = _edge("tcp", tcp=100.0)
    e.metadata["healthStatus"] = "Healthy"
    assert edge_status(e) == "tcp"
