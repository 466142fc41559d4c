"""PeerAuthentication rules (Kiali): duplicates, selectors, and mTLS modes against DestinationRule TLS."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._policy import has_selector, labels_text, match_labels, mtls_mode, mtls_state

PA = ("PeerAuthentication",)
MTLS_MODES = ("ISTIO_MUTUAL", "MUTUAL")


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


@rule(
    code="KIA0401",
    kinds=PA,
    severity="error",
    title="Mesh-wide STRICT mTLS without a mesh-wide ISTIO_MUTUAL DestinationRule",
    doc="The mesh-wide PeerAuthentication (root namespace, no selector) is STRICT, auto mTLS is off, and no "
    "mesh-wide DestinationRule (host `*.local`) sets tls mode ISTIO_MUTUAL. Clients then send plain text that "
    "servers reject. Add the DestinationRule or turn on enableAutoMtls.",
)
def pa_mesh_strict_without_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _mesh_wide(obj, ctx) or mtls_mode(obj) != "STRICT" or ctx.mesh.enable_auto_mtls:
        return
    if "ISTIO_MUTUAL" not in mtls_state(ctx).mesh_dr:
        yield Hit(
            "Mesh-wide Destination Rule enabling mTLS is missing (mesh-wide PeerAuthentication is STRICT)",
            path="spec.mtls.mode",
        )


@rule(
    code="KIA0501",
    kinds=PA,
    severity="error",
    title="Namespace-wide STRICT mTLS without an ISTIO_MUTUAL DestinationRule",
    doc="A namespace-wide PeerAuthentication is STRICT, auto mTLS is off, and neither a namespace-wide "
    "(`*.<ns>.svc.<domain>`) nor a mesh-wide DestinationRule sets ISTIO_MUTUAL, so clients do not originate "
    "mTLS and their requests are rejected. Add the DestinationRule or turn on enableAutoMtls.",
)
def pa_ns_strict_without_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _ns_wide(obj, ctx) or mtls_mode(obj) != "STRICT" or ctx.mesh.enable_auto_mtls:
        return
    st = mtls_state(ctx)
    if "ISTIO_MUTUAL" not in st.ns_dr.get(obj.namespace or "", set()) and "ISTIO_MUTUAL" not in st.mesh_dr:
        yield Hit(
            "Destination Rule enabling namespace-wide mTLS is missing (PeerAuthentication is STRICT)",
            path="spec.mtls.mode",
        )


@rule(
    code="KIA0505",
    kinds=PA,
    severity="error",
    title="Namespace-wide mTLS disabled while a DestinationRule enables it",
    doc="A namespace-wide PeerAuthentication sets mTLS to DISABLE, but a namespace-wide DestinationRule "
    "(or, without a namespace DISABLE DestinationRule, a mesh-wide one) makes clients originate mTLS. Clients "
    "send mTLS to servers that accept only plain text. Align the DestinationRule TLS mode with the policy.",
)
def pa_ns_disable_with_mtls_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _ns_wide(obj, ctx) or mtls_mode(obj) != "DISABLE":
        return
    st = mtls_state(ctx)
    ns_modes = st.ns_dr.get(obj.namespace or "", set())
    if ns_modes & set(MTLS_MODES):
        yield Hit("A namespace-wide Destination Rule enables mTLS while this PeerAuthentication disables it")
    elif "DISABLE" not in ns_modes and st.mesh_dr & set(MTLS_MODES):
        yield Hit("The mesh-wide Destination Rule enables mTLS while this PeerAuthentication disables it")


@rule(
    code="KIA0506",
    kinds=PA,
    severity="error",
    title="Mesh-wide mTLS disabled while a mesh-wide DestinationRule enables it",
    doc="The mesh-wide PeerAuthentication sets mTLS to DISABLE, but a mesh-wide DestinationRule (host "
    "`*.local`) sets ISTIO_MUTUAL or MUTUAL, so clients send mTLS that servers do not accept. Align the two.",
)
def pa_mesh_disable_with_mtls_dr(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _mesh_wide(obj, ctx) and mtls_mode(obj) == "DISABLE" and mtls_state(ctx).mesh_dr & set(MTLS_MODES):
        yield Hit("The mesh-wide Destination Rule enables mTLS while this mesh-wide PeerAuthentication disables it")
