"""Helpers for the security, telemetry and ambient rules (not a rule module: `_` keeps it out of discovery).

Policies (PeerAuthentication, AuthorizationPolicy, RequestAuthentication, Telemetry, WasmPlugin) share
the same selector / targetRef shape and the same Ambient waypoint questions, so they are answered once here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

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


def mtls_mode(obj: ConfigObject) -> str:
    """PeerAuthentication `spec.mtls.mode`, upper-case; `UNSET` when absent."""
    m = obj.spec.get("mtls")
    mode = m.get("mode") if isinstance(m, dict) else None
    return str(mode or "UNSET").upper()


def dr_tls_mode(obj: ConfigObject) -> str | None:
    tp = obj.spec.get("trafficPolicy")
    tls = tp.get("tls") if isinstance(tp, dict) else None
    mode = tls.get("mode") if isinstance(tls, dict) else None
    return str(mode).upper() if mode else None


class MtlsState:
    """Mesh-wide and namespace-wide PeerAuthentication modes and DestinationRule TLS modes (Kiali's view)."""

    def __init__(self, ctx: Context) -> None:
        idx, root = ctx.index, ctx.mesh.root_namespace
        self.mesh_pa: str | None = None
        self.ns_pa: dict[str | None, str] = {}
        for pa in idx.of_kind("PeerAuthentication"):
            if has_selector(pa):
                continue
            if pa.namespace == root:
                self.mesh_pa = mtls_mode(pa)
            else:
                self.ns_pa[pa.namespace] = mtls_mode(pa)
        self.mesh_dr: set[str] = set()
        self.ns_dr: dict[str, set[str]] = defaultdict(set)
        domain = idx.domain
        for dr in idx.of_kind("DestinationRule"):
            host = str(dr.spec.get("host") or "").lower()
            mode = dr_tls_mode(dr)
            if not mode:
                continue
            if host in ("*.local", f"*.{domain}", f"*.svc.{domain}"):
                self.mesh_dr.add(mode)
            elif host.startswith("*.") and host.endswith(f".svc.{domain}"):
                ns = host[2 : -len(f".svc.{domain}")]
                if ns and "." not in ns:
                    self.ns_dr[ns].add(mode)
        self.auto_mtls = ctx.mesh.enable_auto_mtls

    def effective_pa(self, ns: str | None) -> str:
        mode = self.ns_pa.get(ns)
        if mode and mode != "UNSET":
            return mode
        return self.mesh_pa or "UNSET"

    def receives_mtls(self, ns: str | None) -> bool:
        """Do workloads of `ns` receive mTLS? DISABLE never; with auto mTLS every in-mesh client upgrades;
        without it, only when an ISTIO_MUTUAL DestinationRule (namespace- or mesh-wide) makes clients use it."""
        if self.effective_pa(ns) == "DISABLE":
            return False
        if self.auto_mtls:
            return True
        return "ISTIO_MUTUAL" in self.ns_dr.get(ns or "", set()) or "ISTIO_MUTUAL" in self.mesh_dr


def mtls_state(ctx: Context) -> MtlsState:
    return ctx.memo("policy.mtls", MtlsState)


# -- Ambient -----------------------------------------------------------------------------------


def ambient_namespace(ctx: Context, ns: str | None) -> bool:
    return (ctx.index.namespace_labels.get(ns or "", {}).get("istio.io/dataplane-mode") or "") == "ambient"


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
