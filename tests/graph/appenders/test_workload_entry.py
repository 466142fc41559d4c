"""workloadEntry lists WorkloadEntries with the node's app and version labels."""

from graph_helpers import labels, obj, snapshot, wl

from meshreport.graph.build import GraphOptions, build_graph


def test_workload_entries_by_app_and_version():
    def we(name, version):
        spec = {"address": "10.0.0.1", "labels": {"app": "vm", "version": version}}
        return obj("WorkloadEntry", name, "ns", {"spec": spec}, api="networking.istio.io/v1")

    series = [(labels(wl("ns", "a"), ("ns", "vm-v1", "vm", "v1"), "vm"), 1.0)]
    snap = snapshot(
        {("graph/istio_requests_total/incoming", "ns"): series}, ["ns"], [we("vm-1", "v1"), we("vm-2", "v2")]
    )
    g = build_graph(snap, GraphOptions(graph_type="versionedApp", appenders=["workloadEntry"]))
    assert g.nodes["vapp_east_ns_vm-v1"].metadata["hasWorkloadEntry"] == [{"name": "vm-1"}]
    assert "hasWorkloadEntry" not in g.nodes["vapp_east_ns_a-v1"].metadata
    workload = build_graph(snap, GraphOptions(graph_type="workload", appenders=["workloadEntry"]))
    assert workload.nodes["wl_east_ns_vm-v1"].metadata["hasWorkloadEntry"] == [{"name": "vm-1"}]
    # Kiali compares the version too: a versionless app node matches no versioned entry
    app = build_graph(snap, GraphOptions(graph_type="app", appenders=["workloadEntry"]))
    assert "hasWorkloadEntry" not in app.nodes["app_east_ns_vm"].metadata
