"""EnvoyFilter rules: patch operations that Istio ignores or applies in a fragile order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts

EF = ("EnvoyFilter",)
ROUTE_KINDS = ("ROUTE_CONFIGURATION", "HTTP_ROUTE")
REPLACEABLE = ("HTTP_FILTER", "NETWORK_FILTER", "VIRTUAL_HOST")
RELATIVE = ("INSERT_BEFORE", "INSERT_AFTER")


def _patches(obj: ConfigObject) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    for i, p in enumerate(dicts(obj.spec.get("configPatches"))):
        op = str((p.get("patch") or {}).get("operation") or "").upper()
        yield i, str(p.get("applyTo") or "").upper(), op, p


def _filter_name(p: dict[str, Any]) -> str:
    """The filter a patch is about, as istioctl names it: the patch value's `name`, else (for a value without
    one) the listener filter the match names; "" when the patch has no value. Patches with equal names,
    "" included, are the same filter to IST0155."""
    value = (p.get("patch") or {}).get("value")
    if not isinstance(value, dict) or not value:
        return ""
    if "name" in value:
        return str(value["name"])
    f = (((p.get("match") or {}).get("listener") or {}).get("filterChain") or {}).get("filter") or {}
    return str(f.get("name") or "") if isinstance(f, dict) else ""


def _relative(applies: str, op: str) -> bool:
    """INSERT_BEFORE/AFTER, a REPLACE istioctl accepts, or a REMOVE anywhere but on routes."""
    return (
        op in RELATIVE
        or (op == "REPLACE" and applies in REPLACEABLE)
        or (op == "REMOVE" and applies not in ROUTE_KINDS)
    )


@rule(
    code="IST0153",
    kinds=EF,
    severity="error",
    title="EnvoyFilter uses ADD incorrectly",
    doc="A patch uses operation ADD with applyTo ROUTE_CONFIGURATION or HTTP_ROUTE, where Istio ignores ADD. "
    "The patch does nothing. Use MERGE, or patch a VIRTUAL_HOST.",
)
def ef_add_on_route(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, applies, op, _ in _patches(obj):
        if op == "ADD" and applies in ROUTE_KINDS:
            yield Hit(
                f"The ADD operation will be ignored when applyTo is set to {applies} (patch #{i}).",
                path=f"spec.configPatches[{i}].patch.operation",
            )


@rule(
    code="IST0154",
    kinds=EF,
    severity="error",
    title="EnvoyFilter uses REMOVE incorrectly",
    doc="A patch uses operation REMOVE with applyTo ROUTE_CONFIGURATION or HTTP_ROUTE, where Istio ignores it. "
    "The patch does nothing.",
)
def ef_remove_on_route(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, applies, op, _ in _patches(obj):
        if op == "REMOVE" and applies in ROUTE_KINDS:
            yield Hit(
                f"The REMOVE operation will be ignored when applyTo is set to {applies} (patch #{i}).",
                path=f"spec.configPatches[{i}].patch.operation",
            )


@rule(
    code="IST0152",
    kinds=EF,
    severity="error",
    title="EnvoyFilter uses REPLACE incorrectly",
    doc="A patch uses operation REPLACE with an applyTo other than HTTP_FILTER, NETWORK_FILTER or VIRTUAL_HOST. "
    "REPLACE is only supported there; the patch is ignored. Use MERGE or a supported applyTo.",
)
def ef_replace_unsupported(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, applies, op, _ in _patches(obj):
        if op == "REPLACE" and applies not in REPLACEABLE:
            yield Hit(
                f"The REPLACE operation is only valid for HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST, not "
                f"{applies or '(unset)'} (patch #{i}).",
                path=f"spec.configPatches[{i}].patch.operation",
            )


def _proxy_version_order(ctx: Context) -> list[tuple[int, int, str]]:
    """(object position, patch index, filter name) of every patch matching on proxyVersion, in input order."""
    out = []
    for pos, ef in enumerate(ctx.index.of_kind("EnvoyFilter")):
        for i, _, _, p in _patches(ef):
            name = _filter_name(p)
            if ((p.get("match") or {}).get("proxy") or {}).get("proxyVersion"):
                out.append((pos, i, name))
    return out


def _after_proxy_version(obj: ConfigObject, i: int, p: dict[str, Any], ctx: Context) -> bool:
    name = _filter_name(p)
    pos = ctx.memo("envoyfilter.pos", lambda c: {id(e): k for k, e in enumerate(c.index.of_kind("EnvoyFilter"))})[
        id(obj)
    ]
    return any(n == name and (ppos, pi) < (pos, i) for ppos, pi, n in ctx.memo("envoyfilter.pv", _proxy_version_order))


def _unprioritised_relative(obj: ConfigObject) -> Iterator[tuple[int, str, dict[str, Any]]]:
    if obj.spec.get("priority"):
        return
    for i, applies, op, p in _patches(obj):
        if _relative(applies, op):
            yield i, op, p


@rule(
    code="IST0151",
    kinds=EF,
    severity="warning",
    title="EnvoyFilter uses a relative operation without priority",
    doc="A patch uses a relative operation (INSERT_BEFORE, INSERT_AFTER, REPLACE of an HTTP or network filter or "
    "virtual host, or REMOVE of anything but a route) and the EnvoyFilter sets no `priority`. The result "
    "depends on the order EnvoyFilters are applied in, so the patch "
    "may silently not apply. Use INSERT_FIRST or ADD, or set a priority.",
)
def ef_relative_without_priority(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, op, p in _unprioritised_relative(obj):
        if not _after_proxy_version(obj, i, p, ctx):
            yield Hit(
                f"This EnvoyFilter does not have a priority and has a relative patch operation ({op}) set which can "
                "cause the EnvoyFilter not to be applied. Using the INSERT_FIRST or ADD option or setting the "
                "priority may help in ensuring the EnvoyFilter is applied correctly.",
                path=f"spec.configPatches[{i}].patch.operation",
            )


@rule(
    code="IST0155",
    kinds=EF,
    severity="warning",
    title="EnvoyFilter uses a relative operation on a proxyVersion-matched filter",
    doc="Like IST0151, and an earlier patch (in this or an earlier EnvoyFilter) on the same filter matches on "
    "`proxy.proxyVersion`; the filter is the patch value's `name`, else the listener filter the match names, as "
    "istioctl compares them. During an "
    "upgrade, proxies of the other version do not get that earlier patch and this relative patch lands in the "
    "wrong place or not at all. Set a priority or use INSERT_FIRST/ADD.",
)
def ef_relative_with_proxy_version(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, op, p in _unprioritised_relative(obj):
        if _after_proxy_version(obj, i, p, ctx):
            yield Hit(
                f"This EnvoyFilter does not have a priority and has a relative patch operation ({op}) on filter "
                f'"{_filter_name(p)}", which an earlier patch matches with proxyVersion. This can cause the '
                "EnvoyFilter not to be applied during an upgrade. Setting the priority may help.",
                path=f"spec.configPatches[{i}].patch.operation",
            )
