"""The framework itself: registry, runner, index lookups, host helpers."""

from meshreport.hosts import fqdn, host_matches, visible, wildcard_match
from meshreport.validation.index import Context
from meshreport.validation.meshconfig import MeshConfig
from meshreport.validation.registry import all_rules

from .helpers import find, objects, run

BOOKINFO = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviewz}
"""


def test_finding_carries_source_doc_and_equivalents():
    fs = find(run(BOOKINFO), "IST0101", "reviews")
    assert len(fs) == 1
    f = fs[0]
    assert f.severity == "error"
    assert f.equivalents == ("KIA1101",)
    assert f.source is not None and f.source.file == "test.yaml" and f.source.line == 9
    assert f.path == "spec.http[0].route[0].destination.host"
    assert f.message == 'Referenced host not found: "reviewz"'
    assert f.doc and f.origin == "VirtualService bookinfo/reviews"


def test_every_rule_has_code_title_doc():
    rules = all_rules()
    assert len(rules) >= 1
    for r in rules:
        assert r.code[:3] in ("IST", "KIA", "MR0") and r.code[3:].isdigit(), r.code
        assert r.doc and r.title and r.kinds
        assert r.severity in ("error", "warning", "info")


def test_host_helpers():
    assert fqdn("reviews", "bookinfo") == "reviews.bookinfo.svc.cluster.local"
    assert fqdn("reviews.bookinfo.svc.cluster.local", "x") == "reviews.bookinfo.svc.cluster.local"
    assert fqdn("*", "x") == "*"
    assert host_matches("a.foo.com", "*.foo.com") and not host_matches("foo.com", "*.foo.com")
    assert host_matches("*.a.foo.com", "*.foo.com") and not host_matches("*.foo.com", "*.a.foo.com")
    assert visible((".",), "a", "a") and not visible((".",), "a", "b") and visible(("b",), "a", "b")
    assert not visible(("~",), "a", "a")
    assert wildcard_match("foo-bar", "foo*") and wildcard_match("foo-bar", "*bar") and not wildcard_match("x", "y*")


def test_index_resolves_hosts_with_wildcards_and_export_to():
    objs = objects(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: a, namespace: ns1, annotations: {networking.istio.io/exportTo: "."}}
        spec: {ports: [{port: 80}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: ext, namespace: ns2}
        spec: {hosts: ["*.example.com"], ports: [{number: 443, name: tls, protocol: TLS}]}
        """
    )
    idx = Context(objs).index
    assert [t.obj.name for t in idx.resolve_host("a.ns1.svc.cluster.local", "ns1")] == ["a"]
    assert idx.resolve_host("a.ns1.svc.cluster.local", "ns2") == []
    assert [t.obj.name for t in idx.resolve_host("api.example.com", "ns1")] == ["ext"]
    assert [t.obj.name for t in idx.resolve_host("*.ns1.svc.cluster.local")] == ["a"]
    assert [t.obj.name for t in idx.resolve_host("a.ns1")] == ["a"]  # Kiali's name.ns form
    assert idx.resolve_host("example.com") == []


def test_workload_selector_lookup_uses_templates_and_pods():
    objs = objects(
        """
        apiVersion: v1
        kind: Namespace
        metadata: {name: ns1, labels: {istio-injection: enabled}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d, namespace: ns1}
        spec: {template: {metadata: {labels: {app: x, version: v1}}, spec: {containers: [{name: app}]}}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ns2, labels: {app: x}}
        spec: {containers: [{name: app}, {name: istio-proxy}]}
        """
    )
    idx = Context(objs).index
    assert [w.obj.name for w in idx.workloads_matching({"app": "x"}, "ns1")] == ["d"]
    assert sorted(w.obj.name for w in idx.workloads_matching({"app": "x"})) == ["d", "p"]
    assert idx.workloads_matching({"app": "x", "version": "v2"}) == []
    d = idx.workloads_matching({"version": "v1"})[0]
    assert d.sidecar and d.in_mesh  # template in an injection-enabled namespace
    p = idx.workloads_matching({"app": "x"}, "ns2")[0]
    assert p.sidecar and p.is_pod


def test_mesh_config_from_configmap_and_defaults():
    objs = objects(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |
            outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            trustDomain: example.org
            enableAutoMtls: false
        """
    )
    m = MeshConfig.from_objects(objs)
    assert m.outbound_policy == "REGISTRY_ONLY" and not m.allow_any
    assert m.trust_domain == "example.org" and m.enable_auto_mtls is False
    assert m.origin == "ConfigMap istio-system/istio"
    d = MeshConfig.from_objects([])
    assert d.allow_any and d.root_namespace == "istio-system" and d.enable_auto_mtls


def test_memo_builds_once():
    ctx = Context([])
    calls = []
    assert ctx.memo("k", lambda c: calls.append(1) or 42) == 42
    assert ctx.memo("k", lambda c: calls.append(1) or 43) == 42
    assert calls == [1]


def test_gateway_api_gateway_has_its_own_rule_kind():
    objs = objects(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: ns1}
        spec: {gatewayClassName: istio, listeners: []}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: ns1}
        spec: {selector: {istio: ingressgateway}, servers: []}
        """
    )
    idx = Context(objs).index
    assert idx.gateway("ns1", "gw").group == "networking.istio.io"
    assert idx.k8s_gateway("ns1", "gw").group == "gateway.networking.k8s.io"
    assert [o.group for o in idx.of_kind("K8sGateway")] == ["gateway.networking.k8s.io"]
