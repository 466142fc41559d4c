"""The mTLS resolver: server modes with their deciding object and level, client modes as istiod picks them."""

from __future__ import annotations

import yaml

from meshreport.mtls import AUTO, PLAINTEXT, MtlsResolver, ServerMode
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.meshconfig import MeshConfig


def objects(text: str) -> list[ConfigObject]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    return [
        ConfigObject(d["apiVersion"], d["kind"], d["metadata"]["name"], d["metadata"]["namespace"], d) for d in docs
    ]


def pa(name, ns, mode=None, selector=None, ports=None, created=None):
    meta = f"{{name: {name}, namespace: {ns}" + (f", creationTimestamp: '{created}'" if created else "") + "}"
    lines = [f"  selector: {{matchLabels: {selector}}}"] if selector else []
    if mode:
        lines.append(f"  mtls: {{mode: {mode}}}")
    if ports:
        lines += ["  portLevelMtls:"] + [f"    {p}: {{mode: {m}}}" for p, m in ports.items()]
    body = "\n".join(lines) or "  {}"
    return f"---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {meta}\nspec:\n{body}\n"


def dr(name, ns, host, mode=None, port_mode=None, export=None):
    tp = {"tls": {"mode": mode}} if mode else {}
    if port_mode:
        tp["portLevelSettings"] = [{"port": {"number": port_mode[0]}, "tls": {"mode": port_mode[1]}}]
    exp = f"\n  exportTo: {export}" if export else ""
    return (
        f"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\n"
        f'spec:\n  host: "{host}"{exp}\n  trafficPolicy: {tp}\n'
    )


def resolver(text, **mesh) -> MtlsResolver:
    return MtlsResolver(objects(text), MeshConfig.from_dict(mesh) if mesh else None)


def test_defaults_without_any_policy_are_permissive_and_auto_mtls():
    r = resolver("")
    assert r.mesh_mode() == ServerMode("PERMISSIVE", "default")
    assert r.workload_mode("shop", {"app": "a"}).workload == ServerMode("PERMISSIVE", "default")
    c = r.client_mode("a.shop.svc.cluster.local", "shop")
    assert c.mode == AUTO and c.sends_mtls(ServerMode("STRICT", "mesh"))
    assert not c.sends_mtls(ServerMode("DISABLE", "workload"))


def test_unset_inherits_and_narrower_scope_wins():
    r = resolver(
        pa("default", "istio-system", "STRICT")
        + pa("default", "shop", "UNSET")
        + pa("default", "pay", "PERMISSIVE")
        + pa("w", "pay", "DISABLE", "{app: db}")
    )
    assert r.namespace_mode("shop") == ServerMode("STRICT", "mesh", "PeerAuthentication istio-system/default")
    assert r.namespace_mode("pay").level == "namespace"
    assert r.workload_mode("pay", {"app": "db", "v": "1"}).workload == ServerMode(
        "DISABLE", "workload", "PeerAuthentication pay/w"
    )
    assert r.workload_mode("pay", {"app": "web"}).workload.mode == "PERMISSIVE"


def test_mesh_policy_unset_is_permissive_and_selector_policy_in_root_is_ignored():
    r = resolver(pa("default", "istio-system") + pa("w", "istio-system", "DISABLE", "{app: a}"))
    assert r.mesh_mode() == ServerMode("PERMISSIVE", "mesh", "PeerAuthentication istio-system/default")
    assert r.workload_mode("istio-system", {"app": "a"}).workload.mode == "PERMISSIVE"


def test_oldest_policy_of_a_scope_wins():
    r = resolver(
        pa("b", "shop", "STRICT", created="2024-01-01T00:00:00Z")
        + pa("a", "shop", "DISABLE", created="2025-01-01T00:00:00Z")
    )
    assert r.namespace_mode("shop").decided_by == "PeerAuthentication shop/b"


def test_port_level_modes_and_their_inheritance():
    r = resolver(pa("default", "shop", "STRICT") + pa("w", "shop", None, "{app: a}", {8080: "DISABLE", 9090: "UNSET"}))
    wm = r.workload_mode("shop", {"app": "a"})
    assert wm.workload.mode == "STRICT" and wm.workload.level == "namespace"
    assert wm.port(8080) == ServerMode("DISABLE", "port", "PeerAuthentication shop/w")
    assert wm.port(9090).mode == "STRICT" and wm.port(1234) == wm.workload
    assert (
        r.mtls_gap("shop", {"app": "a"}, what="a")
        == "a port 8080 accepts only plain text (DISABLE from PeerAuthentication shop/w)"
    )


def test_port_level_on_a_namespace_policy_does_not_count():
    r = resolver(pa("default", "shop", "STRICT", ports={8080: "DISABLE"}))
    assert r.workload_mode("shop", {"app": "a"}).ports == {}


def test_destination_rule_order_client_then_service_then_root_namespace():
    text = (
        dr("mesh", "istio-system", "*.local", "ISTIO_MUTUAL")
        + dr("ns", "shop", "*.shop.svc.cluster.local", "DISABLE")
        + dr("mine", "web", "*.local", "SIMPLE")
        + dr("elsewhere", "other", "a.shop.svc.cluster.local", "MUTUAL")
    )
    r = resolver(text)
    host = "a.shop.svc.cluster.local"
    assert r.client_mode(host, "shop").decided_by == "DestinationRule shop/ns"
    assert r.client_mode(host, "shop", client_ns="web").mode == "SIMPLE"
    assert r.client_mode(host, "shop", client_ns="other").mode == "MUTUAL"
    assert r.client_mode("b.pay.svc.cluster.local", "pay").level == "mesh"


def test_most_specific_host_and_port_level_settings():
    r = resolver(
        dr("ns", "shop", "*.shop.svc.cluster.local", "DISABLE")
        + dr("a", "shop", "a", "ISTIO_MUTUAL", (9080, "DISABLE"))
    )
    assert r.client_mode("a.shop.svc.cluster.local", "shop").mode == "ISTIO_MUTUAL"
    assert r.client_mode("a.shop.svc.cluster.local", "shop", port=9080).mode == "DISABLE"
    assert r.client_mode("b.shop.svc.cluster.local", "shop").level == "namespace"


def test_rule_without_tls_leaves_auto_mtls_and_unexported_rules_stay_home():
    r = resolver(dr("a", "shop", "a", None) + dr("m", "istio-system", "*.local", "DISABLE", export="['.']"))
    assert r.client_mode("a.shop.svc.cluster.local", "shop").mode == AUTO
    assert r.client_mode("b.pay.svc.cluster.local", "pay").mode == AUTO


def test_auto_mtls_off_sends_plain_text():
    r = resolver("", enableAutoMtls=False)
    c = r.client_mode("a.shop.svc.cluster.local", "shop")
    assert c.mode == PLAINTEXT and not c.sends_mtls(ServerMode("STRICT", "mesh"))
    assert "auto mTLS off" in r.mtls_gap("shop", {"app": "a"}, what="a")
