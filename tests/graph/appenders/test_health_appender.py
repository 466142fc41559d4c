"""The health finalizer on a hand-built graph: node health from edges, workload status, edge status."""

from __future__ import annotations

from meshreport import health as h
from meshreport.graph.appenders.health import HealthAppender, annotate, node_requests
from meshreport.graph.config_index import ConfigIndex
from meshreport.graph.ids import new_node
from meshreport.graph.model import TrafficGraph
from meshreport.graph.traffic import add_value
from meshreport.snapshot.model import ConfigObject

NS = "bookinfo"


def deployment(name, app, version, desired=1, available=1, annotations=None):
    labels = {"app": app, "version": version}
    body = {
        "metadata": {"name": name, "namespace": NS, "annotations": annotations or {}},
        "spec": {
            "replicas": desired,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}},
        },
        "status": {"replicas": desired, "availableReplicas": available},
    }
    return ConfigObject("apps/v1", "Deployment", name, NS, body, cluster="east")


def service(name, annotations=None):
    body = {"metadata": {"name": name, "namespace": NS, "annotations": annotations or {}}, "spec": {}}
    return ConfigObject("v1", "Service", name, NS, body, cluster="east")


def wl(name, app, version, ns=NS):
    return new_node(f"wl_east_{ns}_{name}", "workload", "east", ns, name, app, version, "", "workload")


def svc(name):
    return new_node(f"svc_east_{NS}_{name}", "service", "east", NS, "", "", "", name, "workload")


def graph():
    """productpage -> reviews (svc) -> reviews-v1 / reviews-v2; reviews-v2 -> ratings with 5xx."""
    g = TrafficGraph(graph_type="workload", timestamp=0, duration=600, namespaces=[NS])
    pp, rsvc, r1, r2, rat = (
        wl("productpage-v1", "productpage", "v1"),
        svc("reviews"),
        wl("reviews-v1", "reviews", "v1"),
        wl("reviews-v2", "reviews", "v2"),
        wl("ratings-v1", "ratings", "v1"),
    )
    for n in (pp, rsvc, r1, r2, rat):
        g.add_node(n)
    host = "reviews.bookinfo.svc.cluster.local"

    def send(a, b, proto, v, code):
        add_value(a, b, g.edge(a.id, b.id, proto), proto, v, code, "-", host)

    send(pp, rsvc, "http", 18.0, "200")
    send(pp, rsvc, "http", 2.0, "404")
    send(rsvc, r1, "http", 10.0, "200")
    send(rsvc, r2, "http", 8.0, "200")
    send(rsvc, r2, "http", 2.0, "404")
    send(r2, rat, "http", 9.5, "200")
    send(r2, rat, "http", 0.5, "503")
    return g


OBJECTS = [
    deployment("productpage-v1", "productpage", "v1"),
    deployment("reviews-v1", "reviews", "v1"),
    deployment("reviews-v2", "reviews", "v2", desired=2, available=1),
    deployment("ratings-v1", "ratings", "v1", annotations={h.RATE_ANNOTATION: "5XX,10,20,http,inbound"}),
    service("reviews"),
]


def test_requests_rebuilt_from_edges():
    g = graph()
    reqs = node_requests(g)
    assert reqs["svc_east_bookinfo_reviews"] == {
        "inbound": {"http": {"200": 18.0, "404": 2.0}},
        "outbound": {"http": {"200": 18.0, "404": 2.0}},
    }
    assert reqs["wl_east_bookinfo_ratings-v1"] == {"inbound": {"http": {"200": 9.5, "503": 0.5}}}


