"""meshCheck flags nodes whose workloads have no sidecar (gateways and istio-system excepted)."""

from graph_helpers import labels, obj, pod, snapshot, wl, workload_objects

from meshreport.graph.build import GraphOptions, build_graph


def test_out_of_mesh_workloads_and_apps():
    gw = ("ns", "gw", "gw", "v1")
    objects = workload_objects("ns", "a") + workload_objects("ns", "legacy", sidecar=False)
    objects += workload_objects("ns", "r", "v1") + workload_objects("ns", "r", "v2", sidecar=False)
    gw_labels = {"app": "gw", "version": "v1", "istio": "ingressgateway"}
    objects.append(
        pod("ns", "gw-1a2b-x", ("ReplicaSet", "gw-1a2b"), {**gw_labels, "pod-template-hash": "1a2b"}, sidecar=False)
    )
    series = [
        (labels(gw, wl("ns", "a"), "a"), 1.0),
        (labels(wl("ns", "a"), wl("ns", "legacy"), "legacy"), 1.0),
        (labels(wl("ns", "a"), wl("ns", "r", "v1"), "r"), 1.0),
        (labels(wl("ns", "a"), wl("ns", "r", "v2"), "r"), 1.0),
    ]
    snap = snapshot({("graph/istio_requests_total/incoming", "ns"): series}, ["ns"], objects)
    g = build_graph(snap, GraphOptions(graph_type="workload", appenders=["meshCheck"]))
    assert g.nodes["wl_east_ns_legacy-v1"].metadata.get("isOutOfMesh") is True
    assert "isOutOfMesh" not in g.nodes["wl_east_ns_a-v1"].metadata
    assert "isOutOfMesh" not in g.nodes["wl_east_ns_gw"].metadata  # gateway (pods without controller)
    app = build_graph(snap, GraphOptions(graph_type="app", appenders=["meshCheck"]))
    assert app.nodes["app_east_ns_r"].metadata.get("isOutOfMesh") is True  # one of two versions lacks it
    assert (
        "isOutOfMesh"
        not in build_graph(snap, GraphOptions(graph_type="workload", appenders=[]))
        .nodes["wl_east_ns_legacy-v1"]
        .metadata
    )


def test_no_pods_cannot_prove_a_missing_proxy():
    """Kiali: a workload without pods is not flagged, whatever its injection config says."""
    ns = obj("Namespace", "ns", None, {"metadata": {"labels": {"istio-injection": "enabled"}}})
    objects = [ns] + workload_objects("ns", "a", pods=0)[:1] + workload_objects("ns", "b", pods=0)[:1]
    objects[2].body["spec"]["template"]["metadata"]["annotations"] = {"sidecar.istio.io/inject": "false"}
    objects[2].body["spec"]["replicas"] = 2
    series = [(labels(wl("ns", "a"), wl("ns", "b"), "b"), 1.0)]
    snap = snapshot({("graph/istio_requests_total/incoming", "ns"): series}, ["ns"], objects)
    g = build_graph(snap, GraphOptions(graph_type="workload", appenders=["meshCheck"]))
    assert "isOutOfMesh" not in g.nodes["wl_east_ns_b-v1"].metadata
    assert "isOutOfMesh" not in g.nodes["wl_east_ns_a-v1"].metadata
