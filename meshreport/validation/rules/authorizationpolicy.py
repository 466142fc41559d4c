"""AuthorizationPolicy rules: workloads it selects, namespaces/principals/hosts it names, mTLS it needs, Ambient."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from meshreport.hosts import wildcard_match
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts
from meshreport.validation.rules._policy import (
    ambient_namespace,
    ambient_selector_hits,
    ambient_waypoint_hits,
    labels_text,
    match_labels,
    mtls_gap,
    owned,
    string_list,
    target_refs,
)

AP = ("AuthorizationPolicy",)
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
MTLS_SOURCE_FIELDS = ("principals", "notPrincipals", "namespaces", "notNamespaces")
MTLS_WHEN_KEYS = ("source.namespace", "source.principal", "connection.sni")
PRINCIPAL = re.compile(r"^(?P<td>[^/]+)/ns/(?P<ns>[^/]+)/sa/(?P<sa>[^/]+)$")


def _sources(obj: ConfigObject) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, r in enumerate(dicts(obj.spec.get("rules"))):
        for j, f in enumerate(dicts(r.get("from"))):
            if isinstance(f.get("source"), dict):
                yield f"spec.rules[{i}].from[{j}].source", f["source"]


def _operations(obj: ConfigObject) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, r in enumerate(dicts(obj.spec.get("rules"))):
        for j, t in enumerate(dicts(r.get("to"))):
            if isinstance(t.get("operation"), dict):
                yield f"spec.rules[{i}].to[{j}].operation", t["operation"]


def _whens(obj: ConfigObject) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, r in enumerate(dicts(obj.spec.get("rules"))):
        for j, w in enumerate(dicts(r.get("when"))):
            yield f"spec.rules[{i}].when[{j}]", w


def is_l7(obj: ConfigObject) -> bool:
    """An AP that needs HTTP attributes (methods, paths, hosts, request principals, request.* conditions)."""
    for _, op in _operations(obj):
        if any(op.get(k) for k in ("methods", "notMethods", "paths", "notPaths", "hosts", "notHosts")):
            return True
    for _, src in _sources(obj):
        if src.get("requestPrincipals") or src.get("notRequestPrincipals"):
            return True
    return any(str(w.get("key") or "").startswith("request.") for _, w in _whens(obj))


@rule(
    code="IST0127",
    kinds=AP,
    severity="warning",
    equivalents=("KIA0004",),
    title="No matching workloads for this AuthorizationPolicy",
    doc="The policy matches no in-mesh workload: in the root namespace its selector may match pods anywhere, "
    "elsewhere it must match in the policy's own namespace, and a policy without a selector needs some in-mesh "
    "workload in its namespace. A pod is in the mesh when it has a sidecar, an injection label or annotation, an "
    "injection-enabled namespace or Ambient redirection. The policy protects nothing until a workload matches. "
    "Policies with targetRefs are not checked; nothing is reported when the input holds no workloads.",
)
def ap_no_matching_workload(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if target_refs(obj) or not ctx.index.has_workloads:
        return
    sel = match_labels(obj)
    root = obj.namespace == ctx.mesh.root_namespace
    scope = None if root else obj.namespace
    if sel:
        candidates = ctx.index.workloads_matching(sel, scope)
    else:
        candidates = ctx.index.workloads if root else ctx.index.workloads_in(obj.namespace)
    if not any(w.in_mesh for w in candidates):
        where = "in the mesh" if root else f"in namespace {obj.namespace!r}"
        labels = f" with the following labels: {labels_text(sel)}" if sel else ""
        yield Hit(f"No matching workloads {where} for this resource{labels}", path="spec.selector" if sel else None)


@rule(
    code="IST0101",
    kinds=AP,
    severity="error",
    equivalents=("KIA0101",),
    title="AuthorizationPolicy source namespace not found",
    doc="A `from.source.namespaces` or `notNamespaces` entry (prefix or suffix `*` allowed) matches no "
    "namespace, so the rule can never match the traffic it was written for. Fix the namespace name.",
)
def ap_source_namespace_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    names = ctx.index.namespace_names
    for path, src in _sources(obj):
        for field in ("namespaces", "notNamespaces"):
            for k, ns in enumerate(string_list(src.get(field))):
                if ns in names or (("*" in ns) and any(wildcard_match(n, ns) for n in names)):
                    continue
                yield Hit(f'Referenced namespace not found: "{ns}"', path=f"{path}.{field}[{k}]")


@rule(
    code="KIA0102",
    kinds=AP,
    severity="warning",
    title="Invalid HTTP method in AuthorizationPolicy",
    doc="A `to.operation.methods` entry is not an HTTP method (exact, `*`, or a `GE*`/`*ET` pattern), so the "
    "rule never matches. Methods are upper-case: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, CONNECT, TRACE.",
)
def ap_invalid_method(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for path, op in _operations(obj):
        for field in ("methods", "notMethods"):
            for k, m in enumerate(string_list(op.get(field))):
                if m == "*" or any(wildcard_match(x, m) for x in HTTP_METHODS):
                    continue
                yield Hit(f"Method {m!r} is not a valid HTTP method", path=f"{path}.{field}[{k}]")


def _vs_hosts(ctx: Context) -> set[str]:
    return {
        ctx.fqdn(str(h), vs.namespace) for vs in ctx.index.of_kind("VirtualService") for h in vs.spec.get("hosts") or ()
    }


@rule(
    code="KIA0104",
    kinds=AP,
    severity="error",
    title="AuthorizationPolicy host not found",
    doc="A `to.operation.hosts` entry matches no Kubernetes Service, ServiceEntry host or VirtualService host, "
    "so the rule matches no request. Error under REGISTRY_ONLY; warning when the mesh allows any outbound "
    "traffic (ALLOW_ANY), as Kiali does.",
)
def ap_host_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sev = "warning" if ctx.mesh.allow_any else None
    vs_hosts = ctx.memo("ap.vs_hosts", _vs_hosts)
    for path, op in _operations(obj):
        for k, host in enumerate(string_list(op.get("hosts"))):
            h = host.rsplit(":", 1)[0] if re.search(r":\d+$", host) else host
            if h in ("*", "") or (h.endswith("*") and not h.startswith("*")):
                continue
            fq = ctx.fqdn(h, obj.namespace)
            if ctx.index.host_exists(fq) or fq in vs_hosts:
                continue
            yield Hit(f"Host {host!r} not found", path=f"{path}.hosts[{k}]", severity=sev)


@rule(
    code="KIA0105",
    kinds=AP,
    severity="error",
    title="AuthorizationPolicy needs mTLS that its workloads do not get",
    doc="The policy uses source principals or namespaces (or `when` keys source.namespace, source.principal, "
    "connection.sni), which are only known from the peer's mTLS certificate, but a workload it applies to does "
    "not get mutual TLS: its PeerAuthentication (mesh, namespace, workload or port level) is DISABLE, or its "
    "clients send plain text (a DestinationRule with tls mode DISABLE, or auto mTLS off without an "
    "ISTIO_MUTUAL DestinationRule). The rule then never matches. Decided by the mTLS resolver "
    "(meshreport/mtls.py) per workload and port; without workloads in the input, the selector's labels stand "
    "for the workload.",
)
def ap_requires_mtls(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    uses = [f"{p}.{f}" for p, src in _sources(obj) for f in MTLS_SOURCE_FIELDS if src.get(f)]
    uses += [f"{p}.key" for p, w in _whens(obj) if str(w.get("key") or "") in MTLS_WHEN_KEYS]
    if not uses:
        return
    sel = match_labels(obj)
    root = obj.namespace == ctx.mesh.root_namespace
    targets = [
        (w.namespace, w.labels, w.obj.ref())
        for w in ctx.index.workloads_matching(sel, None if root else obj.namespace)
        if w.sidecar and not owned(w)
    ]
    if not targets:
        targets = [(obj.namespace, sel, f"workloads with {labels_text(sel)}" if sel else "its workloads")]
    for ns, labels, what in targets:
        gap = mtls_gap(ctx, ns, labels, what)
        if gap:
            yield Hit(f"Authorization policy uses mTLS identity fields but mTLS is not enabled: {gap}", uses[0])
            return


def _principals(ctx: Context) -> set[str]:
    tds = ctx.mesh.trust_domains
    return {f"{td}/ns/{ns}/sa/{sa}" for (ns, sa) in ctx.index.service_accounts for td in tds}


@rule(
    code="KIA0106",
    kinds=AP,
    severity="error",
    title="AuthorizationPolicy principal has no ServiceAccount",
    doc="A `from.source.principals` entry (`<trustDomain>/ns/<namespace>/sa/<serviceaccount>`, `*` allowed at "
    "either end) matches no ServiceAccount, so the rule can match no workload identity. Fix the principal. "
    "Only checked when the input holds ServiceAccounts; foreign trust domains are KIA0108.",
)
def ap_principal_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not ctx.index.service_accounts:
        return
    known = ctx.memo("ap.principals", _principals)
    tds = set(ctx.mesh.trust_domains)
    for path, src in _sources(obj):
        for k, p in enumerate(string_list(src.get("principals"))):
            if p == "*":
                continue
            m = PRINCIPAL.match(p)
            if m and "*" not in m["td"] and m["td"] not in tds:
                continue  # unknown trust domain: KIA0108
            if "*" in p:
                if any(wildcard_match(x, p) for x in known):
                    continue
            elif p in known:
                continue
            if _matches(p, ctx.memo("ap.remote_principals", _remote_principals)):
                continue  # lives on another cluster: KIA0107
            yield Hit(f"Service Account not found for this principal: {p!r}", path=f"{path}.principals[{k}]")


def _remote_principals(ctx: Context) -> set[str]:
    """Principals of ServiceAccounts that exist on another cluster of the run but not on this one."""
    local = ctx.index.service_accounts
    remote = {key for cl in ctx.clusters.names if cl != ctx.cluster for key in ctx.clusters.keys("ServiceAccount", cl)}
    tds = ctx.mesh.trust_domains
    return {f"{td}/ns/{ns}/sa/{sa}" for (ns, sa) in remote - local for td in tds}


def _matches(principal: str, known: set[str]) -> bool:
    if "*" in principal:
        return any(wildcard_match(x, principal) for x in known)
    return principal in known


@rule(
    code="KIA0107",
    kinds=AP,
    severity="info",
    title="AuthorizationPolicy principal's ServiceAccount is only on a remote cluster",
    doc="A `from.source.principals` entry matches no ServiceAccount of the policy's own cluster but one that "
    "exists on another cluster of the mesh. That is fine when the caller really runs there (multi-cluster "
    "with a shared trust domain); it is a mistake when the ServiceAccount was expected locally. Kiali reports "
    "it as info (its 2024 docs say warning). Only checked when the input holds several clusters and "
    "ServiceAccounts; otherwise an unknown principal is KIA0106.",
)
def ap_principal_remote_only(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not ctx.clusters.multi or not ctx.index.service_accounts:
        return
    remote = ctx.memo("ap.remote_principals", _remote_principals)
    if not remote:
        return
    known = ctx.memo("ap.principals", _principals)
    for path, src in _sources(obj):
        for k, p in enumerate(string_list(src.get("principals"))):
            if p == "*" or _matches(p, known):
                continue
            if _matches(p, remote):
                yield Hit(
                    f"Service Account of this principal exists only on a remote cluster: {p!r}",
                    path=f"{path}.principals[{k}]",
                )


@rule(
    code="KIA0108",
    kinds=AP,
    severity="warning",
    title="AuthorizationPolicy principal from an unknown trust domain",
    doc="A `from.source.principals` entry names a trust domain that is neither the mesh trust domain nor one of "
    "its aliases (mesh config trustDomain / trustDomainAliases), so no workload of this mesh can present it.",
)
def ap_unknown_trust_domain(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    tds = set(ctx.mesh.trust_domains)
    for path, src in _sources(obj):
        for k, p in enumerate(string_list(src.get("principals"))):
            m = PRINCIPAL.match(p)
            if m and "*" not in m["td"] and m["td"] not in tds:
                yield Hit(f"Trust domain {m['td']!r} of principal {p!r} is not known", path=f"{path}.principals[{k}]")


@rule(
    code="KIA0109",
    kinds=AP,
    severity="warning",
    title="L7 AuthorizationPolicy in Ambient needs a waypoint",
    doc="An AuthorizationPolicy with HTTP (L7) attributes in an Ambient namespace is enforced only by a waypoint "
    "proxy; ztunnel cannot see HTTP and denies or ignores such rules. Enroll the targeted Service or the "
    "namespace in a waypoint (`istio.io/use-waypoint`) and attach the policy with targetRefs.",
)
def ap_ambient_needs_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if is_l7(obj):
        yield from ambient_waypoint_hits(obj, ctx, "L7 AuthorizationPolicy")


@rule(
    code="KIA0110",
    kinds=AP,
    severity="warning",
    title="L7 AuthorizationPolicy in Ambient uses a selector",
    doc="An AuthorizationPolicy with HTTP (L7) attributes in an Ambient namespace selects workloads with "
    "`selector`, which only sidecars and ztunnel honour; waypoints need `targetRefs` to a Service or Gateway.",
)
def ap_ambient_selector(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if is_l7(obj) and ambient_namespace(ctx, obj.namespace):
        yield from ambient_selector_hits(obj, ctx, "L7 AuthorizationPolicy")
