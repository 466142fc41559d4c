"""PeerAuthentication rules (Kiali): duplicates, selectors, and mTLS modes against DestinationRule TLS."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.mtls import MTLS_CLIENT_MODES, PLAINTEXT, ClientMode
from meshreport.mtls import peer_mode as mtls_mode
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._policy import has_selector, labels_text, match_labels, mtls_resolver

PA = ("PeerAuthentication",)


def _selectorless_by_ns(ctx: Context) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = defaultdict(list)
    for pa in ctx.index.of_kind("PeerAuthentication"):
        if not has_selector(pa):
            out[pa.namespace].append(pa.name)
    return out


@rule(
    code="KIA0002",
    kinds=PA,
    severity="error",
    title="More than one namespace-wide PeerAuthentication",
    doc="Two or more PeerAuthentications without a selector exist in one namespace. Istio applies only one "
    "(the oldest), so the mTLS mode of the namespace depends on creation order. Keep a single namespace-wide "
    "PeerAuthentication and give the others a selector.",
)
def pa_multiple_selectorless(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if has_selector(obj):
        return
    names = ctx.memo("pa.selectorless", _selectorless_by_ns).get(obj.namespace, [])
    others = sorted(n for n in names if n != obj.name)
    if others:
        yield Hit(
            f"More than one PeerAuthentication without a selector in namespace {obj.namespace!r}: "
            f"also {', '.join(others)}",
            path="spec",
        )


def _pa_by_workload(ctx: Context) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for pa in ctx.index.of_kind("PeerAuthentication"):
        sel = match_labels(pa)
        if sel:
            for w in ctx.index.workloads_matching(sel, pa.namespace):
                out[id(w)].append(pa.name)
    return out


@rule(
    code="KIA0003",
    kinds=PA,
    severity="error",
    title="More than one PeerAuthentication selects the same workload",
    doc="Two or more PeerAuthentications with a selector match the same workload. Only one of them takes "
    "effect, and which one is not obvious from the config. Make the selectors disjoint or merge the policies.",
)
def pa_multiple_match(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = match_labels(obj)
    if not sel:
        return
    by_wl = ctx.memo("pa.by_workload", _pa_by_workload)
    for w in ctx.index.workloads_matching(sel, obj.namespace):
        others = sorted(n for n in by_wl.get(id(w), []) if n != obj.name)
        if others:
            yield Hit(
                f"{w.obj.ref()} is also selected by PeerAuthentication {', '.join(others)}",
                path="spec.selector.matchLabels",
            )
            return


@rule(
    code="KIA0004",
    kinds=PA,
    severity="warning",
    title="PeerAuthentication selector matches no workload",
    doc="The selector of this PeerAuthentication matches no workload in its namespace, so it has no effect. "
    "Check the labels for typos, or remove the policy. Not reported when the input holds no workloads at all.",
)
def pa_selector_no_workload(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = match_labels(obj)
    if sel and ctx.index.has_workloads and not ctx.index.workloads_matching(sel, obj.namespace):
        yield Hit(f"No matching workload found for selector {labels_text(sel)}", path="spec.selector.matchLabels")


def _mesh_wide(obj: ConfigObject, ctx: Context) -> bool:
    return obj.namespace == ctx.mesh.root_namespace and not has_selector(obj)


def _ns_wide(obj: ConfigObject, ctx: Context) -> bool:
    return obj.namespace != ctx.mesh.root_namespace and not has_selector(obj)


def _clients(obj: ConfigObject, ctx: Context, client_ns: str | None = None) -> ClientMode:
    """What clients (of `client_ns`; None: one without DestinationRules of its own) send to a service of the
    policy's scope (any namespace's for a mesh-wide policy)."""
    r = mtls_resolver(ctx)
    ns = None if _mesh_wide(obj, ctx) else obj.namespace
    return r.client_mode(r.namespace_host(ns or "~"), ns, client_ns=client_ns)


def _mtls_sender(obj: ConfigObject, ctx: Context) -> ClientMode | None:
    """A client answer that sends mTLS into the policy's scope: a DestinationRule applies to its own
    namespace's clients too, wherever its host points."""
    for cns in mtls_resolver(ctx).client_namespaces():
        c = _clients(obj, ctx, cns)
        if c.mode in MTLS_CLIENT_MODES:
            return c
    return None


