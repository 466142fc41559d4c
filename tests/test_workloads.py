"""Workload facts from config objects: replica counts per kind, pods, sidecars, synced proxies."""

from __future__ import annotations

from meshreport import health as h
from meshreport.snapshot.model import ConfigObject
from meshreport.workloads import WorkloadIndex


def obj(kind, name, ns, body, api="apps/v1"):
    body = {"metadata": {"name": name, "namespace": ns, **body.pop("metadata", {})}, **body}
    return ConfigObject(api_version=api, kind=kind, name=name, namespace=ns, body=body)


def deployment(name, ns="bookinfo", replicas=2, status=None, labels=None, annotations=None, sidecar=False):
    labels = labels or {"app": name.split("-")[0], "version": "v1"}
    containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if sidecar else [])
    body = {
        "metadata": {"annotations": annotations or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
        },
    }
    if status is not None:
        body["status"] = status
    return obj("Deployment", name, ns, body)


def pod(name, labels, ns="bookinfo", proxy_ready=None, owner=True):
    containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if proxy_ready is not None else [])
    body = {"metadata": {"labels": labels}, "spec": {"containers": containers}}
    if owner:
        body["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "x"}]
    if proxy_ready is not None:
        body["status"] = {"containerStatuses": [{"name": "istio-proxy", "ready": proxy_ready}]}
    return obj("Pod", name, ns, body, api="v1")


def test_deployment_replicas_and_synced_proxies():
    labels = {"app": "reviews", "version": "v1"}
    objs = [
        deployment("reviews-v1", status={"replicas": 2, "availableReplicas": 2}, labels=labels),
        pod("reviews-v1-a", labels, proxy_ready=True),
        pod("reviews-v1-b", labels, proxy_ready=False),
        pod("other", {"app": "other"}, proxy_ready=True),
    ]
    idx = WorkloadIndex(objs)
    w = idx.get("bookinfo", "reviews-v1")
    assert w is not None and w.app == "reviews" and w.version == "v1"
    assert [p.name for p in w.pods] == ["reviews-v1-a", "reviews-v1-b"]
    assert w.has_sidecar and w.synced_proxies == 1
    st = w.status()
    assert (st.desired_replicas, st.current_replicas, st.available_replicas, st.synced_proxies) == (2, 2, 2, 1)
    assert st.status == h.DEGRADED  # one proxy not synced


def test_no_status_means_no_workload_status():
    idx = WorkloadIndex([deployment("details-v1")])
    assert idx.get("bookinfo", "details-v1").status() is None


def test_statefulset_and_daemonset_fields():
    sts = obj(
        "StatefulSet",
        "db",
        "data",
        {
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "db"}}, "template": {}},
            "status": {"replicas": 3, "readyReplicas": 1},
        },
    )
    ds = obj(
        "DaemonSet",
        "agent",
        "data",
        {
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {}},
            "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberAvailable": 4},
        },
    )
    idx = WorkloadIndex([sts, ds])
    s = idx.get("data", "db").status()
    assert (s.desired_replicas, s.current_replicas, s.available_replicas) == (3, 3, 1)
    assert s.status == h.DEGRADED
    d = idx.get("data", "agent").status()
    assert (d.desired_replicas, d.available_replicas, d.synced_proxies) == (4, 4, -1)
    assert d.status == h.HEALTHY


def test_scaled_to_zero():
    idx = WorkloadIndex([deployment("ratings-v1", replicas=0, status={})])
    assert idx.get("bookinfo", "ratings-v1").status().status == h.NOT_READY


def test_sidecar_from_namespace_injection_when_no_pods():
    ns = ConfigObject("v1", "Namespace", "bookinfo", None, {"metadata": {"labels": {"istio-injection": "enabled"}}})
    idx = WorkloadIndex([ns, deployment("a-v1"), deployment("b-v1", ns="plain")])
    assert idx.get("bookinfo", "a-v1").has_sidecar
    assert not idx.get("plain", "b-v1").has_sidecar


def test_gateway_proxies_not_checked():
    labels = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    objs = [
        deployment("istio-ingressgateway", "istio-system", 1, {"replicas": 1, "availableReplicas": 1}, labels),
        pod("gw-1", labels, ns="istio-system", proxy_ready=False),
    ]
    w = WorkloadIndex(objs).get("istio-system", "istio-ingressgateway")
    assert w.is_gateway and w.synced_proxies == -1 and w.status().status == h.HEALTHY


def test_owned_replicaset_is_not_a_second_workload_and_bare_pod_is_one():
    rs = obj(
        "ReplicaSet",
        "reviews-v1-5d8f",
        "bookinfo",
        {"metadata": {"ownerReferences": [{"kind": "Deployment", "name": "reviews-v1"}]}, "spec": {}},
    )
    bare = pod("debug", {"app": "debug"}, proxy_ready=True, owner=False)
    idx = WorkloadIndex([deployment("reviews-v1"), rs, bare])
    assert sorted(w.name for w in idx) == ["debug", "reviews-v1"]
    assert idx.get("bookinfo", "debug").kind == "Pod"
    assert [w.name for w in idx.for_app("bookinfo", "reviews")] == ["reviews-v1"]


def test_annotations_merge_template_and_controller():
    d = deployment("reviews-v2", annotations={h.RATE_ANNOTATION: "5XX,1,2,http,.*"})
    w = WorkloadIndex([d]).get("bookinfo", "reviews-v2")
    assert w.annotations[h.RATE_ANNOTATION] == "5XX,1,2,http,.*"