def test_node_health():
    g = graph()
    annotate(g, ConfigIndex(OBJECTS), [h.DEFAULT_RULE])
    n = g.nodes
    # 10% 404 on productpage's outbound: Degraded by the 4XX 10/20 default
    assert n["wl_east_bookinfo_productpage-v1"].health.status == h.DEGRADED
    assert n["svc_east_bookinfo_reviews"].health.status == h.DEGRADED
    assert n["wl_east_bookinfo_reviews-v1"].health.status == h.HEALTHY
    # reviews-v2: 1 of 2 replicas available (Degraded), but inbound 2 of 10 are 404: 20% is Failure
    r2 = n["wl_east_bookinfo_reviews-v2"].health
    assert r2.workload_statuses[0].status == h.DEGRADED and r2.workload_statuses[0].available_replicas == 1
    assert r2.request_status == h.FAILURE and r2.error_ratio == 20.0
    assert r2.status == h.FAILURE
    # ratings: default would say Degraded (any 5xx), its annotation allows 10% inbound
    rat = n["wl_east_bookinfo_ratings-v1"]
    assert rat.health.status == h.HEALTHY
    assert rat.metadata["hasHealthConfig"] == {h.RATE_ANNOTATION: "5XX,10,20,http,inbound"}


def test_edge_health_status():
    g = graph()
    annotate(g, ConfigIndex(OBJECTS), [h.DEFAULT_RULE])
    e = g.edges
    assert e[("wl_east_bookinfo_productpage-v1", "svc_east_bookinfo_reviews", "http")].metadata["healthStatus"] == (
        h.DEGRADED
    )
    assert e[("svc_east_bookinfo_reviews", "wl_east_bookinfo_reviews-v1", "http")].metadata["healthStatus"] == h.HEALTHY
    # reviews-v2 -> ratings: 5% 503. Source reviews-v2 outbound default says Degraded; dest annotation
    # (inbound 10/20) says Healthy; the edge is the worse one.
    assert e[("wl_east_bookinfo_reviews-v2", "wl_east_bookinfo_ratings-v1", "http")].metadata["healthStatus"] == (
        h.DEGRADED
    )


def test_configured_rules_apply_and_inaccessible_nodes_get_none():
    g = graph()
    g.nodes["wl_east_bookinfo_productpage-v1"].metadata["isInaccessible"] = True
    rules = h.rules_from_config(
        {"rate": [{"namespace": NS, "kind": "service", "tolerance": [{"code": "4XX", "degraded": 50, "failure": 90}]}]}
    )
    annotate(g, ConfigIndex(OBJECTS), rules)
    assert g.nodes["wl_east_bookinfo_productpage-v1"].health is None
    assert g.nodes["svc_east_bookinfo_reviews"].health.status == h.HEALTHY  # 10% 4xx < 50%


def test_app_nodes_and_versioned_app_box_health():
    g = TrafficGraph(graph_type="versionedApp", timestamp=0, duration=600, namespaces=[NS])
    a1 = new_node("vapp_east_bookinfo_reviews-v1", "app", "east", NS, "reviews-v1", "reviews", "v1", "", "versionedApp")
    a2 = new_node("vapp_east_bookinfo_reviews-v2", "app", "east", NS, "reviews-v2", "reviews", "v2", "", "versionedApp")
    src = new_node("app_east_bookinfo_productpage", "app", "east", NS, "", "productpage", "", "", "app")
    for n in (a1, a2, src):
        g.add_node(n)
    add_value(src, a1, g.edge(src.id, a1.id, "http"), "http", 10.0, "200", "-", "reviews")
    add_value(src, a2, g.edge(src.id, a2.id, "http"), "http", 10.0, "200", "-", "reviews")
    annotate(g, ConfigIndex(OBJECTS), [h.DEFAULT_RULE])
    assert a1.health.kind == "workload" and a1.health.status == h.HEALTHY
    assert a2.health.status == h.DEGRADED  # its workload has 1 of 2 replicas
    box = a1.metadata["healthDataApp"]
    assert box.kind == "app" and box.status == h.DEGRADED  # the app includes reviews-v2
    assert box.requests["inbound"]["http"]["200"] == 20.0
    assert src.health.kind == "app" and [w.name for w in src.health.workload_statuses] == ["productpage-v1"]


def test_appender_interface_attributes():
    a = HealthAppender()
    assert a.name == "health" and a.finalizer is True
