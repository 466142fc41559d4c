"""Series -> nodes and edges with Kiali's semantics (Kiali graph/types.go, graph/telemetry/istio/istio.go)."""

from __future__ import annotations

import hashlib

import pytest
from graph_helpers import labels, snapshot, tcp_labels, wl

from meshreport.errors import UsageError
from meshreport.graph.build import GraphOptions, build_graph, graph_metrics
from meshreport.graph.ids import box_id, json_edge_id, json_node_id, node_id

IN = "graph/istio_requests_total/incoming"
OUT = "graph/istio_requests_total/outgoing"
UNSERVICED = "graph/istio_requests_total/unserviced"
NONE = []  # no optional appenders: the core graph plus outsider/trafficGenerator


def opts(graph_type="versionedApp", **kw) -> GraphOptions:
    kw.setdefault("appenders", NONE)
    return GraphOptions(graph_type=graph_type, **kw)


def bookinfo_snapshot():
    pp, r1, r2 = wl("bookinfo", "productpage"), wl("bookinfo", "reviews", "v1"), wl("bookinfo", "reviews", "v2")
    return snapshot(
        {
            (IN, "bookinfo"): [
                (labels(None, pp, "productpage"), 2.0),
                (labels(pp, r1, "reviews"), 1.0),
                (labels(pp, r1, "reviews", code="500"), 0.5),
                (labels(pp, r2, "reviews"), 0.25),
            ],
        },
        ["bookinfo"],
    )


# --- ids --------------------------------------------------------------------------------------


def test_node_ids_for_each_graph_type():
    args = ("east", "bookinfo", "reviews", "bookinfo", "reviews-v1", "reviews", "v1")
    assert node_id(*args, "workload") == ("wl_east_bookinfo_reviews-v1", "workload")
    assert node_id(*args, "service") == ("wl_east_bookinfo_reviews-v1", "workload")
    assert node_id(*args, "versionedApp") == ("vapp_east_bookinfo_reviews-v1", "app")
    assert node_id(*args, "app") == ("app_east_bookinfo_reviews", "app")
    # versionedApp without workload: app + version, but `latest` is not a version
    assert node_id("east", "ns", "", "ns", "", "a", "v2", "versionedApp") == ("vapp_east_ns_a_v2", "app")
    assert node_id("east", "ns", "", "ns", "", "a", "latest", "versionedApp") == ("app_east_ns_a", "app")
    # app graph falls back to workload then service
    assert node_id("east", "ns", "s", "ns", "w", "unknown", "", "app") == ("wl_east_ns_w", "workload")
    assert node_id("east", "ns", "s", "ns", "unknown", "unknown", "", "app") == ("svc_east_ns_s", "service")
    assert node_id("east", "unknown", "", "unknown", "unknown", "unknown", "unknown", "app") == (
        "east_unknown_source",
        "unknown",
    )
    assert node_id("east", "ns", "unknown", "ns", "unknown", "unknown", "", "workload") == (
        "svc_east_ns_unknown",
        "service",
    )
    assert node_id("east", "ns", "", "ns", "unknown", "", "", "workload") is None


def test_json_ids_are_sha256_of_internal_ids():
    assert json_node_id("wl_east_bankapp_deposit-v1").startswith("4bd27abd")
    src, dst = "wl_a_b_c", "svc_a_b_d"
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    assert json_edge_id(src, dst, "http") == sha(f"{sha(src)}.{sha(dst)}.http")
    assert box_id("east", "bookinfo", "reviews") == sha("box_east_bookinfo_reviews")
    assert box_id("east") == sha("box_east")


# --- graph types, trimming, rates ---------------------------------------------------------------


