"""VirtualService rules: destinations, subsets, gateways, host conflicts, route shape."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.hosts import hosts_overlap, selector_matches, split_namespaced_host
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import (
    USE_WAYPOINT,
    ambient_services,
    as_list,
    dicts,
    export_to_hits,
    gateway_ref,
    imported,
    istioctl_targets,
    ns_ambient,
    vs_bound_to_mesh,
    vs_destinations,
    vs_gateways,
    waypoint_enrolled,
)
from meshreport.validation.rules._default_ingress import (
    DEFAULT_INGRESS_LABELS,
    dummy_ingress_pod,
    dummy_ingress_selected,
)
from meshreport.validation.rules._route_shadowing import INEFFECTIVE, UNREACHABLE, shadowed

VS = ("VirtualService",)


@rule(
    code="IST0101",
    kinds=VS,
    severity="error",
    equivalents=("KIA1101",),
    title="Referenced host not found",
    doc="A route or mirror destination host (or a route entry with no destination) matches no Kubernetes "
    "Service or ServiceEntry that is exported to every namespace or, as istioctl looks, visible from the "
    "namespaces the VirtualService is exported to (its own namespace when it has no exportTo; short names "
    "resolved in the VirtualService's namespace). Traffic for that route fails with 503 (or leaves the mesh "
    "under ALLOW_ANY). Fix the host name, create the Service or a ServiceEntry, or export it to those "
    "namespaces.",
)
def vs_destination_host_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for path, mirror in _destinations_without_host(obj):
        yield Hit(f'Referenced {"mirror host" if mirror else "host"} not found: ""', path=path)
    for d in vs_destinations(obj):
        if d.host and not istioctl_targets(ctx, obj, d.host):
            what = "mirror host" if d.mirror else "host"
            yield Hit(f'Referenced {what} not found: "{d.host}"', path=f"{d.path}.host")


def _destinations_without_host(obj: ConfigObject) -> Iterator[tuple[str, bool]]:
    """(path, is a mirror) of route and mirror entries with no destination host, which istioctl looks up as ""."""
    for proto in ("http", "tcp", "tls"):
        for i, r in enumerate(dicts(obj.spec.get(proto))):
            entries = [(f"spec.{proto}[{i}].route[{j}]", d, False) for j, d in enumerate(as_list(r.get("route")))]
            if proto == "http":
                entries += [(f"spec.http[{i}].mirrors[{k}]", m, True) for k, m in enumerate(as_list(r.get("mirrors")))]
            for path, entry, mirror in entries:
                dest = entry.get("destination") if isinstance(entry, dict) else None
                if not isinstance(dest, dict) or not dest.get("host"):
                    yield path, mirror


@rule(
    code="IST0112",
    kinds=VS,
    severity="error",
    title="Destination port required for a multi-port service",
    doc="A route destination has no port while the Service or ServiceEntry it goes to exposes several ports, "
    "so Istio cannot tell which port the route is for. Add `destination.port.number`.",
)
def vs_destination_port_required(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for d in vs_destinations(obj):
        if not d.host or d.port is not None:
            continue
        targets = istioctl_targets(ctx, obj, d.host)
        if targets and len({p.number for p in targets[0].ports}) > 1:
            yield Hit(
                f'This VirtualService routes to a service "{d.host}" that exposes multiple ports. Specifying a '
                "port in the destination is required to disambiguate.",
                path=d.path,
            )


@rule(
    code="IST0101",
    kinds=VS,
    severity="error",
    title="Referenced host:port not found",
    doc="A route destination names a port that the destination Service or ServiceEntry does not expose. "
    "The route never matches a listener and its traffic fails. Use one of the service's port numbers.",
)
def vs_destination_port_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for d in vs_destinations(obj):
        if not d.host or d.port is None:
            continue
        targets = istioctl_targets(ctx, obj, d.host)
        if targets and not any(p.number == d.port for t in targets for p in t.ports):
            yield Hit(f'Referenced host:port not found: "{d.host}:{d.port}"', path=f"{d.path}.port.number")


@rule(
    code="IST0101",
    kinds=VS,
    severity="error",
    equivalents=("KIA1107",),
    title="Referenced subset not found",
    doc="A route or mirror destination names a subset that no DestinationRule for that host defines. Envoy has "
    "no cluster for it and the route returns 503. Define the subset in the host's DestinationRule or fix the "
    "subset name.",
)
def vs_subset_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for d in vs_destinations(obj):
        if not d.host or not d.subset:
            continue
        host = ctx.fqdn(d.host, obj.namespace)
        subsets = {
            str(s.get("name")) for dr in ctx.index.destination_rules_for(host) for s in dicts(dr.spec.get("subsets"))
        }
        if d.subset not in subsets:
            what = "mirror+subset" if d.mirror else "host+subset"
            yield Hit(
                f'Referenced {what} in destinationrule not found: "{d.host}+{d.subset}"',
                path=f"{d.path}.subset",
            )


def _spec_gateway_refs(obj: ConfigObject) -> Iterator[tuple[str, str]]:
    """`spec.gateways`: the references istioctl's GatewayAnalyzer checks."""
    for i, g in enumerate(vs_gateways(obj)):
        yield g, f"spec.gateways[{i}]"


