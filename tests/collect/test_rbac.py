"""deploy/kubernetes/rbac.yaml grants exactly what the collector requests: nothing missing or extra, no Secrets."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.k8s_stub import StubCluster, StubServer, load_yaml_objects  # noqa: E402

from meshreport.collect.kinds import COLLECTED, ISTIO_CONFIGMAPS  # noqa: E402
from meshreport.collect.kubernetes import ISTIO_NAMESPACE, client_for, collect_cluster  # noqa: E402

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "rbac.yaml"
FIX = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "cluster"
_PATH = re.compile(
    r"^/(?:api/(?P<cv>v1)|apis/(?P<g>[^/]+)/(?P<v>[^/]+))(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?$"
)


def docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def active() -> list[dict]:
    return docs(RBAC.read_text())


def opt_in(name: str = "meshreport-secret-names") -> list[dict]:
    """The commented-out documents, uncommented (`##` prose becomes a YAML comment), that carry `name`:
    meshreport-secret-names (--secret-names) or meshreport-gateway-certs (--gateway-certs)."""
    lines = RBAC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#---"))
    every = docs("\n".join(line[1:] for line in lines[start:] if line.startswith("#")))
    return [d for d in every if d["metadata"]["name"] == name]


def grants(objs: list[dict]) -> set[tuple]:
    """(group, resource, verb, namespace or '*', resourceName or '*') for every Role/ClusterRole rule."""
    out = set()
    for o in objs:
        if o["kind"] not in ("ClusterRole", "Role"):
            continue
        ns = o["metadata"].get("namespace", "*") if o["kind"] == "Role" else "*"
        for rule in o["rules"]:
            for g in rule["apiGroups"]:
                for r in rule["resources"]:
                    for v in rule["verbs"]:
                        for n in rule.get("resourceNames") or ["*"]:
                            out.add((g, r, v, ns, n))
    return out


def allowed(g: set[tuple], group: str, res: str, verb: str, ns: str | None, name: str | None) -> bool:
    return any(
        (gg, rr, vv) == (group, res, verb) and gns in ("*", ns) and gn in ("*", name) for gg, rr, vv, gns, gn in g
    )


def test_clusterrole_is_exactly_get_list_on_the_kinds_table():
    expected = {(k.group, k.plural, v, "*", "*") for k in COLLECTED if k.opt_in is None for v in ("get", "list")}
    expected |= {("", "configmaps", "get", ISTIO_NAMESPACE, cm) for cm in ISTIO_CONFIGMAPS}
    assert grants(active()) == expected
    assert not [x for x in grants(active()) if x[1] == "secrets" or x[2] not in ("get", "list")]


def test_bindings_point_at_the_roles_and_the_service_account():
    objs = active()
    sa = next(o for o in objs if o["kind"] == "ServiceAccount")
    roles = {(o["kind"], o["metadata"]["name"]) for o in objs if o["kind"] in ("ClusterRole", "Role")}
    bindings = [o for o in objs if o["kind"].endswith("Binding")]
    assert {(b["roleRef"]["kind"], b["roleRef"]["name"]) for b in bindings} == roles
    for b in bindings:
        assert b["subjects"] == [
            {"kind": "ServiceAccount", "name": "meshreport", "namespace": sa["metadata"]["namespace"]}
        ]


def test_opt_in_secret_role_is_list_on_secrets_only():
    objs = opt_in()
    assert grants(objs) == {("", "secrets", "list", "*", "*")}
    assert [o["kind"] for o in objs] == ["ClusterRole", "ClusterRoleBinding"]


def test_opt_in_gateway_certs_role_is_get_on_secrets_in_the_gateway_namespace_only():
    objs = opt_in("meshreport-gateway-certs")
    assert grants(objs) == {("", "secrets", "get", ISTIO_NAMESPACE, "*")}
    assert [o["kind"] for o in objs] == ["Role", "RoleBinding"]
    assert objs[1]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": objs[0]["metadata"]["name"],
    }
    assert objs[1]["subjects"] == [{"kind": "ServiceAccount", "name": "meshreport", "namespace": "meshreport"}]


def test_every_request_the_collector_makes_is_granted():
    """Drive the real collector and check each API request against the role (and the opt-in one)."""
    tls_gateway = {  # credentials are read in the gateway namespace (istio-system here), granted by the Role
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "tls", "namespace": "bookinfo"},
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 443}, "tls": {"mode": "SIMPLE", "credentialName": "bookinfo-credential"}}],
        },
    }
    gateway_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "ingress-1", "namespace": ISTIO_NAMESPACE, "labels": {"istio": "ingressgateway"}},
        "spec": {"containers": [{"name": "istio-proxy"}]},
    }
    cluster = StubCluster(objects=[*load_yaml_objects(FIX), tls_gateway, gateway_pod], forbidden_namespaces=set())
    with StubServer(cluster) as s:
        api = client_for(s.url, "t")
        collect_cluster(api, "Kubernetes", None, secret_names=True, page_size=3)
        collect_cluster(api, "Kubernetes", ["bookinfo"], secret_names=False)
        collect_cluster(api, "Kubernetes", None, gateway_certs=True)
        api.close()
    base, extra = grants(active()), grants(opt_in()) | grants(opt_in("meshreport-gateway-certs"))
    seen = set()
    assert [q.path for q in cluster.requests if "/secrets/" in q.path]  # the gateway-certs gets were checked too
    for q in cluster.requests:
        if q.path in ("/version", "/api", "/apis"):
            continue  # discovery: granted to every authenticated user (system:discovery)
        m = _PATH.match(q.path)
        assert m, q.path
        group = m["g"] or ""
        verb = "get" if m["name"] else "list"
        key = (group, m["res"], verb, m["ns"], m["name"])
        seen.add((group, m["res"]))
        if m["res"] == "secrets":
            assert allowed(extra, *key) and not allowed(base, *key)
        else:
            assert allowed(base, *key), key
    # and the role grants nothing the collector did not use
    assert {(g, r) for g, r, *_ in base} <= seen | {("", "endpoints")}  # Endpoints: fallback without EndpointSlices