def test_versioned_app_graph_nodes_edges_and_rates():
    g = build_graph(bookinfo_snapshot(), opts())
    assert set(g.nodes) == {
        "unknown_unknown_source",
        "vapp_east_bookinfo_productpage-v1",
        "vapp_east_bookinfo_reviews-v1",
        "vapp_east_bookinfo_reviews-v2",
    }
    e = g.edges[("vapp_east_bookinfo_productpage-v1", "vapp_east_bookinfo_reviews-v1", "http")]
    assert e.rates == {"http": 1.5, "http5xx": 0.5}
    assert e.responses["500"] == {"flags": {"-": 0.5}, "hosts": {"reviews.bookinfo.svc.cluster.local": 0.5}}
    pp = g.nodes["vapp_east_bookinfo_productpage-v1"]
    assert pp.rates == {"httpIn": 2.0, "httpOut": 1.75}
    assert g.nodes["vapp_east_bookinfo_reviews-v1"].rates == {"httpIn": 1.5, "httpIn5xx": 0.5}
    # versionedApp nodes keep workload and version, drop service
    r1 = g.nodes["vapp_east_bookinfo_reviews-v1"]
    assert (r1.workload, r1.app, r1.version, r1.service) == ("reviews-v1", "reviews", "v1", "")
    assert r1.dest_services == {("east", "bookinfo", "reviews")}
    unk = g.nodes["unknown_unknown_source"]
    assert unk.node_type == "unknown" and unk.metadata["isRoot"] and unk.metadata["isInaccessible"]


def test_app_graph_aggregates_versions():
    g = build_graph(bookinfo_snapshot(), opts("app"))
    reviews = g.nodes["app_east_bookinfo_reviews"]
    assert (reviews.workload, reviews.version) == ("", "")
    assert reviews.rates["httpIn"] == 1.75
    assert g.edges[("app_east_bookinfo_productpage", "app_east_bookinfo_reviews", "http")].rates["http"] == 1.75


def test_workload_graph_trims_service_keeps_labels():
    g = build_graph(bookinfo_snapshot(), opts("workload"))
    r2 = g.nodes["wl_east_bookinfo_reviews-v2"]
    assert (r2.node_type, r2.workload, r2.app, r2.version, r2.service) == (
        "workload",
        "reviews-v2",
        "reviews",
        "v2",
        "",
    )
    assert len(g.edges) == 3


def test_duplicate_suppression_destination_report_wins():
    pp, r1 = wl("bookinfo", "productpage"), wl("bookinfo", "reviews")
    snap = snapshot(
        {
            (IN, "bookinfo"): [(labels(pp, r1, "reviews"), 1.0)],
            (OUT, "bookinfo"): [
                (labels(pp, r1, "reviews"), 1.2),  # same series, source-reported: ignored
                (labels(pp, r1, "reviews", flags="UO"), 0.3),  # differs in flags: counted
            ],
        },
        ["bookinfo"],
    )
    g = build_graph(snap, opts("workload"))
    e = g.edges[("wl_east_bookinfo_productpage-v1", "wl_east_bookinfo_reviews-v1", "http")]
    assert e.rates["http"] == pytest.approx(1.3)
    assert e.responses["200"]["flags"] == {"-": 1.0, "UO": 0.3}


def test_service_injection_two_hops():
    g = build_graph(bookinfo_snapshot(), opts("workload", inject_service_nodes=True))
    svc = g.nodes["svc_east_bookinfo_reviews"]
    assert svc.node_type == "service" and svc.metadata["isInjected"]
    assert svc.dest_services == {("east", "bookinfo", "reviews")}
    assert svc.rates == {"httpIn": 1.75, "httpIn5xx": 0.5, "httpOut": 1.75}
    pp = "wl_east_bookinfo_productpage-v1"
    assert g.edges[(pp, "svc_east_bookinfo_reviews", "http")].rates["http"] == 1.75
    assert g.edges[("svc_east_bookinfo_reviews", "wl_east_bookinfo_reviews-v1", "http")].rates == {
        "http": 1.5,
        "http5xx": 0.5,
    }
    assert (pp, "wl_east_bookinfo_reviews-v1", "http") not in g.edges


