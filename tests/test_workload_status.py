"""Workload status inputs: replica counts per controller kind, pods, synced proxies (Kiali 3.4)."""

from __future__ import annotations

from meshreport import health as h
from meshreport.graph.config_index import ConfigIndex
from meshreport.snapshot.model import ConfigObject
from meshreport.workload_status import workload_status


def obj(kind, name, ns, body, api="apps/v1"):
    body = {"metadata": {"name": name, "namespace": ns, **body.pop("metadata", {})}, **body}
    return ConfigObject(api_version=api, kind=kind, name=name, namespace=ns, body=body)


def deployment(name, ns="bookinfo", replicas=2, status=None, labels=None):
    labels = labels or {"app": name.split("-")[0], "version": "v1"}
    body = {
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app"}]}},
        },
    }
    if status is not None:
        body["status"] = status
    return obj("Deployment", name, ns, body)


def pod(deploy, suffix, labels, ns="bookinfo", proxy_ready=None, ready=True):
    """A pod owned by `deploy`'s ReplicaSet, injected (istio-proxy and the injector's status
    annotation) when proxy_ready is not None."""
    labels = {**labels, "pod-template-hash": "5d8f"}
    containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if proxy_ready is not None else [])
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if proxy_ready is not None:
        status["containerStatuses"] = [{"name": "istio-proxy", "ready": proxy_ready}]
    meta = {"labels": labels, "ownerReferences": [{"kind": "ReplicaSet", "name": f"{deploy}-5d8f"}]}
    if proxy_ready is not None:
        meta["annotations"] = {"sidecar.istio.io/status": '{"containers":["istio-proxy"]}'}
    body = {
        "metadata": meta,
        "spec": {"containers": containers},
        "status": status,
    }
    return obj("Pod", f"{deploy}-5d8f-{suffix}", ns, body, api="v1")


def status_of(objs, ns, name):
    w = ConfigIndex(objs).workload("Kubernetes", ns, name)
    assert w is not None
    return workload_status(w)


def test_deployment_replicas_and_synced_proxies():
    labels = {"app": "reviews", "version": "v1"}
    objs = [
        deployment("reviews-v1", status={"replicas": 2, "availableReplicas": 2}, labels=labels),
        pod("reviews-v1", "a", labels, proxy_ready=True),
        pod("reviews-v1", "b", labels, proxy_ready=False),
    ]
    st = status_of(objs, "bookinfo", "reviews-v1")
    assert (st.desired_replicas, st.current_replicas, st.available_replicas, st.synced_proxies) == (2, 2, 2, 1)
    assert st.status == h.DEGRADED  # one proxy not synced (rule 5)


def test_without_sidecar_proxies_are_not_checked():
    labels = {"app": "ratings", "version": "v1"}
    objs = [deployment("ratings-v1", replicas=1, status={"replicas": 1, "availableReplicas": 1}, labels=labels)]
    objs.append(pod("ratings-v1", "a", labels))
    st = status_of(objs, "bookinfo", "ratings-v1")
    assert st.synced_proxies == -1 and st.status == h.HEALTHY


def test_no_status_means_no_workload_status():
    assert status_of([deployment("details-v1")], "bookinfo", "details-v1") is None


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
    s = status_of([sts, ds], "data", "db")
    assert (s.desired_replicas, s.current_replicas, s.available_replicas) == (3, 3, 1)
    assert s.status == h.DEGRADED
    d = status_of([sts, ds], "data", "agent")
    assert (d.desired_replicas, d.available_replicas, d.synced_proxies) == (4, 4, -1)
    assert d.status == h.HEALTHY


def test_scaled_to_zero_is_not_ready():
    st = status_of([deployment("ratings-v1", replicas=0, status={})], "bookinfo", "ratings-v1")
    assert (st.desired_replicas, st.status) == (0, h.NOT_READY)


def test_gateway_proxies_not_checked():
    labels = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    objs = [
        deployment("istio-ingressgateway", "istio-system", 1, {"replicas": 1, "availableReplicas": 1}, labels),
        pod("istio-ingressgateway", "a", labels, ns="istio-system", proxy_ready=False),
    ]
    st = status_of(objs, "istio-system", "istio-ingressgateway")
    assert st.synced_proxies == -1 and st.status == h.HEALTHY


def test_pods_without_their_controller_count_themselves():
    labels = {"app": "cart", "version": "v1"}
    objs = [pod("cart-v1", "a", labels, ready=True), pod("cart-v1", "b", labels, ready=False)]
    st = status_of(objs, "bookinfo", "cart-v1")
    assert (st.desired_replicas, st.current_replicas, st.available_replicas) == (2, 2, 1)
    assert st.status == h.DEGRADED
