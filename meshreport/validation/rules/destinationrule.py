"""DestinationRule rules: host and subsets against services and workloads, TLS origination, mTLS consistency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.hosts import hosts_overlap, suffixes
from meshreport.mtls import ServerMode
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import (
    USE_WAYPOINT,
    ambient_services,
    dicts,
    export_to_hits,
    imported,
    ns_ambient,
    waypoint_enrolled,
)
from meshreport.validation.rules._policy import mtls_resolver

DR = ("DestinationRule",)
MTLS_MODES = ("ISTIO_MUTUAL", "MUTUAL")


def _host(obj: ConfigObject, ctx: Context) -> str:
    return ctx.fqdn(str(obj.spec.get("host") or ""), obj.namespace)


def _mesh_wide_host(host: str, ctx: Context) -> bool:
    return host in ("*.local", f"*.{ctx.index.domain}", f"*.svc.{ctx.index.domain}")


def _ns_wide_host(host: str, ctx: Context) -> str | None:
    """`*.<ns>.svc.<domain>` -> ns."""
    tail = f".svc.{ctx.index.domain}"
    if host.startswith("*.") and host.endswith(tail):
        ns = host[2 : -len(tail)]
        return ns if ns and "." not in ns else None
    return None


def _tls_mode(obj: ConfigObject) -> str | None:
    tls = (obj.spec.get("trafficPolicy") or {}).get("tls")
    return str(tls.get("mode") or "").upper() if isinstance(tls, dict) else None


def _has_tls(obj: ConfigObject) -> bool:
    tp = obj.spec.get("trafficPolicy") or {}
    return isinstance(tp.get("tls"), dict) or any(
        isinstance(p.get("tls"), dict) for p in dicts(tp.get("portLevelSettings"))
    )


@rule(
    code="IST0174",
    kinds=DR,
    severity="warning",
    equivalents=("KIA0202",),
    title="DestinationRule host not found",
    doc="The DestinationRule's `host` matches no Service or ServiceEntry visible from the DestinationRule's "
    "namespace (short names resolve in the DestinationRule's namespace; wildcard hosts must cover at least one). "
    "Its traffic policy and subsets apply to nothing. Fix the host, or create or export the service.",
)
def dr_host_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    raw = str(obj.spec.get("host") or "")
    if not raw:
        return
    host = _host(obj, ctx)
    if _mesh_wide_host(host, ctx) or ctx.index.resolve_host(host, obj.namespace):
        return
    # Kiali also accepts a same-namespace workload whose `app` label is the host's short name.
    if "." not in raw and ctx.index.workloads_matching({"app": raw}, obj.namespace):
        return
    yield Hit(f'Referenced host not found: "{raw}"', path="spec.host")


def _subset_targets(obj: ConfigObject, ctx: Context) -> list[tuple[str | None, dict[str, str]]] | None:
    """(namespace, base selector) pairs a subset's labels are matched in; None when not decidable."""
    targets = ctx.index.resolve_host(_host(obj, ctx), obj.namespace)
    if not targets:
        return None
    out: list[tuple[str | None, dict[str, str]]] = []
    for t in targets:
        if t.kind == "Service":
            sel = t.obj.spec.get("selector")
            if not sel:
                return None  # selector-less Service: endpoints are managed by hand
            out.append((t.namespace, {str(k): str(v) for k, v in sel.items()}))
        else:
            sel = (t.obj.spec.get("workloadSelector") or {}).get("labels")
            if not sel:
                return None  # an external ServiceEntry: its endpoints are not workloads
            out.append((t.namespace, {str(k): str(v) for k, v in sel.items()}))
    return out


# Node labels Istio adds to a pod's own before matching subsets (pilot's AugmentLabels).
TOPOLOGY_LABELS = ("topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone")
HOSTNAME_LABEL = "kubernetes.io/hostname"


def _augmented(ctx: Context) -> dict[int, dict[str, str]]:
    """id(workload object) -> its labels plus, for a Pod on a known Node, the node's non-empty region, zone
    and subzone (a part after an empty one is dropped, as LocalityToString does) and the node name."""

    def build(c: Context) -> dict[int, dict[str, str]]:
        nodes = {n.name: n.labels for n in c.index.of_kind("Node")}
        out = {}
        for w in c.index.workloads:
            labels = {str(k): str(v) for k, v in w.labels.items()}
            node = str(w.obj.spec.get("nodeName") or "") if w.is_pod else ""
            if node:
                node_labels = nodes.get(node, {})
                for key in TOPOLOGY_LABELS:
                    value = str(node_labels.get(key) or "")
                    if not value:
                        break
                    labels[key] = value
                labels[HOSTNAME_LABEL] = node
            out[id(w.obj)] = labels
        return out

    return ctx.memo("destinationrule.augmented_labels", build)