def test_unknown_destination_and_terminal_service():
    ingress = ("istio-system", "istio-ingressgateway", "istio-ingressgateway", "unknown")
    snap = snapshot(
        {
            (OUT, "bookinfo"): [
                # 404 at a route nothing serves: everything unknown
                (labels(wl("bookinfo", "productpage"), None, "unknown", svc_ns="bookinfo", code="404"), 1.0),
            ],
            (UNSERVICED, "bookinfo"): [
                # reached a service, never a workload (503 no healthy upstream)
                (
                    labels(
                        ingress,
                        ("unknown", "unknown", "unknown", "unknown"),
                        "details",
                        svc_ns="bookinfo",
                        code="503",
                        flags="UH",
                    ),
                    0.5,
                ),
            ],
        },
        ["bookinfo"],
    )
    g = build_graph(snap, opts("workload"))
    assert g.nodes["svc_east_bookinfo_unknown"].node_type == "service"
    assert g.edges[("wl_east_bookinfo_productpage-v1", "svc_east_bookinfo_unknown", "http")].rates["http4xx"] == 1.0
    details = g.nodes["svc_east_bookinfo_details"]
    assert details.rates == {"httpIn": 0.5, "httpIn5xx": 0.5}
    gw = g.nodes["wl_east_istio-system_istio-ingressgateway"]
    assert gw.metadata["isOutside"] and gw.metadata["isInaccessible"]  # no config for istio-system
    assert gw.app == "istio-ingressgateway" and gw.version == ""


def test_egress_clusters_are_never_injected():
    src = wl("bookinfo", "productpage")
    lb = labels(src, None, "PassthroughCluster", svc_ns="unknown", host="PassthroughCluster")
    bh = labels(src, None, "BlackHoleCluster", svc_ns="unknown", host="BlackHoleCluster", code="502")
    g = build_graph(
        snapshot({(OUT, "bookinfo"): [(lb, 1.0), (bh, 0.1)]}, ["bookinfo"]), opts("workload", inject_service_nodes=True)
    )
    pt = g.nodes["svc_east_unknown_PassthroughCluster"]
    assert pt.metadata["isEgressCluster"] and pt.metadata["isInaccessible"] and "isInjected" not in pt.metadata
    assert g.nodes["svc_east_unknown_BlackHoleCluster"].metadata["isEgressCluster"]
    assert len(g.edges) == 2


def test_error_classes_http_and_grpc():
    a, b = wl("ns", "a"), wl("ns", "b")
    series = [
        (labels(a, b, "b", code="0", flags="UF"), 1.0),  # no response
        (labels(a, b, "b", code="301"), 2.0),  # 3xx: not an error
        (labels(a, b, "b", code="404"), 4.0),
        (labels(a, b, "b", code="200"), 8.0),
        (labels(a, b, "b", protocol="grpc", code="200", grpc="0"), 16.0),
        (labels(a, b, "b", protocol="grpc", code="200", grpc="14"), 32.0),  # gRPC status error
        (labels(a, b, "b", protocol="grpc", code="503", grpc="0"), 64.0),  # HTTP error wins
        (labels(a, b, "b", protocol="grpc", code="0", grpc="4"), 128.0),  # no response
    ]
    g = build_graph(snapshot({(IN, "ns"): series}, ["ns"]), opts("workload"))
    http = g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")]
    assert http.rates == {"http": 15.0, "httpNoResponse": 1.0, "http3xx": 2.0, "http4xx": 4.0}
    assert http.errors == 5.0 and "-" in http.responses
    grpc = g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "grpc")]
    assert grpc.rates == {"grpc": 240.0, "grpcErr": 96.0, "grpcNoResponse": 128.0}
    assert set(grpc.responses) == {"0", "14", "503", "-"}
    b_node = g.nodes["wl_east_ns_b-v1"]
    assert b_node.rates["grpcInErr"] == 96.0 and b_node.rates["httpInNoResponse"] == 1.0


