"""The mesh index: one pass over a snapshot's objects that the graph, validation and mTLS share."""

from __future__ import annotations

from meshreport import mesh_index, pipeline
from meshreport.graph.config_index import ConfigIndex
from meshreport.mesh_index import MeshIndex, pod_template, rule_kind
from meshreport.mtls import MtlsResolver
from meshreport.snapshot.model import ConfigObject
from meshreport.synthetic import meshes
from meshreport.validation.index import Context


def obj(kind, name, ns=None, api="v1", cluster="Kubernetes", labels=None, spec=None):
    body = {"metadata": {"name": name, "labels": labels or {}}, "spec": spec or {}}
    return ConfigObject(api, kind, name, ns, body, cluster=cluster)


ISTIO_GW = obj("Gateway", "gw", "web", api="networking.istio.io/v1")
K8S_GW = obj("Gateway", "gw", "web", api="gateway.networking.k8s.io/v1")
NS = obj("Namespace", "web", labels={"istio-injection": "enabled"})
SVC = obj("Service", "front", "web")
REMOTE_SVC = obj("Service", "front", "web", cluster="east")
CRON = obj(
    "CronJob", "nightly", "jobs", api="batch/v1", spec={"jobTemplate": {"spec": {"template": {"metadata": {"x": 1}}}}}
)


def test_gateway_api_gateways_are_their_own_kind():
    index = MeshIndex([ISTIO_GW, K8S_GW])
    assert [rule_kind(o) for o in (ISTIO_GW, K8S_GW)] == ["Gateway", "K8sGateway"]
    assert index.of_kind("Gateway") == [ISTIO_GW] and index.of_kind("K8sGateway") == [K8S_GW]
    assert index.get("K8sGateway", "web", "gw") is K8S_GW
    assert index.in_namespace("Gateway", "web") == [ISTIO_GW] and index.in_namespace("Gateway", "other") == []


def test_namespaces_are_the_declared_ones_and_those_objects_live_in():
    index = MeshIndex([NS, SVC, CRON])
    assert index.namespace_labels == {"web": {"istio-injection": "enabled"}}
    assert index.namespace_names == {"web", "jobs"}


def test_pod_templates_of_controllers_and_cronjobs():
    assert pod_template(CRON) == {"metadata": {"x": 1}}
    assert pod_template(SVC) == {}
    assert mesh_index.owner(obj("Pod", "p")) is None


def test_each_cluster_has_its_own_index_and_one_cluster_is_the_index_itself():
    single = MeshIndex([NS, SVC])
    assert single.cluster("Kubernetes") is single
    both = MeshIndex([NS, SVC, REMOTE_SVC])
    assert both.cluster_names == ["Kubernetes", "east"]
    east = both.cluster("east")
    assert east.objects == [REMOTE_SVC] and both.cluster("east") is east
    assert both.cluster("Kubernetes").get("Service", "web", "front") is SVC


def test_graph_validation_and_mtls_views_read_the_same_tables():
    index = MeshIndex([NS, SVC, ISTIO_GW, K8S_GW])
    graph = ConfigIndex(index)
    rules = Context(index).index
    assert graph.namespace_labels is index.namespace_labels is rules.namespace_labels
    assert rules.of_kind("Service") is index.of_kind("Service") and rules.mesh_index is index
    assert graph.gateways == [ISTIO_GW] and graph.k8s_gateways == {("web", "gw"): K8S_GW}
    assert MtlsResolver(index).mesh_pa is None


def test_analyse_indexes_the_snapshot_once(monkeypatch):
    built = []
    init = MeshIndex.__init__

    def counting(self, objects):
        built.append(1)
        init(self, objects)

    monkeypatch.setattr(MeshIndex, "__init__", counting)
    result = pipeline.analyse(meshes.bookinfo_snapshot(), pipeline.AnalysisOptions.for_report())
    assert result.validation is not None and result.mtls is not None and result.graph.nodes
    assert len(built) == 1
