"""Telemetry rules (istioctl telemetry analyzers and Kiali's Ambient checks)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts
from meshreport.validation.rules._policy import (
    ambient_selector_hits,
    ambient_waypoint_hits,
    has_selector,
    labels_text,
    match_labels,
    target_refs,
)

TEL = ("Telemetry",)


@rule(
    code="IST0101",
    kinds=TEL,
    severity="error",
    title="Telemetry selector matches no pod",
    doc="The selector of this Telemetry matches no workload in its namespace, so its metrics, logging and "
    "tracing settings apply nowhere. Fix the labels. Not reported when the input holds no workloads.",
)
def telemetry_selector_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = match_labels(obj)
    if sel and ctx.index.has_workloads and not ctx.index.workloads_matching(sel, obj.namespace):
        yield Hit(f'Referenced selector not found: "{labels_text(sel)}"', path="spec.selector")


def _by_workload(ctx: Context) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for t in ctx.index.of_kind("Telemetry"):
        sel = match_labels(t)
        if sel:
            for w in ctx.index.workloads_matching(sel, t.namespace):
                out[id(w)].append(t.name)
    return out


@rule(
    code="IST0159",
    kinds=TEL,
    severity="error",
    title="Conflicting Telemetry workload selectors",
    doc="A workload is selected by more than one Telemetry with a selector; Istio uses only one of them and "
    "which one is not defined. Make the selectors disjoint or merge the resources.",
)
def telemetry_conflicting_selectors(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = match_labels(obj)
    if not sel:
        return
    by_wl = ctx.memo("telemetry.by_workload", _by_workload)
    for w in ctx.index.workloads_matching(sel, obj.namespace):
        names = by_wl.get(id(w), [])
        if len(names) > 1:
            yield Hit(
                f"The Telemetries {', '.join(sorted(names))} in namespace {obj.namespace!r} select the same "
                f"workload {w.obj.ref()}",
                path="spec.selector",
            )
            return


def _selectorless(ctx: Context) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = defaultdict(list)
    for t in ctx.index.of_kind("Telemetry"):
        if not has_selector(t) and not target_refs(t):
            out[t.namespace].append(t.name)
    return out


@rule(
    code="IST0160",
    kinds=TEL,
    severity="error",
    title="Multiple Telemetries without workload selectors",
    doc="More than one Telemetry without a selector (or targetRefs) exists in the namespace; only one "
    "namespace-wide Telemetry takes effect. Keep one and merge the others into it.",
)
def telemetry_multiple_selectorless(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if has_selector(obj) or target_refs(obj):
        return
    names = ctx.memo("telemetry.selectorless", _selectorless).get(obj.namespace, [])
    if len(names) > 1:
        yield Hit(
            f"The Telemetries {', '.join(sorted(names))} in namespace {obj.namespace!r} have no workload selector"
        )


@rule(
    code="IST0157",
    kinds=TEL,
    severity="warning",
    title="Telemetry access logging without a provider",
    doc="An accessLogging entry is enabled but names no provider, and the mesh config sets no default "
    "access-logging provider (defaultProviders.accessLogging), so the entry is ignored and nothing is logged. "
    "Name a provider, such as `envoy`, or set a mesh default.",
)
def telemetry_access_log_no_provider(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if ctx.mesh.default_access_log_providers:
        return
    for i, al in enumerate(dicts(obj.spec.get("accessLogging"))):
        if al.get("disabled") is True or dicts(al.get("providers")):
            continue
        yield Hit(
            "Access logging is enabled without a provider and the mesh has no default access-logging provider",
            path=f"spec.accessLogging[{i}]",
        )


def _lightstep_providers(ctx: Context) -> set[str]:
    return {str(p.get("name")) for p in ctx.mesh.extension_providers if isinstance(p, dict) and "lightstep" in p}


@rule(
    code="IST0002",
    kinds=TEL,
    severity="warning",
    title="Deprecated Lightstep tracing provider",
    doc="A tracing entry uses a mesh extension provider of type lightstep, which Istio deprecated; Lightstep "
    "accepts OpenTelemetry, so switch the provider to `opentelemetry`.",
)
def telemetry_lightstep_deprecated(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    lightstep = ctx.memo("telemetry.lightstep", _lightstep_providers)
    if not lightstep:
        return
    for i, tr in enumerate(dicts(obj.spec.get("tracing"))):
        for j, p in enumerate(dicts(tr.get("providers"))):
            if str(p.get("name")) in lightstep:
                yield Hit(
                    f"The Lightstep provider {p.get('name')!r} is deprecated; use OpenTelemetry instead",
                    path=f"spec.tracing[{i}].providers[{j}]",
                )


@rule(
    code="KIA1112",
    kinds=TEL,
    severity="warning",
    title="Telemetry in Ambient needs a waypoint",
    doc="L7 telemetry (request metrics, access logs, tracing) in an Ambient namespace is produced by the "
    "waypoint; a Telemetry whose target is not enrolled in a waypoint (`istio.io/use-waypoint`) has no effect "
    "on L7 data.",
)
def telemetry_ambient_needs_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from ambient_waypoint_hits(obj, ctx, "Telemetry")


@rule(
    code="KIA1117",
    kinds=TEL,
    severity="warning",
    title="Telemetry in Ambient uses a selector",
    doc="In an Ambient namespace a Telemetry must attach to a waypoint with `targetRefs`; a workload `selector` "
    "reaches no Envoy proxy there.",
)
def telemetry_ambient_selector(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from ambient_selector_hits(obj, ctx, "Telemetry")
