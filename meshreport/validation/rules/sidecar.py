"""Sidecar rules: workload selection (none, several, ambient), egress hosts, root-namespace and mode settings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.hosts import split_namespaced_host
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import as_list, dicts

SC = ("Sidecar",)


def _selector(obj: ConfigObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((obj.spec.get("workloadSelector") or {}).get("labels") or {}).items()}


@rule(
    code="IST0101",
    kinds=SC,
    severity="error",
    equivalents=("KIA0004",),
    title="Sidecar workload selector matches no pods",
    doc="The Sidecar's `workloadSelector` matches no pod or workload in its namespace, so it configures nothing. "
    "Fix the labels or remove the Sidecar. Not checked when the input holds no workloads at all.",
)
def sidecar_selector_no_pods(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = _selector(obj)
    if sel and ctx.index.has_workloads and not ctx.index.workloads_matching(sel, obj.namespace):
        text = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
        yield Hit(f'Referenced selector not found: "{text}"', path="spec.workloadSelector.labels")


def _by_ns(ctx: Context) -> dict[str | None, list[ConfigObject]]:
    out: dict[str | None, list[ConfigObject]] = defaultdict(list)
    for sc in ctx.index.of_kind("Sidecar"):
        if _selector(sc):
            out[sc.namespace].append(sc)
    return out


@rule(
    code="IST0110",
    kinds=SC,
    severity="error",
    equivalents=("KIA0003",),
    title="Conflicting Sidecar workload selectors",
    doc="A pod is selected by more than one Sidecar in its namespace. Istio applies only one of them, chosen "
    "arbitrarily, so the pod's proxy configuration is undefined. Make the selectors disjoint or merge the "
    "Sidecars.",
)
def sidecar_conflicting_selectors(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = _selector(obj)
    if not sel:
        return
    others = [s for s in ctx.memo("sidecar.by_ns", _by_ns).get(obj.namespace, []) if s is not obj]
    if not others:
        return
    for w in ctx.index.workloads_matching(sel, obj.namespace):
        clash = sorted(s.name for s in others if all(w.labels.get(k) == v for k, v in _selector(s).items()))
        if clash:
            names = ", ".join(sorted([obj.name, *clash]))
            yield Hit(
                f'The Sidecars {names} in namespace "{obj.namespace}" select the same workload "{w.obj.name}", '
                "which can lead to undefined behavior.",
                path="spec.workloadSelector",
            )


@rule(
    code="IST0111",
    kinds=SC,
    severity="error",
    equivalents=("KIA0002",),
    title="Multiple Sidecars without workload selectors",
    doc="More than one Sidecar in the namespace has no workload selector. Only one namespace-wide Sidecar can "
    "apply; which one is undefined. Keep one.",
)
def sidecar_multiple_default(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _selector(obj):
        return
    defaults = [s.name for s in ctx.index.in_namespace("Sidecar", obj.namespace) if not _selector(s)]
    if len(defaults) > 1:
        yield Hit(
            f'The Sidecars {", ".join(sorted(defaults))} in namespace "{obj.namespace}" have no workload selector, '
            "which can lead to undefined behavior."
        )


@rule(
    code="IST0167",
    kinds=SC,
    severity="warning",
    title="Ineffective Sidecar in ambient mode",
    doc="The Sidecar selects a pod running in ambient mode, or is a namespace-wide Sidecar in an ambient "
    "namespace. Ambient pods have no sidecar proxy, so the Sidecar has no effect.",
)
def sidecar_ineffective(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = _selector(obj)
    if not sel:
        if ctx.index.namespace_injection(obj.namespace) == "ambient":
            yield Hit(f'The policy has no impact: namespace "{obj.namespace}" is in ambient mode.')
        return
    for w in ctx.index.workloads_matching(sel, obj.namespace):
        if w.ambient:
            yield Hit(f'The policy has no impact: it selects workload "{w.obj.name}", which runs in ambient mode.')


@rule(
    code="KIA1004",
    kinds=SC,
    severity="warning",
    title="Sidecar egress host not found",
    doc="An `egress[].hosts` entry (`namespace/host`) matches no Service or ServiceEntry in the service registry, "
    "so it imports nothing. Fix the host or namespace. Entries whose host is `*` are exempt.",
)
def sidecar_egress_host_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, e in enumerate(dicts(obj.spec.get("egress"))):
        for j, raw in enumerate(as_list(e.get("hosts"))):
            ns, host = split_namespaced_host(str(raw))
            if host == "*" or ns == "~":
                continue
            scope_ns = obj.namespace if ns in (None, ".") else (None if ns == "*" else ns)
            fq = ctx.fqdn(host, scope_ns) if scope_ns else host.lower()
            targets = ctx.index.resolve_host(fq)
            if scope_ns is not None and "." in host:
                targets = [t for t in targets if t.namespace == scope_ns or t.kind == "ServiceEntry"]
            if not targets:
                yield Hit(
                    f'This host has no matching entry in the service registry: "{raw}"',
                    path=f"spec.egress[{i}].hosts[{j}]",
                )


@rule(
    code="KIA1006",
    kinds=SC,
    severity="warning",
    title="Root-namespace Sidecar with a workload selector",
    doc="A Sidecar in the mesh root namespace is the mesh-wide default and must not have a `workloadSelector`; "
    "with one, it is not a default and selects only pods in the root namespace. Remove the selector or move "
    "the Sidecar.",
)
def sidecar_root_ns_selector(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if obj.namespace == ctx.mesh.root_namespace and _selector(obj):
        yield Hit("Global default sidecar should not have workloadSelector", path="spec.workloadSelector")


@rule(
    code="KIA1007",
    kinds=SC,
    severity="info",
    title="Sidecar outboundTrafficPolicy without a mode",
    doc="`outboundTrafficPolicy` is present but sets no `mode`, which is ambiguous: the mesh default applies. "
    "Set `mode: ALLOW_ANY` or `REGISTRY_ONLY` explicitly, or remove the block.",
)
def sidecar_empty_outbound_mode(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    otp = obj.spec.get("outboundTrafficPolicy")
    if "outboundTrafficPolicy" in obj.spec and not (isinstance(otp, dict) and otp.get("mode")):
        yield Hit("outboundTrafficPolicy has no mode; the mesh default applies", path="spec.outboundTrafficPolicy")


@rule(
    code="IST0002",
    kinds=SC,
    severity="warning",
    title="Deprecated field: outboundTrafficPolicy.egressProxy",
    doc="`outboundTrafficPolicy.egressProxy` is deprecated and ignored by Istio; traffic is not sent to the egress "
    "proxy it names. Route egress through an egress gateway with a VirtualService instead.",
)
def sidecar_egress_proxy_deprecated(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    otp = obj.spec.get("outboundTrafficPolicy")
    if isinstance(otp, dict) and otp.get("egressProxy"):
        yield Hit(
            'Deprecated: "outboundTrafficPolicy.egressProxy" is deprecated and ignored',
            path="spec.outboundTrafficPolicy.egressProxy",
        )
