"""node_config: which Istio objects apply to a workload or a service, as Istio applies them."""

from __future__ import annotations

from meshreport.graph.model import Node, TrafficGraph
from meshreport.node_config import node_config
from meshreport.snapshot.model import ConfigObject, Snapshot, Source, Window

T0 = 1704067200.0


def _obj(api: str, kind: str, ns: str, name: str, spec: dict, **meta) -> ConfigObject:
    return ConfigObject(api, kind, name, ns, {"metadata": {"name": name, "namespace": ns, **meta}, "spec": spec})


def _deploy(ns: str, name: str, labels: dict) -> ConfigObject:
    return _obj("apps/v1", "Deployment", ns, name, {"template": {"metadata": {"labels": labels}}})


SEC, NET = "security.istio.io/v1", "networking.istio.io/v1"


def _snapshot() -> Snapshot:
    objects = [
        _deploy("shop", "api-v1", {"app": "api", "version": "v1"}),
        _deploy("shop", "web-v1", {"app": "web", "version": "v1"}),
        _obj("v1", "Service", "shop", "api", {"selector": {"app": "api"}}),
        _obj(SEC, "PeerAuthentication", "istio-system", "mesh", {"mtls": {"mode": "STRICT"}}),
        _obj(
            SEC,
            "PeerAuthentication",
            "shop",
            "api-permissive",
            {"selector": {"matchLabels": {"app": "api"}}, "mtls": {"mode": "PERMISSIVE"}},
        ),  # fmt: skip
        _obj(SEC, "AuthorizationPolicy", "istio-system", "deny-all", {}),
        _obj(SEC, "AuthorizationPolicy", "shop", "ns-allow", {"action": "ALLOW"}),
        _obj(SEC, "AuthorizationPolicy", "shop", "api-only", {"selector": {"matchLabels": {"app": "api"}}}),
        _obj(SEC, "AuthorizationPolicy", "shop", "web-only", {"selector": {"matchLabels": {"app": "web"}}}),
        _obj(SEC, "AuthorizationPolicy", "shop", "to-svc", {"targetRefs": [{"kind": "Service", "name": "api"}]}),
        _obj(NET, "Sidecar", "istio-system", "mesh-default", {"egress": [{"hosts": ["./*"]}]}),
        _obj(NET, "Sidecar", "shop", "ns-default", {"egress": [{"hosts": ["./*"]}]}),
        _obj(NET, "Sidecar", "shop", "api-sidecar", {"workloadSelector": {"labels": {"app": "api"}}}),
        _obj(
            NET,
            "VirtualService",
            "shop",
            "api-routes",
            {"hosts": ["api"], "http": [{"route": [{"destination": {"host": "api", "subset": "v1"}}]}]},
        ),  # fmt: skip
        _obj(
            NET,
            "VirtualService",
            "shop",
            "edge",
            {"hosts": ["*"], "gateways": ["edge-gw"], "http": [{"route": [{"destination": {"host": "web"}}]}]},
        ),  # fmt: skip
        _obj(NET, "DestinationRule", "shop", "api", {"host": "api.shop.svc.cluster.local"}),
        _obj(NET, "DestinationRule", "shop", "all", {"host": "*.shop.svc.cluster.local"}),
    ]
    return Snapshot(
        source=Source(kind="test"), window=Window(T0, T0 + 60), namespaces=["shop"], objects=objects, queries=[]
    )


def _graph() -> TrafficGraph:
    g = TrafficGraph(graph_type="versionedApp", timestamp=T0, duration=60, namespaces=["shop"])
    g.add_node(Node("a", "app", "Kubernetes", "shop", workload="api-v1", app="api", version="v1"))
    g.add_node(Node("w", "app", "Kubernetes", "shop", workload="web-v1", app="web", version="v1"))
    g.add_node(Node("s", "service", "Kubernetes", "shop", service="api"))
    g.add_node(Node("o", "app", "Kubernetes", "other", app="x"))
    return g


def _objects(cfg) -> dict[str, str]:
    return {f"{o.kind} {o.namespace}/{o.name}": o.why for o in cfg.objects}


def test_workload_gets_its_policies_its_one_sidecar_and_its_services_routing():
    cfg = node_config(_snapshot(), _graph())
    assert set(cfg) == {"a", "w", "s"}  # only the graph's namespaces
    api = _objects(cfg["a"])
    assert api == {
        "VirtualService shop/api-routes": "hosts include api.shop.svc.cluster.local; routes to api",
        "DestinationRule shop/api": "host api.shop.svc.cluster.local",
        "PeerAuthentication istio-system/mesh": "mesh-wide",
        "PeerAuthentication shop/api-permissive": "selects app=api",
        "AuthorizationPolicy istio-system/deny-all": "mesh-wide",
        "AuthorizationPolicy shop/ns-allow": "namespace-wide",
        "AuthorizationPolicy shop/api-only": "selects app=api",
        "AuthorizationPolicy shop/to-svc": "targets Service api",
        "Sidecar shop/api-sidecar": "selects app=api",
    }
    ((wl, mode),) = cfg["a"].modes
    assert (wl, mode.mode, mode.decided_by) == ("api-v1", "PERMISSIVE", "PeerAuthentication shop/api-permissive")
    web = _objects(cfg["w"])
    assert "AuthorizationPolicy shop/web-only" in web and "AuthorizationPolicy shop/api-only" not in web
    assert "AuthorizationPolicy shop/to-svc" not in web  # it targets another service
    assert web["Sidecar shop/ns-default"] == "namespace default"  # not the mesh default: one Sidecar applies
    assert "Sidecar istio-system/mesh-default" not in web
    assert cfg["w"].modes[0][1].mode == "STRICT"  # from the mesh-wide policy
    # the gateway-bound VirtualService routes to web only through its gateway; it does not apply to api
    assert "VirtualService shop/edge" not in api


def test_service_gets_its_virtual_services_destination_rule_and_targeting_policies():
    svc = _objects(node_config(_snapshot(), _graph())["s"])
    assert svc == {
        "VirtualService shop/api-routes": "hosts include api.shop.svc.cluster.local; routes to api",
        "DestinationRule shop/api": "host api.shop.svc.cluster.local",  # exact host beats the wildcard
        "AuthorizationPolicy shop/to-svc": "targets Service api",
    }


def test_nothing_applies_without_config():
    snap = _snapshot()
    snap.objects = []
    assert node_config(snap, _graph()) == {}


def test_a_workload_is_fronted_by_every_service_whose_whole_selector_picks_its_pods():
    snap = _snapshot()
    snap.objects = [_deploy("shop", "pay-v1", {"app": "pay", "version": "v1", "tier": "back"})]
    selectors = {
        "pay": {"app": "pay"},
        "backs": {"tier": "back", "version": "v1"},  # filed under a label other than app
        "pay-front": {"app": "pay", "tier": "front"},  # one label differs
        "all": {},  # an empty selector selects no pods for a Service
    }
    for name, sel in selectors.items():
        snap.objects.append(_obj("v1", "Service", "shop", name, {"selector": sel}))
        snap.objects.append(_obj(NET, "DestinationRule", "shop", name, {"host": name}))
    g = TrafficGraph(graph_type="versionedApp", timestamp=T0, duration=60, namespaces=["shop"])
    g.add_node(Node("p", "app", "Kubernetes", "shop", workload="pay-v1", app="pay", version="v1"))
    rules = {k for k in _objects(node_config(snap, g)["p"]) if k.startswith("DestinationRule")}
    assert rules == {"DestinationRule shop/pay", "DestinationRule shop/backs"}