def _match_gateway_refs(obj: ConfigObject) -> Iterator[tuple[str, str]]:
    """The `gateways` of http matches, which only Kiali checks."""
    for i, r in enumerate(dicts(obj.spec.get("http"))):
        for j, m in enumerate(dicts(r.get("match"))):
            for k, g in enumerate(as_list(m.get("gateways"))):
                yield str(g), f"spec.http[{i}].match[{j}].gateways[{k}]"


def _gateway_refs(obj: ConfigObject) -> Iterator[tuple[str, str]]:
    yield from _spec_gateway_refs(obj)
    yield from _match_gateway_refs(obj)


INTERNAL_GATEWAY_MARK = "~istio-autogenerated-k8s-gateway~"


def _internal(ref: str) -> bool:
    """An Istio-generated gateway name (`<ns>/<gw>~istio-autogenerated-k8s-gateway~<listener>`)."""
    return INTERNAL_GATEWAY_MARK in ref.split("/", 1)[-1]


def _gateway_exists(ctx: Context, ref: str, vs_ns: str | None) -> bool:
    ns, name = gateway_ref(ref, vs_ns)
    return ctx.index.gateway(ns, name) is not None or ctx.index.k8s_gateway(ns, name) is not None


@rule(
    code="IST0101",
    kinds=VS,
    severity="error",
    equivalents=("KIA1102",),
    title="Referenced gateway not found",
    doc="`spec.gateways` names a gateway that exists neither as an Istio Gateway nor as a Gateway API Gateway. "
    "The VirtualService is not applied to any gateway listener. Fix the `namespace/name` reference or create "
    "the Gateway. `mesh` is always valid; Istio-generated internal names are IST0165 instead.",
)
def vs_gateway_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for ref, path in _spec_gateway_refs(obj):
        if ref == "mesh" or _internal(ref):
            continue
        if not _gateway_exists(ctx, ref, obj.namespace):
            yield Hit(f'Referenced gateway not found: "{ref}"', path=path)


@rule(
    code="KIA1102",
    kinds=VS,
    severity="error",
    title="Gateway of an http match not found",
    doc="An http match's `gateways` names a gateway that exists neither as an Istio Gateway nor as a Gateway "
    "API Gateway, so the match never applies. Kiali checks these (istioctl checks only `spec.gateways`, "
    "IST0101). Fix the reference or create the Gateway.",
)
def vs_match_gateway_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for ref, path in _match_gateway_refs(obj):
        if ref != "mesh" and not _gateway_exists(ctx, ref, obj.namespace):
            yield Hit("VirtualService is pointing to a non-existent gateway", path=path)