def test_rate_options_http_none_and_grpc_messages():
    a, b = wl("ns", "a"), wl("ns", "b")
    snap = snapshot(
        {
            (IN, "ns"): [(labels(a, b, "b"), 1.0), (labels(a, b, "b", protocol="grpc", grpc="0"), 2.0)],
            ("graph/istio_request_messages_total/incoming", "ns"): [
                (labels(a, b, "b", protocol=None, code=None, flags=None), 5.0)
            ],
            ("graph/istio_response_messages_total/incoming", "ns"): [
                (labels(a, b, "b", protocol=None, code=None, flags=None), 7.0)
            ],
        },
        ["ns"],
    )
    g = build_graph(snap, opts("workload", rate_http="none"))
    assert [k[2] for k in g.edges] == ["grpc"] and g.edges[next(iter(g.edges))].rates == {"grpc": 2.0}
    g = build_graph(snap, opts("workload", rate_http="none", rate_grpc="total"))
    e = g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "grpc")]
    assert e.rates == {"grpc": 12.0}  # messages are never errors
    g = build_graph(snap, opts("workload", rate_grpc="received"))
    assert g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "grpc")].rates == {"grpc": 7.0}
    assert g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")].rates == {"http": 1.0}


def test_tcp_metric_swap():
    a, b = wl("ns", "a"), wl("ns", "mysql")
    snap = snapshot(
        {
            ("graph/istio_tcp_sent_bytes_total/incoming", "ns"): [(tcp_labels(a, b, "mysql"), 100.0)],
            ("graph/istio_tcp_received_bytes_total/incoming", "ns"): [(tcp_labels(a, b, "mysql"), 7.0)],
        },
        ["ns"],
    )
    key = ("wl_east_ns_a-v1", "wl_east_ns_mysql-v1", "tcp")
    assert build_graph(snap, opts("workload")).edges[key].rates == {"tcp": 7.0}  # sent -> received metric
    assert build_graph(snap, opts("workload", rate_tcp="received")).edges[key].rates == {"tcp": 100.0}
    g = build_graph(snap, opts("workload", rate_tcp="total"))
    assert g.edges[key].rates == {"tcp": 107.0}
    assert g.edges[key].responses == {"-": {"flags": {"-": 107.0}, "hosts": {"mysql.ns.svc.cluster.local": 107.0}}}
    assert g.nodes["wl_east_ns_a-v1"].rates == {"tcpOut": 107.0}
    assert key not in build_graph(snap, opts("workload", rate_tcp="none")).edges
    assert [m for m, _ in graph_metrics(opts(rate_tcp="sent"))][-1] == "istio_tcp_received_bytes_total"


def test_idle_edges_only_when_asked():
    a, b, c = wl("ns", "a"), wl("ns", "b"), wl("ns", "c")
    snap = snapshot({(IN, "ns"): [(labels(a, b, "b"), 1.0), (labels(a, c, "c"), 0.0)]}, ["ns"])
    assert "wl_east_ns_c-v1" not in build_graph(snap, opts("workload")).nodes
    g = build_graph(snap, opts("workload", include_idle_edges=True))
    e = g.edges[("wl_east_ns_a-v1", "wl_east_ns_c-v1", "http")]
    assert e.rates == {} and g.nodes["wl_east_ns_c-v1"].rates == {}


def test_bad_telemetry_and_fixups():
    src = wl("ns", "a")
    egress = labels(
        src,
        None,
        "istio-egressgateway.istio-system.svc.cluster.local",
        host="istio-egressgateway.istio-system.svc.cluster.local",
    )
    no_dst_cluster = labels(src, wl("ns", "b"), "b")
    no_dst_cluster.pop("destination_cluster")
    series = [
        (egress, 1.0),
        (no_dst_cluster, 2.0),
        (labels(("ns", "unknown", "unknown", ""), wl("ns", "b"), "b"), 4.0),  # bad source: no wl/app
        (labels(src, None, "10.1.2.3:80", svc_ns="unknown", host="10.1.2.3:80"), 8.0),  # dest is an IP
        (labels(src, wl("ns", "b"), "b", dst_cluster="unknown"), 16.0),  # dest cluster present but unknown
        ({k: v for k, v in labels(src, wl("ns", "b"), "b").items() if k != "destination_workload"}, 32.0),
    ]
    g = build_graph(snapshot({(OUT, "ns"): series}, ["ns"]), opts("workload"))
    eg = g.nodes["wl_east_istio-system_istio-egressgateway"]
    assert (eg.namespace, eg.app) == ("istio-system", "istio-egressgateway")
    assert g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")].rates["http"] == 2.0  # cluster taken from source
    assert len(g.edges) == 2 and len(g.nodes) == 3