def _selects(ctx: Context, namespace: str | None, want: dict[str, str]) -> bool:
    labels = _augmented(ctx)
    return any(
        all(k in have and have[k] == v for k, v in want.items())
        for w in ctx.index.workloads_in(namespace)
        if (have := labels.get(id(w.obj))) is not None
    )


@rule(
    code="IST0173",
    kinds=DR,
    severity="error",
    equivalents=("KIA0203",),
    title="DestinationRule subset selects no pods",
    doc="A subset's labels, combined with the selector of the host's Service (or the ServiceEntry's "
    "workloadSelector), match no pod or workload. As in istioctl, a pod's labels count together with its "
    "node's topology labels (region, zone, subzone; empty ones do not count) and `kubernetes.io/hostname`, so "
    "subsets by locality work. Requests routed to the subset fail with 503 NoHealthyUpstream. Fix the subset "
    "labels or deploy the missing version. Not checked when the input holds no workloads at all, or when the "
    "host is a selector-less Service or an external ServiceEntry.",
)
def dr_subset_no_pods(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not ctx.index.has_workloads:
        return
    subsets = dicts(obj.spec.get("subsets"))
    if not subsets:
        return
    targets = _subset_targets(obj, ctx)
    if targets is None:
        return
    for i, s in enumerate(subsets):
        labels = {str(k): str(v) for k, v in (s.get("labels") or {}).items()}
        if not labels:
            continue  # KIA0209
        if not any(_selects(ctx, ns, {**base, **labels}) for ns, base in targets):
            yield Hit(
                f"The Subset {s.get('name')} defined in the DestinationRule does not select any pods, which may "
                "lead to 503 UH (NoHealthyUpstream).",
                path=f"spec.subsets[{i}].labels",
            )


def _ca_missing(tls: dict, obj: ConfigObject) -> bool:
    mode = str(tls.get("mode") or "").upper()
    if mode not in ("SIMPLE", "MUTUAL") or tls.get("caCertificates") or tls.get("insecureSkipVerify"):
        return False
    return not (tls.get("credentialName") and obj.spec.get("workloadSelector"))


@rule(
    code="IST0128",
    kinds=DR,
    severity="warning",
    title="No server certificate verification (destination level)",
    doc="The DestinationRule originates TLS (mode SIMPLE or MUTUAL) with no `caCertificates`, so the server's "
    "certificate is not verified and a man-in-the-middle goes unnoticed. Set `caCertificates` (or "
    "`credentialName` with a workloadSelector).",
)
def dr_no_ca_destination(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    tls = (obj.spec.get("trafficPolicy") or {}).get("tls")
    if isinstance(tls, dict) and _ca_missing(tls, obj):
        yield Hit(
            f"DestinationRule {obj.namespace}/{obj.name} has TLS mode set to {str(tls.get('mode')).upper()} but "
            f"no caCertificates are set to validate server identity for host: {obj.spec.get('host')}",
            path="spec.trafficPolicy.tls",
        )


@rule(
    code="IST0129",
    kinds=DR,
    severity="warning",
    title="No server certificate verification (port level)",
    doc="Like IST0128, for a `portLevelSettings` TLS setting: TLS mode SIMPLE or MUTUAL without "
    "`caCertificates`, so the server certificate on that port is not verified.",
)
def dr_no_ca_port(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, p in enumerate(dicts((obj.spec.get("trafficPolicy") or {}).get("portLevelSettings"))):
        tls = p.get("tls")
        if isinstance(tls, dict) and _ca_missing(tls, obj):
            port = (p.get("port") or {}).get("number")
            yield Hit(
                f"DestinationRule {obj.namespace}/{obj.name} has TLS mode set to {str(tls.get('mode')).upper()} "
                f"but no caCertificates are set to validate server identity for host: {obj.spec.get('host')} at "
                f"port {port}",
                path=f"spec.trafficPolicy.portLevelSettings[{i}].tls",
            )


def _dr_by_suffix(ctx: Context) -> dict[str, list[ConfigObject]]:
    out: dict[str, list[ConfigObject]] = defaultdict(list)
    for dr in ctx.index.of_kind("DestinationRule"):
        h = _host(dr, ctx)
        for s in [h.lstrip("*.")] + suffixes(h.lstrip("*.")) if h.startswith("*.") else suffixes(h):
            out[s].append(dr)
    return out


def _overlapping_drs(obj: ConfigObject, ctx: Context) -> list[ConfigObject]:
    host = _host(obj, ctx)
    if host.startswith("*."):
        cands = ctx.memo("destinationrule.by_suffix", _dr_by_suffix).get(host[2:], [])
        cands = cands + [d for d in ctx.index.destination_rules_for(host) if d not in cands]
    else:
        cands = ctx.index.destination_rules_for(host)
    return [d for d in cands if d is not obj and hosts_overlap(host, _host(d, ctx))]


def _policy_wide(dr: ConfigObject, ctx: Context) -> bool:
    h = _host(dr, ctx)
    return _mesh_wide_host(h, ctx) or _ns_wide_host(h, ctx) is not None


@rule(
    code="KIA0201",
    kinds=DR,
    severity="warning",
    title="More than one DestinationRule for the same host subset",
    doc="Another DestinationRule with an overlapping host (equal, or covered by a wildcard) defines the same "
    "subset, or one of the two defines no subsets at all. Istio merges them in an undefined order and one "
    "definition is silently ignored. Keep one DestinationRule per host. Mesh-wide and namespace-wide "
    "DestinationRules (`*.local`, `*.<ns>.svc.<domain>`) are exempt.",
)
def dr_multi_match(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _policy_wide(obj, ctx) or not obj.spec.get("host") or not imported(ctx, obj):
        return
    mine = {str(s.get("name")) for s in dicts(obj.spec.get("subsets"))}
    for other in _overlapping_drs(obj, ctx):
        if _policy_wide(other, ctx) or not imported(ctx, other, obj.namespace):
            continue
        theirs = {str(s.get("name")) for s in dicts(other.spec.get("subsets"))}
        if not mine or not theirs or mine & theirs:
            what = ", ".join(sorted(mine & theirs)) or "all subsets"
            yield Hit(
                f"More than one DestinationRules for the same host subset combination ({what}): also "
                f"{other.namespace}/{other.name}",
                path="spec.host",
            )


def _service_ns(host: str, obj: ConfigObject, ctx: Context) -> str | None:
    """The namespace of `<name>.<ns>.svc.<domain>`; the DR's own for other hosts (ServiceEntries)."""
    tail = f".svc.{ctx.index.domain}"
    parts = host[: -len(tail)].split(".") if host.endswith(tail) else []
    return parts[1] if len(parts) == 2 else obj.namespace


@rule(
    code="KIA0204",
    kinds=DR,
    severity="warning",
    title="mTLS settings of a mesh-wide or namespace-wide DestinationRule are overridden",
    doc="This DestinationRule sets no TLS, and without it clients of its namespace would use another "
    "DestinationRule (mesh-wide `*.local`, namespace-wide `*.<ns>.svc.<domain>`, or one for the same host) "
    "that sets ISTIO_MUTUAL. The most specific DestinationRule replaces the wider one completely, so traffic to "
    "this host is sent in plain text unless auto mTLS applies. Add `trafficPolicy.tls.mode: ISTIO_MUTUAL` here. "
    "Which rule would apply is decided by the mTLS resolver, as istiod picks it.",
)
def dr_tls_overridden(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    host = _host(obj, ctx)
    if not obj.spec.get("host") or host.startswith("*") or _has_tls(obj) or not imported(ctx, obj):
        return
    r = mtls_resolver(ctx)
    wider = r.destination_rule(host, _service_ns(host, obj, ctx), obj.namespace, exclude=obj)
    if wider is not None and _tls_mode(wider) == "ISTIO_MUTUAL":
        yield Hit(
            f"mTLS settings of a non-local DestinationRule ({wider.namespace}/{wider.name}) are overridden",
            path="spec.trafficPolicy",
        )


def _enabled_by_policy(mode: ServerMode) -> bool:
    """Kiali's test: a PeerAuthentication (not Istio's built-in default) lets the servers take mTLS."""
    return mode.level != "default" and mode.mode in ("STRICT", "PERMISSIVE")


@rule(
    code="KIA0205",
    kinds=DR,
    severity="error",
    title="Mesh-wide mTLS DestinationRule without a mesh-wide PeerAuthentication",
    doc="A mesh-wide DestinationRule (`*.local`) makes clients send ISTIO_MUTUAL, but no mesh-wide "
    "PeerAuthentication (root namespace, no selector) enables mTLS (STRICT or PERMISSIVE). Add one: Istio's "
    "built-in PERMISSIVE default accepts the traffic, but the intent is then nowhere in the config (Kiali's "
    "rule), and a DISABLE policy rejects it. Skipped when auto mTLS is on (the mesh default).",
)
def dr_mesh_mtls_without_pa(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if ctx.mesh.enable_auto_mtls or not _mesh_wide_host(_host(obj, ctx), ctx) or _tls_mode(obj) != "ISTIO_MUTUAL":
        return
    if not _enabled_by_policy(mtls_resolver(ctx).mesh_mode()):
        yield Hit("PeerAuthentication enabling mTLS at mesh level is missing", path="spec.trafficPolicy.tls.mode")


@rule(
    code="KIA0206",
    kinds=DR,
    severity="error",
    title="Namespace-wide mTLS DestinationRule without a PeerAuthentication enabling mTLS",
    doc="A namespace-wide DestinationRule (`*.<ns>.svc.<domain>`) sets ISTIO_MUTUAL but the PeerAuthentication "
    "deciding the namespace's mode (namespace-wide, else mesh-wide) does not enable mTLS (STRICT or "
    "PERMISSIVE), or there is none. Add one. Skipped when auto mTLS is on.",
)
def dr_ns_mtls_without_pa(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    ns = _ns_wide_host(_host(obj, ctx), ctx)
    if ctx.mesh.enable_auto_mtls or ns is None or _tls_mode(obj) != "ISTIO_MUTUAL":
        return
    if not _enabled_by_policy(mtls_resolver(ctx).namespace_mode(ns)):
        yield Hit("PeerAuthentication enabling namespace-wide mTLS is missing", path="spec.trafficPolicy.tls.mode")


@rule(
    code="KIA0207",
    kinds=DR,
    severity="error",
    title="Namespace-wide DestinationRule disables mTLS while the namespace PeerAuthentication is STRICT",
    doc="A namespace-wide DestinationRule sets tls mode DISABLE, so clients send plain text, while the "
    "namespace's own PeerAuthentication decides STRICT and rejects it. Use PERMISSIVE in the PeerAuthentication "
    "or ISTIO_MUTUAL in the DestinationRule. (STRICT inherited from the mesh is KIA0208.)",
)
def dr_ns_disable_vs_strict(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    ns = _ns_wide_host(_host(obj, ctx), ctx)
    if ns is None or _tls_mode(obj) != "DISABLE":
        return
    mode = mtls_resolver(ctx).namespace_mode(ns)
    if mode.mode == "STRICT" and mode.level == "namespace":
        yield Hit(
            f"PeerAuthentication with strict mTLS is enabled for this namespace ({mode.decided_by}); "
            "it should be permissive",
            path="spec.trafficPolicy.tls.mode",
        )


@rule(
    code="KIA0208",
    kinds=DR,
    severity="error",
    title="DestinationRule disables mTLS while the mesh-wide PeerAuthentication is STRICT",
    doc="A mesh-wide DestinationRule sets tls mode DISABLE while the mesh-wide PeerAuthentication is STRICT; or "
    "a namespace-wide one does in a namespace that inherits STRICT from the mesh (no namespace PeerAuthentication "
    "of its own sets a mode). Servers reject the plain-text traffic. Make the modes agree.",
)
def dr_disable_vs_mesh_strict(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _tls_mode(obj) != "DISABLE":
        return
    host = _host(obj, ctx)
    r = mtls_resolver(ctx)
    ns = _ns_wide_host(host, ctx)
    if _mesh_wide_host(host, ctx):
        mode = r.mesh_mode()
    elif ns is not None:
        mode = r.namespace_mode(ns)
    else:
        return
    if mode.mode == "STRICT" and mode.level == "mesh":
        yield Hit(
            "PeerAuthentication with strict mTLS is enabled mesh-wide; this DestinationRule disables mTLS",
            path="spec.trafficPolicy.tls.mode",
        )


@rule(
    code="KIA0209",
    kinds=DR,
    severity="warning",
    title="DestinationRule subset has no labels",
    doc="A subset without labels selects every endpoint of the host, so it is not a subset at all; usually the "
    "labels were forgotten. Reported as info when another subset of the same DestinationRule has labels that "
    "match workloads (Kiali's rule).",
)
def dr_subset_no_labels(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    subsets = dicts(obj.spec.get("subsets"))
    other_matches: bool | None = None
    for i, s in enumerate(subsets):
        if s.get("labels"):
            continue
        if other_matches is None:
            other_matches = any(
                ctx.index.workloads_matching({str(k): str(v) for k, v in o["labels"].items()}, None)
                for o in subsets
                if isinstance(o.get("labels"), dict) and o["labels"]
            )
        yield Hit(
            f"This subset ({s.get('name')}) has no labels",
            path=f"spec.subsets[{i}]",
            severity="info" if other_matches else None,
        )


@rule(
    code="KIA0005",
    kinds=DR,
    severity="error",
    title="exportTo namespace not found",
    doc="An `exportTo` entry names a namespace that does not exist (entries `.`, `*` and `~` are always valid). "
    "The DestinationRule is not visible where it was meant to be. Fix the namespace name.",
)
def dr_export_to_namespace(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from export_to_hits(obj, ctx)


def _l7_dr(obj: ConfigObject) -> bool:
    tp = obj.spec.get("trafficPolicy") or {}
    http_pool = isinstance(tp.get("connectionPool"), dict) and "http" in tp["connectionPool"]
    return (
        bool(dicts(obj.spec.get("subsets"))) or any(k in tp for k in ("loadBalancer", "outlierDetection")) or http_pool
    )


def _dr_services(obj: ConfigObject, ctx: Context) -> list[ConfigObject]:
    host = str(obj.spec.get("host") or "")
    return ambient_services(ctx, [host], obj.namespace) if host and not host.startswith("*") else []


@rule(
    code="KIA0210",
    kinds=DR,
    severity="warning",
    title="L7 DestinationRule in an ambient namespace without a waypoint",
    doc="A DestinationRule with L7 features (subsets, load balancing, outlier detection, HTTP connection pool) "
    "lives in an ambient namespace whose services are not enrolled to a waypoint. Only a waypoint applies L7 "
    "policy in ambient mode, so these settings are ignored. Enroll the namespace or service to a waypoint.",
)
def dr_ambient_without_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _l7_dr(obj) or not ns_ambient(ctx, obj.namespace):
        return
    if ctx.index.namespace_labels.get(obj.namespace or "", {}).get(USE_WAYPOINT, "none") != "none":
        return
    services = _dr_services(obj, ctx)
    if not any(waypoint_enrolled(ctx, s) for s in services):
        yield Hit("DestinationRule with L7 settings in an ambient namespace requires a waypoint", path="spec")


@rule(
    code="KIA0211",
    kinds=DR,
    severity="warning",
    title="L7 DestinationRule targets a service not enrolled to a waypoint",
    doc="A DestinationRule with L7 features targets a Service in another, ambient, namespace that is not enrolled "
    "to a waypoint (`istio.io/use-waypoint` on the Service or its namespace), so its L7 settings do nothing. "
    "Enroll the Service to a waypoint.",
)
def dr_target_not_enrolled(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _l7_dr(obj):
        return
    for svc in _dr_services(obj, ctx):
        if svc.namespace != obj.namespace and not waypoint_enrolled(ctx, svc):
            yield Hit(f"Service {svc.namespace}/{svc.name} is not enrolled to a waypoint", path="spec.host")


@rule(
    code="KIA0212",
    kinds=DR,
    severity="warning",
    title="L7 DestinationRule not in the namespace of its ambient service",
    doc="A DestinationRule with L7 features targets a waypoint-enrolled ambient Service in another namespace. "
    "Waypoints apply DestinationRules from the Service's namespace (or the root namespace); move it there.",
)
def dr_not_in_service_namespace(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _l7_dr(obj) or obj.namespace == ctx.mesh.root_namespace:
        return
    for svc in _dr_services(obj, ctx):
        if svc.namespace != obj.namespace and waypoint_enrolled(ctx, svc):
            yield Hit(
                f"DestinationRule should be in the namespace of the destination service {svc.namespace}/{svc.name}",
                path="spec.host",
            )
