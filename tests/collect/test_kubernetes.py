"""Live config collection through the real `kubernetes` client against the stub API server.

The stub (tests/helpers/k8s_stub.py) answers the real API paths with real-shaped JSON built
from YAML fixtures: discovery, pagination, 403 for one namespace, 404 for a missing group, a
cluster without Istio's v1 APIs.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.k8s_stub import StubCluster, StubServer, load_yaml_objects, write_kubeconfig  # noqa: E402

from meshreport.collect.kinds import COLLECTED  # noqa: E402
from meshreport.collect.kubernetes import (  # noqa: E402
    METADATA_ONLY,
    ClusterDown,
    client_for,
    collect_cluster,
    collect_config,
    config_snapshot_from_cluster,
    image_version,
    istio_version,
    resource_key,
)
from meshreport.collect.least_data import has_sidecar  # noqa: E402
from meshreport.errors import EXIT_INPUT, InputError  # noqa: E402
from meshreport.snapshot import store  # noqa: E402

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "cluster"
# Istio's own samples, copied into the repository (tests/fixtures/istio-samples/README.md).
SAMPLES = next(p for p in Path(__file__).resolve().parents if p.name == "tests") / "fixtures" / "istio-samples"
SAMPLE_FILES = [
    SAMPLES / "bookinfo/networking/bookinfo-gateway.yaml",
    SAMPLES / "bookinfo/networking/destination-rule-all.yaml",
    SAMPLES / "bookinfo/networking/virtual-service-all-v1.yaml",
    SAMPLES / "bookinfo/networking/egress-rule-google-apis.yaml",
    SAMPLES / "bookinfo/gateway-api/bookinfo-gateway.yaml",
]


@functools.cache
def _fixture_objects() -> str:
    return json.dumps(load_yaml_objects(FIX) + load_yaml_objects(*SAMPLE_FILES, namespace="bookinfo"))


def fixture_objects() -> list[dict]:
    """A fresh copy each time (parsed once)."""
    return json.loads(_fixture_objects())


def stub(**kw) -> StubCluster:
    return StubCluster(objects=fixture_objects(), **kw)


def collect(cluster: StubCluster, namespaces=None, **kw):
    with StubServer(cluster) as srv:
        api = client_for(srv.url, "test-token")
        try:
            return collect_cluster(api, "Kubernetes", namespaces, **kw)
        finally:
            api.close()


def refs(objects) -> set[tuple[str, str, str | None, str]]:
    return {(o.group, o.kind, o.namespace, o.name) for o in objects}


def expected_refs(namespaces_excluded=(), groups_excluded=()) -> set[tuple[str, str, str | None, str]]:
    """What the collector should bring back: every fixture object of a collected kind, by its identity."""
    collected = {(k.group, k.kind) for k in COLLECTED if k.opt_in is None and k.fallback_for is None}
    out = set()
    for o in fixture_objects():
        group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
        ns = o["metadata"].get("namespace")
        name = o["metadata"]["name"]
        if o["kind"] == "ConfigMap" and ns == "istio-system" and name in ("istio", "istio-sidecar-injector"):
            out.add(("", "ConfigMap", ns, name))
        if (group, o["kind"]) not in collected or group in groups_excluded:
            continue
        if o["kind"] != "Namespace" and ns in namespaces_excluded:
            continue
        if o["kind"] == "CustomResourceDefinition" and o["spec"]["group"] != "gateway.networking.k8s.io":
            continue  # only Gateway API CRDs are kept
        out.add((group, o["kind"], ns, name))
    return out


def test_collects_every_kind_with_pagination_and_records_versions():
    cluster = stub()
    r = collect(cluster, page_size=2)
    assert refs(r.objects) == expected_refs()
    assert r.gaps == []
    assert r.kubernetes_version == "v1.29.4"
    assert r.istio_version == "1.22.3"  # istiod's image tag, -distroless stripped
    assert r.api_versions["virtualservices.networking.istio.io"] == "networking.istio.io/v1"
    assert r.api_versions["envoyfilters.networking.istio.io"] == "networking.istio.io/v1alpha3"
    assert r.api_versions["proxyconfigs.networking.istio.io"] == "networking.istio.io/v1beta1"
    assert r.api_versions["tcproutes.gateway.networking.k8s.io"] == "gateway.networking.k8s.io/v1alpha2"
    assert r.api_versions["endpointslices.discovery.k8s.io"] == "discovery.k8s.io/v1"
    assert "endpoints" not in r.api_versions  # EndpointSlices served, so no Endpoints
    # every object carries the API version it was read with
    for o in r.objects:
        assert o.body["apiVersion"] == o.api_version and o.body["kind"] == o.kind
        assert o.cluster == "Kubernetes"
    # 7 pods at 2 per page -> 4 requests, the last three with a continue token
    pod_reqs = [q for q in cluster.requests if q.path == "/api/v1/pods"]
    assert [q.query["limit"] for q in pod_reqs] == ["2"] * 4
    assert ["continue" in q.query for q in pod_reqs] == [False, True, True, True]
    assert r.counts["pods"] == 7
    assert {q.authorization for q in cluster.requests} == {"Bearer test-token"}


def test_objects_equal_the_fixtures_they_came_from():
    r = collect(stub(), page_size=3)
    by_id = {(o.group, o.kind, o.namespace, o.name): o for o in r.objects}
    checked = 0
    for o in fixture_objects():
        group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
        got = by_id.get((group, o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]))
        if got is None or o["kind"] in ("Pod", "Deployment", "ReplicaSet", "Secret", "CustomResourceDefinition"):
            continue  # reduced kinds are checked in test_least_data and test_gateway_api_crds_*
        assert got.spec == o.get("spec", {}), got.ref()
        assert got.labels == o["metadata"].get("labels", {}), got.ref()
        checked += 1
    assert checked >= 30


def test_least_data_no_secret_data_env_values_or_noise():
    r = collect(stub(), secret_names=False)
    text = json.dumps([o.body for o in r.objects])
    for leaked in ("SECRET", "managedFields", "last-applied", "caBundle", "do-not-collect-me", "productpage-creds"):
        assert leaked not in text, leaked
    assert not [o for o in r.objects if o.kind == "Secret"]
    assert {o.name for o in r.objects if o.kind == "ConfigMap"} == {"istio", "istio-sidecar-injector"}
    pods = {o.name: o for o in r.objects if o.kind == "Pod"}
    pp = pods["productpage-v1-6b7f6d-aaaaa"]
    assert set(pp.body) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert set(pp.spec) == {"serviceAccountName", "nodeName", "containers", "initContainers"}
    assert pp.spec["containers"][1] == {
        "name": "istio-proxy",
        "image": "docker.io/istio/proxyv2:1.22.3",
        "ports": [{"name": "http-envoy-prom", "containerPort": 15090, "protocol": "TCP"}],
    }
    assert pp.metadata["ownerReferences"][0]["name"] == "productpage-v1-6b7f6d"
    assert pp.body["status"]["phase"] == "Running"
    assert {"type": "Ready", "status": "True"} in pp.body["status"]["conditions"]
    assert has_sidecar(pp.body)
    assert has_sidecar(pods["reviews-v1-7c9d-bbbbb"].body)  # native sidecar (init container, restartPolicy Always)
    assert not has_sidecar(pods["reviews-v2-8d0e-ccccc"].body)
    dep = next(o for o in r.objects if o.kind == "Deployment" and o.name == "productpage-v1")
    assert dep.spec["template"]["spec"]["containers"][0]["env"] == [{"name": "DB_PASSWORD"}]


def test_gateway_api_crds_are_kept_without_their_schema_and_others_dropped():
    r = collect(stub(), page_size=1)
    crds = [o for o in r.objects if o.kind == "CustomResourceDefinition"]
    assert [o.name for o in crds] == ["grpcroutes.gateway.networking.k8s.io"]  # the Istio CRD is dropped
    crd = crds[0]
    assert crd.namespace is None and crd.api_version == "apiextensions.k8s.io/v1"
    assert crd.annotations["gateway.networking.k8s.io/bundle-version"] == "v1.0.0"
    assert crd.spec["group"] == "gateway.networking.k8s.io"
    assert crd.spec["names"]["kind"] == "GRPCRoute"
    assert crd.spec["versions"] == [{"name": "v1alpha2", "served": True, "storage": True}]
    assert crd.body["status"] == {"storedVersions": ["v1alpha2"]}
    assert "openAPIV3Schema" not in json.dumps(crd.body)
    assert r.counts["customresourcedefinitions.apiextensions.k8s.io"] == 1


def test_forbidden_crds_are_a_gap_and_collection_goes_on():
    r = collect(stub(forbidden_resources={"customresourcedefinitions"}))
    gaps = [g for g in r.gaps if g.what == "customresourcedefinitions.apiextensions.k8s.io"]
    assert len(gaps) == 1 and "403" in gaps[0].reason and gaps[0].phase == "config"
    assert not [o for o in r.objects if o.kind == "CustomResourceDefinition"]
    assert [o for o in r.objects if o.kind == "VirtualService"]  # everything else still collected


def test_secret_names_are_metadata_only_and_opt_in():
    cluster = stub()
    r = collect(cluster, secret_names=True)
    secrets = sorted((o.namespace, o.name) for o in r.objects if o.kind == "Secret")
    assert secrets == [("istio-system", "bookinfo-credential"), ("istio-system", "istio-ca-secret")]
    for o in r.objects:
        if o.kind == "Secret":
            assert set(o.body) == {"apiVersion", "kind", "metadata"}
            assert o.api_version == "v1"
    secret_reqs = [q for q in cluster.requests if q.path.endswith("/secrets")]
    assert secret_reqs and all(q.accept == METADATA_ONLY for q in secret_reqs)
    assert "U0VDUkVU" not in json.dumps([o.body for o in r.objects])
    # and without the flag the collector never asks for secrets at all
    cluster2 = stub()
    collect(cluster2)
    assert not [q for q in cluster2.requests if "secrets" in q.path]


def test_forbidden_namespace_is_one_gap_and_collection_goes_on():
    cluster = stub(forbidden_namespaces={"secret-team"})
    r = collect(cluster)
    assert refs(r.objects) == expected_refs(namespaces_excluded={"secret-team"})
    assert len(r.gaps) == 1
    gap = r.gaps[0]
    assert (gap.phase, gap.namespace, gap.cluster, gap.what) == (
        "config",
        "secret-team",
        "Kubernetes",
        "namespace/secret-team",
    )
    assert gap.reason.startswith("forbidden (403)") and "virtualservices.networking.istio.io" in gap.reason
    # cluster-wide list was refused, then every namespace was listed on its own
    assert "/api/v1/namespaces/bookinfo/pods" in {q.path for q in cluster.requests}


def test_missing_group_is_a_gap_and_the_rest_is_collected():
    r = collect(stub(missing_groups={"gateway.networking.k8s.io", "extensions.istio.io"}))
    assert refs(r.objects) == expected_refs(groups_excluded={"gateway.networking.k8s.io", "extensions.istio.io"})
    assert sorted((g.what, g.reason) for g in r.gaps) == [
        ("apigroup/extensions.istio.io", "API group not installed (404)"),
        ("apigroup/gateway.networking.k8s.io", "API group not installed (404)"),
    ]


def test_v1_missing_uses_v1beta1_from_discovery():
    cluster = stub(drop_versions={"networking.istio.io": {"v1"}, "security.istio.io": {"v1"}})
    r = collect(cluster)
    assert r.api_versions["virtualservices.networking.istio.io"] == "networking.istio.io/v1beta1"
    assert r.api_versions["peerauthentications.security.istio.io"] == "security.istio.io/v1beta1"
    vs = [o for o in r.objects if o.kind == "VirtualService"]
    assert vs and {o.api_version for o in vs} == {"networking.istio.io/v1beta1"}
    assert not [q for q in cluster.requests if q.path.startswith("/apis/networking.istio.io/v1/")]
    assert r.gaps == []


def test_without_discovery_versions_are_tried_in_order_on_404():
    cluster = stub(drop_versions={"networking.istio.io": {"v1"}}, discovery_broken=True)
    r = collect(cluster)
    assert r.api_versions["virtualservices.networking.istio.io"] == "networking.istio.io/v1beta1"
    assert r.api_versions["envoyfilters.networking.istio.io"] == "networking.istio.io/v1alpha3"
    tried = [q.path for q in cluster.requests if q.path.endswith("/virtualservices")]
    assert tried == [
        "/apis/networking.istio.io/v1/virtualservices",
        "/apis/networking.istio.io/v1beta1/virtualservices",
    ]
    assert refs(r.objects) == expected_refs()


def test_endpoints_are_the_fallback_without_endpointslices():
    r = collect(stub(missing_groups={"discovery.k8s.io"}))
    assert [o.name for o in r.objects if o.kind == "Endpoints"] == ["productpage"]
    assert not [o for o in r.objects if o.kind == "EndpointSlice"]
    assert r.gaps == []
    assert r.api_versions["endpoints"] == "v1"


def test_namespaces_limit_what_is_listed_plus_istio_root():
    cluster = stub()
    r = collect(cluster, namespaces=["bookinfo"])
    namespaced = {o.namespace for o in r.objects if o.namespace}
    assert namespaced == {"bookinfo", "istio-system"}
    assert sorted(o.name for o in r.objects if o.kind == "Namespace") == ["bookinfo", "istio-system"]
    listed = {q.path for q in cluster.requests}
    assert "/api/v1/namespaces/bookinfo/pods" in listed and "/api/v1/pods" not in listed
    assert not any("/namespaces/default/" in p for p in listed)


def test_kubeconfig_contexts_tag_objects_with_cluster_names(tmp_path):
    east = stub(tokens={"east-token"})
    no_istio = {"networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"}
    west = StubCluster(
        objects=load_yaml_objects(FIX / "namespaces.yaml"),
        git_version="v1.30.1",
        tokens={"west-token"},
        missing_groups=no_istio,
    )
    with StubServer(east) as e, StubServer(west) as w:
        kc = write_kubeconfig(tmp_path / "kubeconfig", {"east": (e.url, "east-token"), "west": (w.url, "west-token")})
        objects, gaps, facts = collect_config(["east", "west"], None, kubeconfig=str(kc), page_size=4)
    assert facts["clusters"] == ["east", "west"]
    assert facts["versions"] == {"kubernetes@east": "v1.29.4", "istio@east": "1.22.3", "kubernetes@west": "v1.30.1"}
    assert {o.cluster for o in objects} == {"east", "west"}
    assert len([o for o in objects if o.kind == "Namespace" and o.cluster == "west"]) == 5
    assert refs(o for o in objects if o.cluster == "east") == expected_refs()
    # west has no Istio at all: its gaps say so, per group, and name the cluster
    assert {g.what for g in gaps if g.cluster == "west"} >= {
        "apigroup/networking.istio.io",
        "apigroup/security.istio.io",
    }
    assert not [g for g in gaps if g.cluster == "east"]
    assert {q.authorization for q in east.requests} == {"Bearer east-token"}
    assert facts["api_versions"]["east"]["pods"] == "v1"


def test_current_context_is_used_without_context_flag(tmp_path):
    cluster = stub()
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"only": (s.url, "kubeconfig-token")})
        objects, gaps, facts = collect_config(None, ["bookinfo"], kubeconfig=str(kc))
    assert facts["clusters"] == ["Kubernetes"] and facts["versions"]["kubernetes"] == "v1.29.4"
    assert {o.cluster for o in objects} == {"Kubernetes"}
    assert {q.authorization for q in cluster.requests} == {"Bearer kubeconfig-token"}


def test_unreachable_and_bad_config_are_input_errors(tmp_path):
    kc = write_kubeconfig(tmp_path / "kc", {"dead": ("http://127.0.0.1:9", "t"), "dead2": ("http://127.0.0.1:9", "t")})
    with pytest.raises(InputError) as e:
        collect_config(["dead"], None, kubeconfig=str(kc), request_timeout=2)
    assert e.value.exit_code == EXIT_INPUT and "unreachable" in e.value.message
    with pytest.raises(InputError, match="cannot load kubeconfig"):
        collect_config(["nope"], None, kubeconfig=str(kc))
    with pytest.raises(InputError, match="cannot load kubeconfig"):
        collect_config(None, None, kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(InputError, match="in-cluster"):
        collect_config(None, None, in_cluster=True)


def test_one_unreachable_cluster_is_a_gap_when_another_answers(tmp_path):
    cluster = stub()
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"up": (s.url, "t"), "down": ("http://127.0.0.1:9", "t")})
        objects, gaps, facts = collect_config(["up", "down"], None, kubeconfig=str(kc), request_timeout=2)
    assert facts["clusters"] == ["up"]
    assert [(g.what, g.cluster) for g in gaps] == [("cluster", "down")]
    assert objects and {o.cluster for o in objects} == {"up"}


def test_credentials_refused_everywhere_is_an_input_error_not_35_gaps(tmp_path):
    """401 on every call used to exit 0 with 35 gaps; now the cluster is refused, like Prometheus' 401."""
    cluster = stub(tokens={"other"})
    with pytest.raises(ClusterDown) as e:
        collect(cluster)
    assert e.value.refused and "refused the credentials (HTTP 401" in e.value.reason
    assert len(cluster.requests) == 1  # nothing more is asked once the credentials are refused
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"prod": (s.url, "wrong")})
        with pytest.raises(InputError) as ie:
            collect_config(["prod"], None, kubeconfig=str(kc))
    assert ie.value.exit_code == EXIT_INPUT
    assert "Kubernetes API of cluster prod refused the credentials (HTTP 401" in ie.value.message


