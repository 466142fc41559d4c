"""serviceEntry folds the service nodes an SE declares into one isServiceEntry node."""

from graph_helpers import labels, obj, snapshot, wl, workload_objects

from meshreport.graph.build import GraphOptions, build_graph

OUT = "graph/istio_requests_total/outgoing"


def _snap(export_to=None):
    spec = {"hosts": ["httpbin.org", "api.httpbin.org"], "location": "MESH_EXTERNAL", "resolution": "DNS"}
    if export_to is not None:
        spec["exportTo"] = export_to
    se = obj("ServiceEntry", "httpbin-ext", "other", {"spec": spec}, api="networking.istio.io/v1")
    a = wl("ns", "a")
    series = [
        (labels(a, None, "httpbin.org", svc_ns="unknown", host="httpbin.org"), 1.0),
        (labels(a, None, "api.httpbin.org", svc_ns="unknown", host="api.httpbin.org", code="503"), 0.5),
        (labels(a, None, "example.com", svc_ns="unknown", host="example.com"), 0.25),
    ]
    objects = workload_objects("ns", "a") + [se]
    return snapshot({(OUT, "ns"): series}, ["ns", "other"], objects)


def test_external_hosts_become_one_service_entry_node():
    """The SE lives in `other`; the node it becomes belongs to the caller's namespace (Kiali)."""
    g = build_graph(_snap(), GraphOptions(graph_type="workload", appenders=["serviceEntry"]))
    se = g.nodes["svc_east_ns_httpbin-ext"]
    assert se.metadata["isServiceEntry"] == {
        "hosts": ["httpbin.org", "api.httpbin.org"],
        "location": "MESH_EXTERNAL",
        "namespace": "ns",
    }
    assert (se.service, se.namespace) == ("httpbin-ext", "ns")
    assert se.rates == {"httpIn": 1.5, "httpIn5xx": 0.5}
    e = g.edges[("wl_east_ns_a-v1", "svc_east_ns_httpbin-ext", "http")]
    assert e.rates == {"http": 1.5, "http5xx": 0.5}
    assert e.responses["503"]["hosts"] == {"api.httpbin.org": 0.5}
    assert "svc_east_unknown_httpbin.org" not in g.nodes and "svc_east_unknown_example.com" in g.nodes
    assert len(g.edges) == 2


def test_service_entry_not_exported_to_the_source_namespace():
    g = build_graph(_snap(export_to=["."]), GraphOptions(graph_type="workload", appenders=["serviceEntry"]))
    assert "svc_east_unknown_httpbin.org" in g.nodes
    assert not any(n.metadata.get("isServiceEntry") for n in g.nodes.values())


def test_mesh_internal_matches_first_dns_label():
    spec = {"hosts": ["legacy.corp.internal"], "location": "MESH_INTERNAL"}
    se = obj("ServiceEntry", "legacy", "ns", {"spec": spec}, api="networking.istio.io/v1")
    series = [(labels(wl("ns", "a"), None, "legacy", svc_ns="ns", host="legacy.corp.internal"), 2.0)]
    snap = snapshot({(OUT, "ns"): series}, ["ns"], workload_objects("ns", "a") + [se])
    g = build_graph(snap, GraphOptions(graph_type="workload", appenders=["serviceEntry", "deadNode"]))
    node = g.nodes["svc_east_ns_legacy"]
    assert node.metadata["isServiceEntry"]["location"] == "MESH_INTERNAL"
    assert g.edges[("wl_east_ns_a-v1", "svc_east_ns_legacy", "http")].rates["http"] == 2.0
