"""The health finalizer on a hand-built graph: node health from edges, workload status, edge status."""

from __future__ import annotations

from meshreport import health as h
from meshreport.graph.appenders.node_health import HealthAppender, annotate, edge_codes, node_requests
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


def vapp(name, app, version):
    return new_node(f"vapp_east_{NS}_{name}", "app", "east", NS, name, app, version, "", "versionedApp")


def one_node_app_graph(dest):
    """productpage -> `dest`, a versioned app node and its app's only node: 5% of 20 requests are 503."""
    g = TrafficGraph(graph_type="versionedApp", timestamp=0, duration=600, namespaces=[NS])
    src = vapp("productpage-v1", "productpage", "v1")
    for n in (src, dest):
        g.add_node(n)
    edge = g.edge(src.id, dest.id, "http")
    add_value(src, dest, edge, "http", 19.0, "200", "-", "x")
    add_value(src, dest, edge, "http", 1.0, "503", "-", "x")
    return g


def test_one_node_app_box_has_the_node_request_health_under_the_same_tolerances():
    node = vapp("reviews-v1", "reviews", "v1")
    annotate(one_node_app_graph(node), ConfigIndex(OBJECTS), [h.DEFAULT_RULE])
    box = node.metadata["healthDataApp"]
    assert (node.health.request_status, node.health.error_ratio) == (h.DEGRADED, 5.0)
    assert (box.request_status, box.error_ratio) == (h.DEGRADED, 5.0)
    # the app's requests are its only node's, in a copy of their own
    assert box.requests == node.health.requests and box.requests is not node.health.requests
    expected = h.app_health(box.requests, box.workload_statuses, h.DEFAULT_RULE.tolerances)
    assert box == expected


def test_one_node_app_box_uses_the_app_tolerances_when_the_workload_has_a_rate_annotation():
    node = vapp("ratings-v1", "ratings", "v1")  # its Deployment allows 10% 5xx inbound
    annotate(one_node_app_graph(node), ConfigIndex(OBJECTS), [h.DEFAULT_RULE])
    assert node.health.request_status == h.HEALTHY and node.health.error_ratio == 5.0
    box = node.metadata["healthDataApp"]
    assert box.request_status == h.DEGRADED and box.status == h.DEGRADED  # the app has no annotation


def test_one_node_app_box_uses_the_app_tolerances_when_rules_differ_by_kind():
    rules = h.rules_from_config(
        {
            "rate": [
                {"kind": "app", "tolerance": [{"code": "5XX", "degraded": 1, "failure": 4}]},
                {"kind": "workload", "tolerance": [{"code": "5XX", "degraded": 50, "failure": 60}]},
            ]
        }
    )
    node = vapp("reviews-v1", "reviews", "v1")
    annotate(one_node_app_graph(node), ConfigIndex(OBJECTS), rules)
    assert node.health.request_status == h.HEALTHY
    box = node.metadata["healthDataApp"]
    assert box.request_status == h.FAILURE and box.error_ratio == 5.0


def test_node_requests_from_given_codes_match_the_edges():
    g = graph()
    codes = {k: edge_codes(e) for k, e in g.edges.items()}
    assert node_requests(g, codes) == node_requests(g)


def test_app_box_of_two_nodes_judges_their_merged_requests():
    g = one_node_app_graph(vapp("reviews-v1", "reviews", "v1"))
    v2 = vapp("reviews-v2", "reviews", "v2")
    g.add_node(v2)
    src = g.nodes[f"vapp_east_{NS}_productpage-v1"]
    add_value(src, v2, g.edge(src.id, v2.id, "http"), "http", 20.0, "200", "-", "x")
    annotate(g, ConfigIndex(OBJECTS), [h.DEFAULT_RULE])
    v1 = g.nodes[f"vapp_east_{NS}_reviews-v1"]
    assert v1.health.error_ratio == 5.0 and v2.health.request_status == h.HEALTHY
    for n in (v1, v2):
        box = n.metadata["healthDataApp"]
        assert box.request_status == h.DEGRADED and box.error_ratio == 2.5  # 1 of 40
        assert box.requests == {"inbound": {"http": {"200": 39.0, "503": 1.0}}}