def test_cluster_snapshot_round_trips_through_the_store(tmp_path):
    cluster = stub(forbidden_namespaces={"secret-team"})
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"prod": (s.url, "t")})
        snap = config_snapshot_from_cluster(["prod"], None, kubeconfig=str(kc), now=1_700_000_000.0)
    assert snap.source.kind == "kubernetes" and snap.source.clusters == ["prod"]
    assert snap.source.versions == {"kubernetes": "v1.29.4", "istio": "1.22.3"}
    assert "bookinfo" in snap.namespaces and "secret-team" in snap.namespaces
    assert {g.phase for g in snap.gaps} == {"config", "metrics"}
    path = tmp_path / "c.mrsnap"
    store.write(snap, path)
    back = store.read(path)
    assert back.objects == snap.objects and back.gaps == snap.gaps
    assert back.collector["config"]["api_versions"]["prod"]["virtualservices.networking.istio.io"] == (
        "networking.istio.io/v1"
    )
    assert refs(back.objects) == expected_refs(namespaces_excluded={"secret-team"})


def test_versions_from_images():
    assert image_version("docker.io/istio/pilot:1.22.3-distroless") == "1.22.3"
    assert image_version("gcr.io/istio-release/proxyv2:1.20.0") == "1.20.0"
    assert image_version("localhost:5000/istio/pilot") is None
    assert image_version("istio/pilot@sha256:abcd") is None
    r = collect(stub(), namespaces=["bookinfo"], istio_namespace="elsewhere")
    # no istiod in "elsewhere": the sidecar image tag is the next best source
    assert istio_version(r.objects, "elsewhere") == "1.22.3"


