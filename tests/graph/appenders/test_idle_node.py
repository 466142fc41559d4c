"""idleNode adds deployed-but-silent workloads (and services when injecting) as isIdle nodes."""

from graph_helpers import labels, obj, snapshot, wl, workload_objects

from meshreport.graph.build import GraphOptions, build_graph


def _snap():
    objects = workload_objects("ns", "a") + workload_objects("ns", "b") + workload_objects("ns", "quiet", "v2")
    objects += [obj("Service", "a", "ns"), obj("Service", "b", "ns"), obj("Service", "quiet", "ns")]
    series = [(labels(wl("ns", "a"), wl("ns", "b"), "b"), 1.0)]
    return snapshot({("graph/istio_requests_total/incoming", "ns"): series}, ["ns"], objects)


def test_idle_workloads_added():
    g = build_graph(_snap(), GraphOptions(graph_type="versionedApp", appenders=["idleNode"]))
    quiet = g.nodes["vapp_east_ns_quiet-v2"]
    assert quiet.metadata["isIdle"] is True and (quiet.app, quiet.version) == ("quiet", "v2")
    assert quiet.rates == {"httpIn": 0.0, "httpOut": 0.0}
    assert "isIdle" not in g.nodes["vapp_east_ns_a-v1"].metadata
    assert not any(n.node_type == "service" for n in g.nodes.values())


def test_idle_services_with_injection_and_service_graph():
    g = build_graph(_snap(), GraphOptions(graph_type="workload", inject_service_nodes=True, appenders=["idleNode"]))
    assert g.nodes["svc_east_ns_quiet"].metadata["isIdle"] and g.nodes["svc_east_ns_a"].metadata["isIdle"]
    assert "isIdle" not in g.nodes["svc_east_ns_b"].metadata
    assert g.nodes["wl_east_ns_quiet-v2"].metadata["isIdle"]
    sg = build_graph(_snap(), GraphOptions(graph_type="service", appenders=["idleNode"]))
    assert "svc_east_ns_quiet" in sg.nodes
    assert [n.id for n in sg.nodes.values() if n.node_type != "service"] == ["wl_east_ns_a-v1"]  # root kept
