"""istio finalizer: circuit breakers, VirtualService badges and gateways."""

from graph_helpers import labels, obj, snapshot, wl, workload_objects

from meshreport.graph.build import GraphOptions, build_graph

API = "networking.istio.io/v1"


def _snap():
    gw = ("ns", "ingress", "ingress", "latest")
    dr = obj(
        "DestinationRule",
        "reviews",
        "ns",
        {
            "spec": {
                "host": "reviews",
                "subsets": [
                    {"name": "v1", "labels": {"version": "v1"}},
                    {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"outlierDetection": {}}},
                ],
            }
        },
        api=API,
    )
    dr_ratings = obj(
        "DestinationRule",
        "ratings",
        "ns",
        {"spec": {"host": "ratings.ns.svc.cluster.local", "trafficPolicy": {"connectionPool": {}}}},
        api=API,
    )
    vs = obj(
        "VirtualService",
        "reviews",
        "ns",
        {
            "spec": {
                "hosts": ["reviews"],
                "http": [
                    {
                        "fault": {"delay": {"fixedDelay": "1s"}},
                        "route": [{"destination": {"host": "reviews", "subset": "v1"}}],
                    },
                    {
                        "timeout": "2s",
                        "route": [
                            {"destination": {"host": "reviews.ns.svc.cluster.local", "subset": "v1"}, "weight": 50},
                            {"destination": {"host": "reviews", "subset": "v2"}, "weight": 50},
                        ],
                    },
                ],
            }
        },
        api=API,
    )
    gateway = obj(
        "Gateway",
        "bookinfo-gateway",
        "ns",
        {"spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"hosts": ["bookinfo.example.com"]}]}},
        api=API,
    )
    gw_dep = obj(
        "Deployment",
        "ingress",
        "ns",
        {"spec": {"template": {"metadata": {"labels": {"app": "ingress", "istio": "ingressgateway"}}}}},
        api="apps/v1",
    )
    objects = [dr, dr_ratings, vs, gateway, gw_dep]
    objects += workload_objects("ns", "reviews", "v1") + workload_objects("ns", "reviews", "v2")
    series = [
        (labels(gw, wl("ns", "reviews", "v1"), "reviews"), 1.0),
        (labels(gw, wl("ns", "reviews", "v2"), "reviews"), 1.0),
        (labels(wl("ns", "reviews", "v2"), wl("ns", "ratings", "v1"), "ratings"), 1.0),
    ]
    return snapshot({("graph/istio_requests_total/incoming", "ns"): series}, ["ns"], objects)


def test_service_badges_and_circuit_breakers():
    g = build_graph(_snap(), GraphOptions(graph_type="versionedApp", inject_service_nodes=True, appenders=["istio"]))
    svc = g.nodes["svc_east_ns_reviews"].metadata
    assert svc["hasVS"] == {"reviews": ["reviews"]}
    for flag in ("hasRequestRouting", "hasRequestTimeout", "hasFaultInjection", "hasTrafficShifting"):
        assert svc[flag] is True
    assert "hasMirroring" not in svc and "hasTCPTrafficShifting" not in svc
    assert svc["hasCB"] is True  # a subset-level CB counts for the service
    assert g.nodes["vapp_east_ns_reviews-v2"].metadata["hasCB"] is True
    assert "hasCB" not in g.nodes["vapp_east_ns_reviews-v1"].metadata
    assert g.nodes["svc_east_ns_ratings"].metadata["hasCB"] is True
    assert "hasVS" not in g.nodes["svc_east_ns_ratings"].metadata


def test_gateway_workloads():
    g = build_graph(_snap(), GraphOptions(graph_type="workload", appenders=["istio"]))
    assert g.nodes["wl_east_ns_ingress"].metadata["isGateway"] == {
        "ingressInfo": {"hostnames": ["bookinfo.example.com"]}
    }
    assert "isGateway" not in g.nodes["wl_east_ns_reviews-v1"].metadata
    plain = build_graph(_snap(), GraphOptions(graph_type="workload", appenders=[]))
    assert "isGateway" not in plain.nodes["wl_east_ns_ingress"].metadata
