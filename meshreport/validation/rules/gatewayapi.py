"""Gateway API rules (Kiali KIA14xx-16xx, istioctl IST0166): Gateways, routes, ReferenceGrants, and Istio
policies that target Gateway API gateway pods with a selector. Gateway API `Gateway` is rule kind `K8sGateway`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import GATEWAY_API_GROUP, Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts
from meshreport.validation.rules._policy import labels_text, match_labels, target_refs
from meshreport.validation.rules._webhooks import label_selector_matches

ROUTES = ("HTTPRoute", "GRPCRoute")
GW = ("K8sGateway",)
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
# Classes istiod provides without a GatewayClass object in the input.
BUILTIN_CLASSES = ("istio", "istio-waypoint", "istio-remote", "istio-east-west")


def _ref_kind(ref: dict[str, Any], default: str) -> tuple[str, str]:
    return str(ref.get("group", GATEWAY_API_GROUP if default == "Gateway" else "") or ""), str(
        ref.get("kind") or default
    )


def _allows(listener: dict[str, Any], gw: ConfigObject, route_ns: str | None, ctx: Context) -> bool:
    ns_rule = ((listener.get("allowedRoutes") or {}).get("namespaces") or {}) if isinstance(listener, dict) else {}
    frm = str(ns_rule.get("from") or "Same")
    if frm == "All":
        return True
    if frm == "Same":
        return route_ns == gw.namespace
    if frm == "Selector":
        return label_selector_matches(ns_rule.get("selector"), ctx.index.namespace_labels.get(route_ns or "", {}))
    return False


@rule(
    code="KIA1401",
    kinds=ROUTES,
    severity="error",
    title="Route parent Gateway not found or not allowing the route",
    doc="A parentRefs entry names a Gateway API Gateway that does not exist, or none of its listeners (or the "
    "one named by sectionName) allows routes from the route's namespace (allowedRoutes.namespaces.from Same, "
    "All or Selector). The route is not attached and serves no traffic.",
)
def route_parent_gateway(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, ref in enumerate(dicts(obj.spec.get("parentRefs"))):
        group, kind = _ref_kind(ref, "Gateway")
        if kind != "Gateway" or group != GATEWAY_API_GROUP:
            continue
        ns, name = str(ref.get("namespace") or obj.namespace or ""), str(ref.get("name") or "")
        gw = ctx.index.k8s_gateway(ns, name)
        path = f"spec.parentRefs[{i}]"
        if gw is None:
            yield Hit(f"Gateway {ns}/{name} not found", path=f"{path}.name")
            continue
        listeners = dicts(gw.spec.get("listeners"))
        if ref.get("sectionName"):
            listeners = [x for x in listeners if x.get("name") == ref["sectionName"]]
        if not any(_allows(x, gw, obj.namespace, ctx) for x in listeners):
            yield Hit(f"Gateway {ns}/{name} does not allow routes from namespace {obj.namespace!r}", path=path)


def _grants(ctx: Context) -> dict[str | None, list[ConfigObject]]:
    out: dict[str | None, list[ConfigObject]] = defaultdict(list)
    for g in ctx.index.of_kind("ReferenceGrant"):
        out[g.namespace].append(g)
    return out


def _granted(ctx: Context, route: ConfigObject, to_ns: str, name: str) -> bool:
    for g in ctx.memo("gatewayapi.grants", _grants).get(to_ns, []):
        frm = any(
            str(f.get("group") or "") == GATEWAY_API_GROUP
            and str(f.get("kind") or "") == route.kind
            and str(f.get("namespace") or "") == route.namespace
            for f in dicts(g.spec.get("from"))
        )
        to = any(
            str(t.get("group") or "") == ""
            and str(t.get("kind") or "") == "Service"
            and (not t.get("name") or str(t.get("name")) == name)
            for t in dicts(g.spec.get("to"))
        )
        if frm and to:
            return True
    return False


def _service_refs(obj: ConfigObject) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, ref in enumerate(dicts(obj.spec.get("parentRefs"))):
        if _ref_kind(ref, "Gateway") == ("", "Service"):
            yield f"spec.parentRefs[{i}]", ref
    for i, r in enumerate(dicts(obj.spec.get("rules"))):
        for j, ref in enumerate(dicts(r.get("backendRefs"))):
            if _ref_kind(ref, "Service") == ("", "Service"):
                yield f"spec.rules[{i}].backendRefs[{j}]", ref


@rule(
    code="KIA1402",
    kinds=ROUTES,
    severity="error",
    title="Route references a Service that is not found",
    doc="A backendRefs (or Service parentRefs) entry names a Service that does not exist, uses a dotted name "
    "(a host name is not a Service name), or lives in another namespace without a ReferenceGrant there that "
    "allows this route kind from this namespace. Requests to that backend fail with 500.",
)
def route_backend_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for path, ref in _service_refs(obj):
        name = str(ref.get("name") or "")
        ns = str(ref.get("namespace") or obj.namespace or "")
        if "." in name or ctx.index.service(ns, name) is None:
            yield Hit(f"Service {ns}/{name} not found", path=f"{path}.name")
        elif ns != obj.namespace and not _granted(ctx, obj, ns, name):
            yield Hit(f"Service {ns}/{name} is in another namespace and no ReferenceGrant allows it", path=path)


def _listeners(gw: ConfigObject) -> list[tuple[str, int, str]]:
    return [
        (str(x.get("hostname") or "*").lower(), int(x.get("port") or 0), str(x.get("protocol") or "").upper())
        for x in dicts(gw.spec.get("listeners"))
    ]


def _by_host_port(ctx: Context) -> dict[tuple[str, int], list[ConfigObject]]:
    out: dict[tuple[str, int], list[ConfigObject]] = defaultdict(list)
    for gw in ctx.index.of_kind("K8sGateway"):
        for key in {(h, p) for h, p, _ in _listeners(gw)}:
            out[key].append(gw)
    return out


@rule(
    code="KIA1501",
    kinds=GW,
    severity="warning",
    title="Gateway API listener hostname and port used by another Gateway",
    doc="Another Gateway API Gateway has a listener with the same hostname and port; when both are served by "
    "the same deployment the routes conflict and one wins unpredictably. Use distinct hostnames or ports.",
)
def k8s_gateway_duplicate_listener(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    table = ctx.memo("gatewayapi.host_port", _by_host_port)
    for host, port in sorted({(h, p) for h, p, _ in _listeners(obj)}):
        others = sorted(g.ref() for g in table.get((host, port), []) if g is not obj)
        if others:
            yield Hit(f"Listener {host}:{port} is also defined by {', '.join(others)}", path="spec.listeners")


def _by_address(ctx: Context) -> dict[tuple[str, str], list[ConfigObject]]:
    out: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
    for gw in ctx.index.of_kind("K8sGateway"):
        for a in dicts(gw.spec.get("addresses")):
            out[(str(a.get("type") or "IPAddress"), str(a.get("value") or ""))].append(gw)
    return out


@rule(
    code="KIA1502",
    kinds=GW,
    severity="warning",
    title="Gateway API address used by another Gateway",
    doc="Another Gateway API Gateway requests the same address (same type and value); only one can get it, "
    "so the other stays unprogrammed.",
)
def k8s_gateway_duplicate_address(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    table = ctx.memo("gatewayapi.address", _by_address)
    for i, a in enumerate(dicts(obj.spec.get("addresses"))):
        key = (str(a.get("type") or "IPAddress"), str(a.get("value") or ""))
        others = sorted(g.ref() for g in table.get(key, []) if g is not obj)
        if others:
            yield Hit(f"Address {key[1]} is also requested by {', '.join(others)}", path=f"spec.addresses[{i}]")


@rule(
    code="KIA1503",
    kinds=GW,
    severity="error",
    title="Gateway API listeners are not unique",
    doc="Two listeners of this Gateway have the same hostname, port and protocol; the Gateway API marks them "
    "Conflicted and neither serves traffic. Make each listener unique.",
)
def k8s_gateway_listeners_unique(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    seen: set[tuple[str, int, str]] = set()
    for i, key in enumerate(_listeners(obj)):
        if key in seen:
            yield Hit(f"Listener {key[0]}:{key[1]} ({key[2]}) is defined more than once", path=f"spec.listeners[{i}]")
        seen.add(key)


@rule(
    code="KIA1504",
    kinds=GW,
    severity="error",
    title="Unknown GatewayClass",
    doc="The Gateway's gatewayClassName is neither a GatewayClass in the input nor one of Istio's built-in "
    "classes (istio, istio-waypoint, istio-remote, istio-east-west), so no controller programs it.",
)
def k8s_gateway_class(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    cls = str(obj.spec.get("gatewayClassName") or "")
    known = {c.name for c in ctx.index.of_kind("GatewayClass")} | set(BUILTIN_CLASSES)
    if cls not in known:
        yield Hit(f"GatewayClass {cls!r} not found", path="spec.gatewayClassName")


@rule(
    code="KIA1601",
    kinds=("ReferenceGrant",),
    severity="error",
    title="ReferenceGrant namespace not found",
    doc="A `from[].namespace` of this ReferenceGrant is not an existing namespace, so the grant lets nothing in. "
    "Fix the namespace name.",
)
def reference_grant_namespace(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, f in enumerate(dicts(obj.spec.get("from"))):
        ns = str(f.get("namespace") or "")
        if ns and not ctx.index.namespace_exists(ns):
            yield Hit(f"Namespace {ns!r} not found", path=f"spec.from[{i}].namespace")


@rule(
    code="IST0166",
    kinds=("AuthorizationPolicy", "RequestAuthentication", "Telemetry", "WasmPlugin"),
    severity="warning",
    title="Ineffective selector for a Gateway API gateway",
    doc="The policy uses `selector` to reach the pods of a Gateway API gateway (label "
    "gateway.networking.k8s.io/gateway-name). Istio expects `targetRefs` to the Gateway for these; attach "
    "the policy with targetRefs instead.",
)
def ineffective_gateway_selector(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = match_labels(obj)
    if not sel or target_refs(obj):
        return
    for w in ctx.index.workloads_matching(sel, obj.namespace):
        if GATEWAY_NAME_LABEL in w.labels:
            yield Hit(
                f"Ineffective selector {labels_text(sel)} on {w.obj.ref()}: use targetRefs to Gateway "
                f"{w.labels[GATEWAY_NAME_LABEL]!r} instead",
                path="spec.selector",
            )