@rule(
    code="IST0165",
    kinds=VS,
    severity="warning",
    title="Referenced internal gateway",
    doc="`spec.gateways` names a gateway Istio generates internally for Gateway API gateways "
    "(`<gateway>~istio-autogenerated-k8s-gateway~<listener>`). Those names are an implementation detail and "
    "may change; bind routes to the Gateway API Gateway with an HTTPRoute instead.",
)
def vs_internal_gateway(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for ref, path in _spec_gateway_refs(obj):
        if _internal(ref):
            yield Hit(
                f"Gateway reference in VirtualService {obj.namespace}/{obj.name} is to an implementation-generated "
                f"internal Gateway: {ref}.",
                path=path,
            )


@rule(
    code="KIA1108",
    kinds=VS,
    severity="info",
    title="Gateway reference uses the old name.namespace form",
    doc="A gateway is referenced as `name.namespace` (optionally with `.svc.<domain>`), the form older Istio "
    "releases used. Istio still resolves it, but `namespace/name` is the supported form; use it.",
)
def vs_gateway_old_form(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for ref, path in _gateway_refs(obj):
        if "/" not in ref and "." in ref:
            ns, name = gateway_ref(ref, obj.namespace)
            yield Hit(f'Gateway reference "{ref}" uses the old form; use "{ns}/{name}"', path=path)


def _server_hosts(gw: ConfigObject) -> list[tuple[str | None, str]]:
    out = []
    for s in dicts(gw.spec.get("servers")):
        for h in as_list(s.get("hosts")):
            ns, host = split_namespaced_host(str(h))
            out.append((gw.namespace if ns == "." else ns, host))
    return out


@rule(
    code="IST0132",
    kinds=VS,
    severity="warning",
    title="VirtualService host not found in gateway",
    doc="None of the VirtualService's hosts appear among the hosts of a gateway it binds to (Istio Gateway "
    "server hosts, with their `namespace/` scopes, or Gateway API listener hostnames). The gateway never "
    "routes requests with this VirtualService. Add the host to the gateway or fix the VirtualService hosts. "
    "Checked for `spec.gateways`, like istioctl, which also reports it for a gateway that does not exist.",
)
def vs_host_not_in_gateway(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    hosts = [str(h) for h in as_list(obj.spec.get("hosts"))]
    for ref, path in _spec_gateway_refs(obj):
        if ref == "mesh" or _internal(ref):
            continue
        ns, name = gateway_ref(ref, obj.namespace)
        gw = ctx.index.gateway(ns, name)
        kgw = ctx.index.k8s_gateway(ns, name) if gw is None else None
        if kgw is not None:
            listeners = dicts(kgw.spec.get("listeners"))
            if any(not li.get("hostname") for li in listeners):
                continue  # a listener without a hostname takes every host
            allowed = [str(li["hostname"]) for li in listeners]
        else:
            server_hosts = _server_hosts(gw) if gw is not None else []
            allowed = [sh for sns, sh in server_hosts if sns in (None, "*", obj.namespace)]
        if not any(hosts_overlap(h.lower(), sh.lower()) for h in hosts for sh in allowed):
            yield Hit(
                f"one or more host {hosts} defined in VirtualService {obj.namespace}/{obj.name} not found in "
                f"Gateway {ns}/{name}.",
                path=path,
            )


def _mesh_host_scopes(vs: ConfigObject) -> list[str]:
    """The scopes istioctl files a mesh VirtualService's hosts under: `*` when it sets no exportTo or
    includes `*`, else each exportTo entry (`.` as its own namespace)."""
    export_to = [str(e) for e in as_list(vs.spec.get("exportTo"))]
    if not export_to or "*" in export_to:
        return ["*"]
    return sorted({vs.namespace or "" if e == "." else e for e in export_to})


def _mesh_host_conflicts(ctx: Context) -> dict[int, tuple[list[ConfigObject], str]]:
    """id(VirtualService) -> (the VirtualServices it conflicts with, `scope/host`), the first conflict found,
    following istioctl's ConflictingMeshGatewayHostsAnalyzer: mesh-bound VirtualServices keyed by (scope, host);
    a key held by two or more conflicts, and a namespace scope also takes in `*`-scoped VirtualServices whose
    host matches (wildcards included). Each VirtualService is reported once."""
    table: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
    for vs in ctx.index.of_kind("VirtualService"):
        if not vs_bound_to_mesh(vs):
            continue
        for scope in _mesh_host_scopes(vs):
            for h in as_list(vs.spec.get("hosts")):
                h = str(h)
                fqdn = h if h.startswith("*") or "." in h else ctx.fqdn(h, vs.namespace)
                table[(scope, fqdn)].append(vs)
    keys = sorted(table)
    out: dict[int, tuple[list[ConfigObject], str]] = {}
    for scope, fqdn in keys:
        group = list(table[(scope, fqdn)])
        if scope != "*":
            for other_scope, other in keys:
                if other_scope == "*" and hosts_overlap(fqdn, other):
                    group += table[(other_scope, other)]
        if len(group) > 1:
            for vs in group:
                out.setdefault(id(vs), (group, f"{scope}/{fqdn}"))
    return out


@rule(
    code="IST0109",
    kinds=VS,
    severity="error",
    equivalents=("KIA1106",),
    title="Conflicting mesh gateway VirtualService hosts",
    doc="Two or more VirtualServices bound to the `mesh` gateway claim the same host in the same exportTo scope, "
    "as istioctl scopes them: `*` when exportTo is unset or includes `*`, else each namespace it lists; a "
    "VirtualService exported to `*` also conflicts with a namespace-scoped one whose host it matches (wildcards "
    "included). VirtualServices exported to disjoint namespaces do not conflict. Sidecars merge conflicting ones "
    "in an undefined order, so routing can change between pushes. Merge them into one VirtualService (or use "
    "delegation). Reported once per VirtualService.",
)
def vs_conflicting_mesh_hosts(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    found = ctx.memo("virtualservice.mesh_host_conflicts", _mesh_host_conflicts).get(id(obj))
    if found:
        group, scoped = found
        names = ",".join(sorted(f"{v.namespace}/{v.name}" for v in group))
        yield Hit(
            f"The VirtualServices {names} associated with mesh gateway define the same host {scoped} which can "
            "lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a "
            "single resource.",
            path="spec.hosts",
        )


def _gateway_hosts(ctx: Context) -> dict[tuple[str | None, str, str], list[ConfigObject]]:
    out: dict[tuple[str | None, str, str], list[ConfigObject]] = defaultdict(list)
    for vs in ctx.index.of_kind("VirtualService"):
        for g in vs_gateways(vs):
            if g == "mesh":
                continue
            ns, name = gateway_ref(g, vs.namespace)
            for h in {ctx.fqdn(str(h), vs.namespace) for h in as_list(vs.spec.get("hosts"))}:
                out[(ns, name, h)].append(vs)
    return out


@rule(
    code="KIA1106",
    kinds=VS,
    severity="warning",
    title="More than one VirtualService for the same host on a gateway",
    doc="Two or more VirtualServices bound to the same (non-mesh) gateway declare the same host. The gateway "
    "merges them and only the first match wins, so routes in the other VirtualService may never apply. Merge "
    "them or use distinct hosts. (The mesh-gateway case is istioctl's IST0109.)",
)
def vs_conflicting_gateway_hosts(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not imported(ctx, obj):
        return
    table = ctx.memo("virtualservice.gateway_hosts", _gateway_hosts)
    for g in sorted(set(vs_gateways(obj)) - {"mesh"}):
        ns, name = gateway_ref(g, obj.namespace)
        for h in sorted({ctx.fqdn(str(h), obj.namespace) for h in as_list(obj.spec.get("hosts"))}):
            others = [v for v in table.get((ns, name, h), ()) if v is not obj and imported(ctx, v, obj.namespace)]
            if others:
                names = ",".join(sorted(f"{v.namespace}/{v.name}" for v in others))
                yield Hit(f'More than one VirtualService for host "{h}" on gateway {ns}/{name}: also {names}')


def _subset_routed(ctx: Context) -> dict[str, list[ConfigObject]]:
    out: dict[str, list[ConfigObject]] = defaultdict(list)
    for vs in ctx.index.of_kind("VirtualService"):
        for d in vs_destinations(vs):
            if d.subset and d.host:
                h = ctx.fqdn(d.host, vs.namespace)
                if vs not in out[h]:
                    out[h].append(vs)
    return out


@rule(
    code="IST0140",
    kinds=VS,
    severity="warning",
    title="Subset routing does not apply to gateway traffic",
    doc="A gateway-bound VirtualService routes to a host without a subset, while another VirtualService routes "
    "that host by subset. Subset routing in a mesh VirtualService does not apply to traffic that arrives "
    "through the gateway, so gateway traffic is spread over all versions. Add the subsets to the gateway route "
    "or bind the subset-routing VirtualService to the gateway too.",
)
def vs_ingress_subset_ignored(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not (set(vs_gateways(obj)) - {"mesh"}):
        return
    table = ctx.memo("virtualservice.subset_routed", _subset_routed)
    for d in vs_destinations(obj):
        if d.protocol != "http" or d.subset or not d.host or d.mirror:
            continue
        others = [v for v in table.get(ctx.fqdn(d.host, obj.namespace), ()) if v is not obj]
        if others:
            o = others[0]
            yield Hit(
                f'The host "{d.host}" is routed by subset in VirtualService {o.namespace}/{o.name}, but this '
                "gateway route has no subset: the subset routing does not apply to traffic through the gateway.",
                path=d.path,
            )


CLAIM_PREFIX = "@request.auth.claims"


@rule(
    code="IST0149",
    kinds=VS,
    severity="error",
    title="JWT claim based routing without request authentication",
    doc="The VirtualService matches on `@request.auth.claims.*` headers and binds to an Istio Gateway, but a "
    "gateway pod has no RequestAuthentication (in the root namespace or the pod's namespace, selecting the pod). "
    "Without one the claims are never populated and the route never matches. Add a RequestAuthentication. "
    "`withoutHeaders` on claims count too, and an input without ingress pods has istioctl's default ingress "
    "pod for the `istio: ingressgateway` selector.",
)
def vs_jwt_claim_without_requestauthn(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    uses_claims = any(
        str(k).startswith(CLAIM_PREFIX)
        for r in dicts(obj.spec.get("http"))
        for m in dicts(r.get("match"))
        for field in ("headers", "withoutHeaders")
        for k in (m.get(field) if isinstance(m.get(field), dict) else {})
    )
    if not uses_claims:
        return
    for g in vs_gateways(obj):
        if g == "mesh":
            continue
        ns, name = gateway_ref(g, obj.namespace)
        gw = ctx.index.gateway(ns, name)
        if gw is None:
            continue
        selector = {str(k): str(v) for k, v in (gw.spec.get("selector") or {}).items()}
        selected = ctx.index.workloads_matching(selector)
        pods = [(w.namespace, w.obj.name, w.labels) for w in [w for w in selected if w.is_pod] or selected]
        if not pods and dummy_ingress_selected(selector, ctx):
            pods = [(ctx.mesh.root_namespace, dummy_ingress_pod(ctx), DEFAULT_INGRESS_LABELS)]
        for pod_ns, pod_name, labels in pods:
            ras = ctx.index.in_namespace("RequestAuthentication", ctx.mesh.root_namespace) + (
                ctx.index.in_namespace("RequestAuthentication", pod_ns) if pod_ns != ctx.mesh.root_namespace else []
            )
            if not any(selector_matches((ra.spec.get("selector") or {}).get("matchLabels"), labels) for ra in ras):
                yield Hit(
                    f"This VirtualService uses JWT claim based routing, but workload {pod_ns}/{pod_name} "
                    f"of gateway {ns}/{name} has no RequestAuthentication: add one for the routing to work.",
                    path="spec.gateways",
                )


@rule(
    code="IST0002",
    kinds=VS,
    severity="warning",
    title="Deprecated field: fault.delay.percent",
    doc="`http[].fault.delay.percent` is deprecated; Istio uses `percentage.value`. Replace it before the field "
    "is removed.",
)
def vs_deprecated_fault_percent(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, r in enumerate(dicts(obj.spec.get("http"))):
        delay = (r.get("fault") or {}).get("delay") if isinstance(r.get("fault"), dict) else None
        if isinstance(delay, dict) and "percent" in delay:
            yield Hit(
                'Deprecated: "fault.delay.percent" is deprecated; use "percentage"',
                path=f"spec.http[{i}].fault.delay.percent",
            )


@rule(
    code="KIA1104",
    kinds=VS,
    severity="warning",
    title="Single destination with a weight below 100",
    doc="A route has exactly one destination and gives it a weight strictly between 0 and 100. With one "
    "destination the weight has no effect (all traffic goes there), which usually means a second destination "
    "was forgotten. Remove the weight or add the missing destination.",
)
def vs_single_weight(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for proto in ("http", "tcp", "tls"):
        for i, r in enumerate(dicts(obj.spec.get(proto))):
            routes = dicts(r.get("route"))
            if len(routes) == 1:
                w = routes[0].get("weight")
                if isinstance(w, int) and 0 < w < 100:
                    yield Hit("Weight sum should be 100", path=f"spec.{proto}[{i}].route[0].weight")


@rule(
    code="KIA1105",
    kinds=VS,
    severity="warning",
    title="Duplicate destination in one route",
    doc="The same host and subset appear twice among one route's destinations. The weights are split between "
    "identical destinations, which is almost always a copy-paste mistake (typically the subset was not changed).",
)
def vs_duplicate_destination(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for proto in ("http", "tcp", "tls"):
        for i, r in enumerate(dicts(obj.spec.get(proto))):
            seen: set[tuple[str, str]] = set()
            for j, d in enumerate(dicts(r.get("route"))):
                dest = d.get("destination") or {}
                key = (ctx.fqdn(str(dest.get("host") or ""), obj.namespace), str(dest.get("subset") or ""))
                if key in seen:
                    yield Hit(
                        "This host subset combination is already referenced in another route destination",
                        path=f"spec.{proto}[{i}].route[{j}].destination",
                    )
                seen.add(key)


@rule(
    code="IST0130",
    kinds=VS,
    severity="warning",
    title="VirtualService rule never used",
    doc="An http, tcp or tls rule can never be reached: an earlier rule of the same kind has no match (it catches "
    "everything, so only the last rule may have no match), or every match of this rule repeats a match of "
    "earlier rules. Reorder the rules or remove the "
    "unreachable one.",
)
def vs_unreachable_rule(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for s in shadowed(obj.spec):
        if s.what == UNREACHABLE:
            yield Hit(s.message, path=s.path)


@rule(
    code="IST0131",
    kinds=VS,
    severity="info",
    title="VirtualService match is ineffective",
    doc="A match clause of an http, tcp or tls rule repeats an earlier match (fields left at their default and an "
    "http match's `name` do not count), or, for http, an earlier URI-prefix match covers it: a shorter prefix "
    "with the same port and the same or a covering method, authority, headers, query parameters and "
    "withoutHeaders. It never selects any request. Remove it or change it.",
)
def vs_ineffective_match(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for s in shadowed(obj.spec):
        if s.what == INEFFECTIVE:
            yield Hit(s.message, path=s.path)


@rule(
    code="KIA0005",
    kinds=VS,
    severity="error",
    title="exportTo namespace not found",
    doc="An `exportTo` entry names a namespace that does not exist (entries `.`, `*` and `~` are always valid). "
    "The object is not visible where it was meant to be. Fix the namespace name or create the namespace.",
)
def vs_export_to_namespace(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from export_to_hits(obj, ctx)


def _l7_mesh_vs(obj: ConfigObject) -> bool:
    return vs_bound_to_mesh(obj) and bool(dicts(obj.spec.get("http")))


def _vs_hosts(obj: ConfigObject) -> list[str]:
    return [str(h) for h in as_list(obj.spec.get("hosts"))]


@rule(
    code="KIA1109",
    kinds=VS,
    severity="warning",
    title="L7 VirtualService in an ambient namespace without a waypoint",
    doc="An http (L7) VirtualService for mesh traffic lives in an ambient namespace, but neither the namespace nor "
    "the services it routes carry `istio.io/use-waypoint`. In ambient mode L7 routing is done by a waypoint "
    "proxy; without one the routes are ignored. Deploy a waypoint and enroll the namespace or services.",
)
def vs_ambient_without_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _l7_mesh_vs(obj) or not ns_ambient(ctx, obj.namespace):
        return
    if ctx.index.namespace_labels.get(obj.namespace or "", {}).get(USE_WAYPOINT, "none") != "none":
        return
    services = ambient_services(ctx, _vs_hosts(obj), obj.namespace)
    if not any(waypoint_enrolled(ctx, s) for s in services):
        yield Hit("VirtualService with L7 routes in an ambient namespace requires a waypoint", path="spec.http")


@rule(
    code="KIA1113",
    kinds=VS,
    severity="warning",
    title="L7 VirtualService targets a service not enrolled to a waypoint",
    doc="An http (L7) VirtualService for mesh traffic routes a host whose Service runs in an ambient namespace in "
    "another namespace, and that Service is not enrolled to a waypoint (`istio.io/use-waypoint` on the Service or "
    "its namespace). Its L7 routes have no effect. Enroll the Service to a waypoint.",
)
def vs_target_not_enrolled(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _l7_mesh_vs(obj):
        return
    for svc in ambient_services(ctx, _vs_hosts(obj), obj.namespace):
        if svc.namespace != obj.namespace and not waypoint_enrolled(ctx, svc):
            yield Hit(f"Service {svc.namespace}/{svc.name} is not enrolled to a waypoint", path="spec.hosts")


@rule(
    code="KIA1114",
    kinds=VS,
    severity="warning",
    title="L7 VirtualService not in the namespace of its ambient service",
    doc="An http (L7) VirtualService for mesh traffic targets a waypoint-enrolled Service in ambient mode but lives "
    "in a different namespace. Waypoints only apply routes from the Service's own namespace (or the root "
    "namespace), so move the VirtualService next to the Service.",
)
def vs_not_in_service_namespace(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _l7_mesh_vs(obj) or obj.namespace == ctx.mesh.root_namespace:
        return
    for svc in ambient_services(ctx, _vs_hosts(obj), obj.namespace):
        if svc.namespace != obj.namespace and waypoint_enrolled(ctx, svc):
            yield Hit(
                f"VirtualService should be in the namespace of the destination service {svc.namespace}/{svc.name}",
                path="spec.hosts",
            )
