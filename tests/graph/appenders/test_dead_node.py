"""deadNode removes zero-traffic nodes without a workload and flags workloads with no pods."""

from graph_helpers import labels, snapshot, wl, workload_objects

from meshreport.graph.build import GraphOptions, build_graph

IN = "graph/istio_requests_total/incoming"


def test_dead_nodes_with_idle_edges():
    a, b, c, d = wl("ns", "a"), wl("ns", "b"), wl("ns", "c"), wl("ns", "d")
    objects = workload_objects("ns", "a") + workload_objects("ns", "b") + workload_objects("ns", "c", pods=0)
    series = [
        (labels(a, b, "b"), 1.0),
        (labels(a, c, "c"), 0.0),  # c scaled to zero: kept, isDead
        (labels(a, d, "d"), 0.0),  # d no longer exists: removed with its edge
        (labels(None, a, "a"), 0.0),  # idle unknown source: removed
    ]
    snap = snapshot({(IN, "ns"): series}, ["ns"], objects)
    g = build_graph(snap, GraphOptions(graph_type="workload", include_idle_edges=True, appenders=["deadNode"]))
    assert set(g.nodes) == {"wl_east_ns_a-v1", "wl_east_ns_b-v1", "wl_east_ns_c-v1"}
    assert g.nodes["wl_east_ns_c-v1"].metadata["isDead"] is True
    assert "isDead" not in g.nodes["wl_east_ns_b-v1"].metadata
    assert ("wl_east_ns_a-v1", "wl_east_ns_d-v1", "http") not in g.edges
    # without the appender everything stays
    g = build_graph(snap, GraphOptions(graph_type="workload", include_idle_edges=True, appenders=[]))
    assert "wl_east_ns_d-v1" in g.nodes and "unknown_unknown_source" in g.nodes


def test_idle_service_node_removed_unless_egress_or_with_edges():
    a = wl("ns", "a")
    objects = workload_objects("ns", "a")
    series = [
        (labels(a, None, "gone", svc_ns="ns"), 0.0),  # terminal service, no traffic: removed
        (labels(a, None, "PassthroughCluster", svc_ns="unknown", host="PassthroughCluster"), 0.0),
    ]
    snap = snapshot({("graph/istio_requests_total/outgoing", "ns"): series}, ["ns"], objects)
    g = build_graph(snap, GraphOptions(graph_type="workload", include_idle_edges=True, appenders=["deadNode"]))
    # a only had idle edges to removed/kept nodes: a is a workload with pods, so it stays
    assert set(g.nodes) == {"wl_east_ns_a-v1", "svc_east_unknown_PassthroughCluster"}