@rule(
    code="KIA0401",
    kinds=PA,
    severity="error",
    title="Mesh-wide STRICT mTLS without a mesh-wide ISTIO_MUTUAL DestinationRule",
    doc="The mesh-wide PeerAuthentication (root namespace, no selector) is STRICT, auto mTLS is off, and no "
    "mesh-wide DestinationRule (host `*.local`) sets a TLS mode. Clients then send plain text that servers "
    "reject. Add the DestinationRule with ISTIO_MUTUAL or turn on enableAutoMtls. (A DestinationRule with "
    "DISABLE is KIA0208.)",
)
def pa_mesh_strict_without_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _mesh_wide(obj, ctx) or mtls_mode(obj) != "STRICT":
        return
    if _clients(obj, ctx).mode == PLAINTEXT:
        yield Hit(
            "Mesh-wide Destination Rule enabling mTLS is missing (mesh-wide PeerAuthentication is STRICT)",
            path="spec.mtls.mode",
        )


@rule(
    code="KIA0501",
    kinds=PA,
    severity="error",
    title="Namespace-wide STRICT mTLS without an ISTIO_MUTUAL DestinationRule",
    doc="A namespace-wide PeerAuthentication is STRICT, auto mTLS is off, and no DestinationRule that applies "
    "to the namespace's services (`*.<ns>.svc.<domain>` in the namespace, or mesh-wide in the root namespace) "
    "sets a TLS mode, so clients do not originate mTLS and their requests are rejected. Add the DestinationRule "
    "with ISTIO_MUTUAL or turn on enableAutoMtls. (A DestinationRule with DISABLE is KIA0207.)",
)
def pa_ns_strict_without_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _ns_wide(obj, ctx) or mtls_mode(obj) != "STRICT":
        return
    if _clients(obj, ctx).mode == PLAINTEXT:
        yield Hit(
            "Destination Rule enabling namespace-wide mTLS is missing (PeerAuthentication is STRICT)",
            path="spec.mtls.mode",
        )


@rule(
    code="KIA0505",
    kinds=PA,
    severity="error",
    title="Namespace-wide mTLS disabled while a DestinationRule enables it",
    doc="A namespace-wide PeerAuthentication sets mTLS to DISABLE, but a DestinationRule some clients use for "
    "the namespace's services (namespace-wide, or else mesh-wide) sets ISTIO_MUTUAL or MUTUAL. Clients send mTLS "
    "to servers that accept only plain text. Align the DestinationRule TLS mode with the policy.",
)
def pa_ns_disable_with_mtls_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _ns_wide(obj, ctx) or mtls_mode(obj) != "DISABLE":
        return
    c = _mtls_sender(obj, ctx)
    if c is not None:
        scope = "mesh-wide" if c.level == "mesh" else "namespace-wide" if c.level == "namespace" else "a"
        yield Hit(
            f"The {scope} Destination Rule ({c.decided_by}) enables mTLS while this PeerAuthentication disables it"
        )


@rule(
    code="KIA0506",
    kinds=PA,
    severity="error",
    title="Mesh-wide mTLS disabled while a mesh-wide DestinationRule enables it",
    doc="The mesh-wide PeerAuthentication sets mTLS to DISABLE, but a mesh-wide DestinationRule (host "
    "`*.local`; in the root namespace it applies to every client, elsewhere to its namespace's clients) sets "
    "ISTIO_MUTUAL or MUTUAL, so clients send mTLS that servers do not accept. Align the two.",
)
def pa_mesh_disable_with_mtls_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _mesh_wide(obj, ctx) and mtls_mode(obj) == "DISABLE" and _mtls_sender(obj, ctx) is not None:
        yield Hit("The mesh-wide Destination Rule enables mTLS while this mesh-wide PeerAuthentication disables it")
