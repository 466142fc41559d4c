"""responseTime, securityPolicy and throughput put their query values on the right edges."""

import pytest
from graph_helpers import labels, snapshot, wl

from meshreport.graph.build import GraphOptions, build_graph

IN = "graph/istio_requests_total/incoming"
A, B1, B2 = wl("ns", "a"), wl("ns", "b", "v1"), wl("ns", "b", "v2")


def rt(src, dst, svc):
    lb = labels(src, dst, svc, code=None, flags=None)
    return lb


def _snap(extra):
    base = {(IN, "ns"): [(labels(A, B1, "b"), 4.0), (labels(A, B2, "b"), 2.0)]}
    base.update(extra)
    return snapshot(base, ["ns"])


def test_response_time_quantile_and_first_value_wins():
    snap = _snap(
        {
            ("appender/responseTime/0.95/incoming", "ns"): [(rt(A, B1, "b"), 120.0)],
            ("appender/responseTime/0.95/outgoing", "ns"): [(rt(A, B1, "b"), 999.0), (rt(A, B2, "b"), 30.0)],
            ("appender/responseTime/avg/incoming", "ns"): [(rt(A, B1, "b"), 11.0)],
        }
    )
    g = build_graph(snap, GraphOptions(graph_type="workload", appenders=["responseTime"]))
    assert g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")].metadata["responseTime"] == 120.0
    assert g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v2", "http")].metadata["responseTime"] == 30.0
    avg = build_graph(snap, GraphOptions(graph_type="workload", appenders=["responseTime"], response_time="avg"))
    assert avg.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")].metadata["responseTime"] == 11.0
    assert "responseTime" not in avg.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v2", "http")].metadata
    # injected service: only the service -> workload edge gets a value
    inj = build_graph(snap, GraphOptions(graph_type="workload", inject_service_nodes=True, appenders=["responseTime"]))
    assert "responseTime" not in inj.edges[("wl_east_ns_a-v1", "svc_east_ns_b", "http")].metadata
    assert inj.edges[("svc_east_ns_b", "wl_east_ns_b-v1", "http")].metadata["responseTime"] == 120.0
    off = build_graph(
        snap, GraphOptions(graph_type="workload", appenders=["responseTime"], rate_http="none", rate_grpc="none")
    )
    assert not any("responseTime" in e.metadata for e in off.edges.values())


def test_security_policy_mtls_percentage_and_principals():
    def sp(dst, csp):
        lb = rt(A, dst, "b")
        lb.update(
            connection_security_policy=csp,
            source_principal="spiffe://cluster.local/ns/ns/sa/a",
            destination_principal="spiffe://cluster.local/ns/ns/sa/b",
        )
        return lb

    snap = _snap(
        {
            ("appender/securityPolicy/istio_requests_total/outgoing", "ns"): [
                (sp(B1, "mutual_tls"), 3.0),
                (sp(B1, "none"), 1.0),
                (sp(B2, "none"), 2.0),
            ]
        }
    )
    g = build_graph(snap, GraphOptions(graph_type="workload", inject_service_nodes=True, appenders=["securityPolicy"]))
    to_svc = g.edges[("wl_east_ns_a-v1", "svc_east_ns_b", "http")].metadata
    assert to_svc["isMTLS"] == pytest.approx(50.0)  # 3 of 6 over both workloads
    assert to_svc["sourcePrincipal"] == "spiffe://cluster.local/ns/ns/sa/a"
    assert g.edges[("svc_east_ns_b", "wl_east_ns_b-v1", "http")].metadata["isMTLS"] == pytest.approx(75.0)
    assert "isMTLS" not in g.edges[("svc_east_ns_b", "wl_east_ns_b-v2", "http")].metadata


def test_throughput_on_http_edges():
    snap = _snap(
        {
            ("appender/throughput/response/incoming", "ns"): [(rt(A, B1, "b"), 100.0)],
            ("appender/throughput/response/outgoing", "ns"): [(rt(A, B1, "b"), 50.0)],
            ("appender/throughput/request/outgoing", "ns"): [(rt(A, B1, "b"), 7.0)],
        }
    )
    g = build_graph(snap, GraphOptions(graph_type="workload", appenders=["throughput"]))
    assert g.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")].metadata["throughput"] == 150.0
    req = build_graph(snap, GraphOptions(graph_type="workload", appenders=["throughput"], throughput="request"))
    assert req.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v1", "http")].metadata["throughput"] == 7.0
    assert "throughput" not in req.edges[("wl_east_ns_a-v1", "wl_east_ns_b-v2", "http")].metadata