def test_resource_keys_are_unique():
    keys = [resource_key(k) for k in COLLECTED]
    assert len(keys) == len(set(keys))


def test_snapshot_command_collects_metrics_and_config_together(tmp_path, capsys):
    """`meshreport snapshot` against a real (empty) Prometheus and the stub cluster: one snapshot with both."""
    from helpers.prometheus import running_prometheus

    from meshreport.cli import main

    cluster = stub(forbidden_namespaces={"secret-team"})
    out = tmp_path / "mesh.mrsnap"
    with StubServer(cluster) as s, running_prometheus(None, tmp_path / "prom") as prom:
        kc = write_kubeconfig(tmp_path / "kc", {"prod": (s.url, "t")})
        argv = ["snapshot", "--prometheus", prom, "--window", "1h", "-n", "bookinfo", "-o", str(out)]
        with pytest.raises(SystemExit) as ei:
            main([*argv, "--context", "prod", "--kubeconfig", str(kc)])
        err = capsys.readouterr().err
        assert ei.value.code == 0, err
        snap = store.read(out)
        assert snap.source.kind == "mixed" and snap.source.clusters == ["prod"]
        assert snap.source.versions["kubernetes"] == "v1.29.4" and snap.source.versions["istio"] == "1.22.3"
        assert "prometheus" in snap.source.versions
        assert {o.namespace for o in snap.objects if o.namespace} == {"bookinfo", "istio-system"}
        assert {o.cluster for o in snap.objects} == {"prod"}
        assert "config" in snap.collector and snap.collector["config"]["clusters"] == ["prod"]
        assert not [g for g in snap.gaps if g.phase == "config"]  # secret-team is outside -n
        # an explicit context that does not exist: one line, exit 5
        with pytest.raises(SystemExit) as ei:
            main([*argv, "--context", "nope", "--kubeconfig", str(kc)])
        err = capsys.readouterr().err
        assert ei.value.code == EXIT_INPUT and "cannot load kubeconfig" in err and "Traceback" not in err
        # --no-config: metrics only, the placeholder gap says why there are no findings
        with pytest.raises(SystemExit) as ei:
            main([*argv, "--no-config"])
        assert ei.value.code == 0
        snap = store.read(out)
        assert snap.objects == [] and [g.what for g in snap.gaps if g.phase == "config"] == ["config"]
