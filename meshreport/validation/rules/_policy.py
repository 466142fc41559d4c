"""Helpers for the security, telemetry and ambient rules (not a rule module: `_` keeps it out of discovery).

Policies (PeerAuthentication, AuthorizationPolicy, RequestAuthentication, Telemetry, WasmPlugin) share
the same selector / targetRef shape and the same Ambient waypoint questions, so they are answered once here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshreport.istio_names import DATAPLANE_MODE
from meshreport.mtls import MtlsResolver
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import GATEWAY_API_GROUP, Context, Workload
from meshreport.validation.model import Hit
from meshreport.validation.rules._common import as_list, dicts

USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NS = "istio.io/use-waypoint-namespace"
WAYPOINT_CLASS = "istio-waypoint"


def match_labels(obj: ConfigObject) -> dict[str, str]:
    """`spec.selector.matchLabels` (values as strings); empty when the policy has no selector."""
    sel = obj.spec.get("selector")
    if not isinstance(sel, dict):
        return {}
    return {str(k): str(v) for k, v in (sel.get("matchLabels") or {}).items()}


def has_selector(obj: ConfigObject) -> bool:
    return bool(match_labels(obj))


def target_refs(obj: ConfigObject) -> list[dict[str, Any]]:
    """`targetRefs` plus the older single `targetRef`."""
    refs = dicts(obj.spec.get("targetRefs"))
    if isinstance(obj.spec.get("targetRef"), dict):
        refs.append(obj.spec["targetRef"])
    return refs


def labels_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def workload_ref(w: Workload) -> str:
    return w.obj.ref()


def owned(w: Workload) -> bool:
    """A pod or ReplicaSet created by a controller: its controller is reported instead (no duplicates)."""
    return bool(w.obj.metadata.get("ownerReferences"))


def mtls_resolver(ctx: Context) -> MtlsResolver:
    """The one mTLS answer (meshreport.mtls) every mTLS-dependent rule reads, built once per run."""
    return ctx.memo("policy.mtls", lambda c: MtlsResolver(c.index.mesh_index, c.mesh, c.index.domain))


def workload_hosts(ctx: Context, ns: str | None, labels: dict[str, str]) -> list[str]:
    """Hosts of the Services in `ns` whose selector picks a workload with `labels`."""
    out = []
    for svc in ctx.index.services_by_ns.get(ns, ()):
        sel = svc.spec.get("selector")
        if isinstance(sel, dict) and sel and all(labels.get(str(k)) == str(v) for k, v in sel.items()):
            out.append(ctx.fqdn(svc.name, ns))
    return out


def mtls_gap(ctx: Context, ns: str | None, labels: dict[str, str], what: str) -> str | None:
    """The resolver's reason a sidecar workload does not get mutual TLS, judged for its Services' hosts."""
    return mtls_resolver(ctx).mtls_gap(ns, labels, workload_hosts(ctx, ns, labels), what)


# -- Ambient -----------------------------------------------------------------------------------


def ambient_namespace(ctx: Context, ns: str | None) -> bool:
    return (ctx.index.namespace_labels.get(ns or "", {}).get(DATAPLANE_MODE) or "") == "ambient"


def waypoint_names(ctx: Context) -> set[tuple[str | None, str]]:
    """(namespace, name) of every Gateway API Gateway of class istio-waypoint."""

    def build(c: Context) -> set[tuple[str | None, str]]:
        return {
            (g.namespace, g.name)
            for g in c.index.of_kind("K8sGateway")
            if str(g.spec.get("gatewayClassName") or "") == WAYPOINT_CLASS
        }

    return ctx.memo("policy.waypoints", build)


def enrolled(labels: dict[str, str]) -> bool:
    v = labels.get(USE_WAYPOINT)
    return bool(v) and v != "none"


def namespace_enrolled(ctx: Context, ns: str | None) -> bool:
    return enrolled(ctx.index.namespace_labels.get(ns or "", {}))


def target_enrolled(ctx: Context, obj: ConfigObject, ref: dict[str, Any]) -> bool:
    """Does a targetRef point at something traffic reaches through a waypoint?"""
    kind = str(ref.get("kind") or "")
    name = str(ref.get("name") or "")
    ns = obj.namespace
    if kind in ("Gateway", "GatewayClass"):
        return True  # policies attached to a gateway or waypoint apply there
    if kind == "Service":
        svc = ctx.index.service(ns, name)
        if svc is not None and enrolled(svc.labels):
            return True
        return namespace_enrolled(ctx, ns)
    if kind == "ServiceEntry":
        se = ctx.index.get("ServiceEntry", ns, name)
        if se is not None and enrolled(se.labels):
            return True
        return namespace_enrolled(ctx, ns)
    return False


def ambient_waypoint_hits(obj: ConfigObject, ctx: Context, what: str) -> Iterator[Hit]:
    """The `... in an Ambient namespace requires a waypoint` check shared by AP, RA, Telemetry and WasmPlugin.

    Selector-based objects are left to the `uses selector` check; targetRefs must reach a waypoint-enrolled
    Service/ServiceEntry or a Gateway; a namespace-wide object needs the namespace enrolled."""
    if not ambient_namespace(ctx, obj.namespace) or has_selector(obj):
        return
    refs = target_refs(obj)
    if not refs:
        if obj.namespace != ctx.mesh.root_namespace and not namespace_enrolled(ctx, obj.namespace):
            yield Hit(
                f"{what} in Ambient namespace {obj.namespace!r} takes effect only through a waypoint, "
                f"and the namespace is not enrolled in one ({USE_WAYPOINT} label)",
                path="spec",
            )
        return
    for i, ref in enumerate(refs):
        if not target_enrolled(ctx, obj, ref):
            yield Hit(
                f"{what} targets {ref.get('kind')} {ref.get('name')!r}, which is not enrolled in a waypoint "
                f"({USE_WAYPOINT} label)",
                path=f"spec.targetRefs[{i}]" if obj.spec.get("targetRefs") else "spec.targetRef",
            )


def ambient_selector_hits(obj: ConfigObject, ctx: Context, what: str) -> Iterator[Hit]:
    """`... in Ambient uses selector instead of targetRefs`: a selector only reaches sidecars, not waypoints."""
    if ambient_namespace(ctx, obj.namespace) and has_selector(obj) and not target_refs(obj):
        yield Hit(
            f"{what} in Ambient namespace {obj.namespace!r} uses a workload selector; "
            "use targetRefs to a Service or Gateway (waypoint) instead",
            path="spec.selector",
        )


def is_gateway_api_group(ref: dict[str, Any]) -> bool:
    return str(ref.get("group", GATEWAY_API_GROUP) or "") in ("", GATEWAY_API_GROUP)


def string_list(v: Any) -> list[str]:
    return [str(x) for x in as_list(v)]
