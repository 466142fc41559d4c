"""Helpers shared by rule modules (not a rule module itself: the leading `_` keeps it out of discovery)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshreport.istio_names import DATAPLANE_MODE
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit


@dataclass(frozen=True)
class Destination:
    """One route or mirror destination of a VirtualService."""

    path: str  # e.g. spec.http[0].route[1].destination
    host: str  # as written
    subset: str | None
    port: int | None
    protocol: str  # http | tcp | tls
    route_index: int
    mirror: bool = False


def vs_destinations(vs: ConfigObject) -> Iterator[Destination]:
    """Every route destination of http/tcp/tls rules, and every http mirror."""
    for proto in ("http", "tcp", "tls"):
        for i, r in enumerate(dicts(vs.spec.get(proto))):
            for j, d in enumerate(dicts(r.get("route"))):
                dest = d.get("destination") if isinstance(d, dict) else None
                if isinstance(dest, dict):
                    yield _dest(dest, f"spec.{proto}[{i}].route[{j}].destination", proto, i)
            if proto != "http":
                continue
            if isinstance(r.get("mirror"), dict):
                yield _dest(r["mirror"], f"spec.http[{i}].mirror", proto, i, mirror=True)
            for k, m in enumerate(dicts(r.get("mirrors"))):
                if isinstance(m.get("destination"), dict):
                    yield _dest(m["destination"], f"spec.http[{i}].mirrors[{k}].destination", proto, i, mirror=True)


def _dest(d: dict[str, Any], path: str, proto: str, i: int, mirror: bool = False) -> Destination:
    port = (d.get("port") or {}).get("number") if isinstance(d.get("port"), dict) else None
    return Destination(
        path=path,
        host=str(d.get("host") or ""),
        subset=str(d["subset"]) if d.get("subset") else None,
        port=int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else None,
        protocol=proto,
        route_index=i,
        mirror=mirror,
    )


def vs_gateways(vs: ConfigObject) -> list[str]:
    """The VS's `spec.gateways` (empty means `mesh` only)."""
    return [str(g) for g in as_list(vs.spec.get("gateways"))]


def vs_bound_to_mesh(vs: ConfigObject) -> bool:
    gws = vs_gateways(vs)
    return not gws or "mesh" in gws


def gateway_ref(ref: str, vs_ns: str | None) -> tuple[str | None, str]:
    """`ns/name` or `name` (same namespace) or the old `name.ns.svc...` form -> (ns, name)."""
    if "/" in ref:
        ns, name = ref.split("/", 1)
        return ns, name
    if "." in ref:
        parts = ref.split(".")
        return parts[1], parts[0]
    return vs_ns, ref


def export_to_hits(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    """KIA0005: every exportTo entry other than `.`, `*` (and `~`) must be an existing namespace.

    Kiali skips the check for objects in Ambient namespaces (label `istio.io/dataplane-mode: ambient`).
    """
    if ctx.index.namespace_labels.get(obj.namespace or "", {}).get(DATAPLANE_MODE) == "ambient":
        return
    for i, ns in enumerate(as_list(obj.spec.get("exportTo"))):
        ns = str(ns)
        if ns in (".", "*", "~"):
            continue
        if not ctx.index.namespace_exists(ns):
            yield Hit(f"Namespace not found for this exportTo: {ns!r}", path=f"spec.exportTo[{i}]")


def imported(ctx: Context, obj: ConfigObject, namespace: str | None = None) -> bool:
    """Whether the Sidecar import scope of `namespace` (default: the object's own) imports this DR (its host)
    or VS/SE (any of its hosts). Kiali runs KIA0201, KIA0204, KIA1106 and KIA1211 only over imported objects."""
    scope = ctx.index.import_scope(obj.namespace if namespace is None else namespace)
    if not scope.limited:
        return True
    if obj.kind == "DestinationRule":
        return scope.imports(str(obj.spec.get("host") or ""), obj.namespace)
    return any(scope.imports(str(h), obj.namespace) for h in as_list(obj.spec.get("hosts")))


def as_list(v: Any) -> list[Any]:
    """A YAML list or empty (tolerates null and wrong types from hand-written files)."""
    return v if isinstance(v, list) else []


def dicts(v: Any) -> list[dict[str, Any]]:
    """The dict items of a YAML list."""
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


USE_WAYPOINT = "istio.io/use-waypoint"


def ns_ambient(ctx: Context, ns: str | None) -> bool:
    return ctx.index.namespace_injection(ns) == "ambient"


def waypoint_enrolled(ctx: Context, svc: ConfigObject) -> bool:
    """A Service uses a waypoint when it or its namespace carries `istio.io/use-waypoint` (not `none`)."""
    own = svc.labels.get(USE_WAYPOINT)
    if own is not None:
        return own != "none"
    ns_label = ctx.index.namespace_labels.get(svc.namespace or "", {}).get(USE_WAYPOINT)
    return ns_label is not None and ns_label != "none"


def ambient_services(ctx: Context, hosts: list[str], from_ns: str | None) -> list[ConfigObject]:
    """The Kubernetes Services behind `hosts` (short names resolved in `from_ns`) that run in ambient namespaces."""
    out: dict[int, ConfigObject] = {}
    for h in hosts:
        for t in ctx.index.resolve_host(ctx.fqdn(h, from_ns), from_ns):
            if t.kind == "Service" and ns_ambient(ctx, t.namespace):
                out[id(t.obj)] = t.obj
    return list(out.values())


def istioctl_targets(ctx: Context, obj: ConfigObject, host: str) -> list:
    """The Services/ServiceEntries a VirtualService or DestinationRule host resolves to, as istioctl's
    GetDestinationHost looks: those exported to every namespace, else those visible from the namespaces the
    object is exported to (its own when it sets no exportTo)."""
    fqdn = ctx.fqdn(host, obj.namespace)
    found = ctx.index.resolve_host(fqdn, "*")
    if found:
        return found
    for e in [str(e) for e in as_list(obj.spec.get("exportTo"))] or ["."]:
        viewer = obj.namespace if e == "." else e
        if viewer != "*" and (found := ctx.index.resolve_host(fqdn, viewer)):
            return found
    return []
