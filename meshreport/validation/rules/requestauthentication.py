"""RequestAuthentication rules: selectors, Ambient attachment, and istiod's JWKS fetch restriction."""

from __future__ import annotations

from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts
from meshreport.validation.rules._policy import (
    ambient_selector_hits,
    ambient_waypoint_hits,
    labels_text,
    match_labels,
)

RA = ("RequestAuthentication",)
BLOCKED_CIDRS = "BLOCKED_CIDRS_IN_JWKS_URIS"


@rule(
    code="KIA0004",
    kinds=RA,
    severity="warning",
    title="RequestAuthentication selector matches no workload",
    doc="The selector of this RequestAuthentication matches no workload in its namespace, so no JWT is ever "
    "validated by it. Check the labels, or remove the policy. Not reported when the input holds no workloads.",
)
def ra_selector_no_workload(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = match_labels(obj)
    if sel and ctx.index.has_workloads and not ctx.index.workloads_matching(sel, obj.namespace):
        yield Hit(f"No matching workload found for selector {labels_text(sel)}", path="spec.selector.matchLabels")


@rule(
    code="KIA1110",
    kinds=RA,
    severity="warning",
    title="RequestAuthentication in Ambient needs a waypoint",
    doc="JWT validation happens in an Envoy proxy; in an Ambient namespace that is the waypoint, so a "
    "RequestAuthentication whose target is not enrolled in a waypoint (`istio.io/use-waypoint`) is ignored.",
)
def ra_ambient_needs_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from ambient_waypoint_hits(obj, ctx, "RequestAuthentication")


@rule(
    code="KIA1115",
    kinds=RA,
    severity="warning",
    title="RequestAuthentication in Ambient uses a selector",
    doc="In an Ambient namespace a RequestAuthentication must attach to a waypoint with `targetRefs`; a workload "
    "`selector` reaches no proxy there.",
)
def ra_ambient_selector(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from ambient_selector_hits(obj, ctx, "RequestAuthentication")


def _istiod_env(dep: ConfigObject) -> dict[str, bool]:
    """Variable name -> whether it has a non-empty value (stored objects keep only `valueSet`, see least_data)."""
    tmpl = (dep.spec.get("template") or {}).get("spec") or {}
    env: dict[str, bool] = {}
    for c in dicts(tmpl.get("containers")):
        for e in dicts(c.get("env")):
            env[str(e.get("name"))] = bool(e.get("valueSet")) or bool(str(e.get("value") or "").strip())
    return env


@rule(
    code="IST0175",
    kinds=("Deployment",),
    severity="warning",
    title="JWKS URI fetches are unrestricted",
    doc="RequestAuthentications exist, but this istiod Deployment (label app=istiod) does not set "
    "BLOCKED_CIDRS_IN_JWKS_URIS, so a `jwksUri` written by any namespace owner makes istiod fetch from any "
    "address, including internal ones (server-side request forgery). Set the variable to the CIDRs istiod must "
    "never reach, such as the metadata service and cluster-internal ranges.",
)
def istiod_jwks_fetch_unrestricted(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if obj.labels.get("app") != "istiod" or not ctx.index.of_kind("RequestAuthentication"):
        return
    if not _istiod_env(obj).get(BLOCKED_CIDRS, False):
        yield Hit(
            f"RequestAuthentications exist but istiod does not set {BLOCKED_CIDRS}: JWKS URIs may point anywhere",
            path="spec.template.spec.containers",
        )