def test_merge_prefers_namespace_instance_and_adds_missing_edges():
    a1, b1, b2 = wl("a", "a1"), wl("b", "b1"), wl("b", "b2")
    snap = snapshot(
        {
            (OUT, "a"): [(labels(a1, b1, "b1"), 2.5)],  # source-reported in a
            (IN, "b"): [
                (labels(a1, b1, "b1"), 2.0),  # destination-reported in b
                (labels(a1, b2, "b2"), 1.0),  # only b saw this one
            ],
        },
        ["a", "b"],
    )
    g = build_graph(snap, opts("workload"))
    a1_id, b1_id = "wl_east_a_a1-v1", "wl_east_b_b1-v1"
    assert g.edges[(a1_id, b1_id, "http")].rates["http"] == 2.5  # a's instance of a1 kept its edge
    assert g.edges[(a1_id, "wl_east_b_b2-v1", "http")].rates["http"] == 1.0  # added from b
    assert g.nodes[a1_id].rates["httpOut"] == 3.5
    assert g.nodes[b1_id].rates["httpIn"] == 2.0  # b's own instance replaced a's
    assert not any(n.metadata.get("isOutside") for n in g.nodes.values())
    only_a = build_graph(snap, opts("workload", namespaces=["a"]))
    assert only_a.nodes[b1_id].metadata["isOutside"]


def test_service_graph_reduction():
    u = None
    pp, rv, rt = wl("bi", "productpage"), wl("bi", "reviews"), wl("bi", "ratings")
    snap = snapshot(
        {
            (IN, "bi"): [
                (labels(u, pp, "productpage"), 10.0),
                (labels(pp, rv, "reviews"), 6.0),
                (labels(pp, rv, "reviews", code="503"), 1.0),
                (labels(rv, rt, "ratings"), 3.0),
                (labels(pp, wl("bi", "details"), "details"), 2.0),
            ]
        },
        ["bi"],
    )
    g = build_graph(snap, opts("service"))
    assert g.graph_type == "service"
    assert set(g.nodes) == {
        "unknown_unknown_source",
        "svc_east_bi_productpage",
        "svc_east_bi_reviews",
        "svc_east_bi_ratings",
        "svc_east_bi_details",
    }
    assert set(g.edges) == {
        ("unknown_unknown_source", "svc_east_bi_productpage", "http"),
        ("svc_east_bi_productpage", "svc_east_bi_reviews", "http"),
        ("svc_east_bi_productpage", "svc_east_bi_details", "http"),
        ("svc_east_bi_reviews", "svc_east_bi_ratings", "http"),
    }
    e = g.edges[("svc_east_bi_productpage", "svc_east_bi_reviews", "http")]
    assert e.rates == {"http": 7.0, "http5xx": 1.0}
    assert g.nodes["svc_east_bi_productpage"].rates == {"httpIn": 10.0, "httpOut": 9.0}
    assert "httpOut" not in g.nodes["svc_east_bi_ratings"].rates


def test_bad_options_are_usage_errors():
    snap = bookinfo_snapshot()
    with pytest.raises(UsageError, match="graph_type"):
        build_graph(snap, GraphOptions(graph_type="pods"))
    with pytest.raises(UsageError, match="rate_tcp"):
        build_graph(snap, GraphOptions(rate_tcp="requests"))
    with pytest.raises(UsageError, match=r"Invalid appender \[nope\]"):
        build_graph(snap, GraphOptions(appenders=["deadNode", "nope"]))
