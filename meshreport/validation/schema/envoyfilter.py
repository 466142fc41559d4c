"""EnvoyFilter: config patches line up (applyTo, match, patch), proxy version regex, filter names.

The patch value itself is an Envoy proto; istioctl decodes it against Envoy's descriptors, which
meshreport does not ship, so only its presence is checked.
"""

from __future__ import annotations

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import Issues, get_enum, get_int, get_map, get_maps, get_str
from meshreport.validation.schema.common import alpha_selector
from meshreport.validation.schema.regex import re2_error

HCM = "envoy.filters.network.http_connection_manager"
# Istio's xds.ReverseDeprecatedFilterNames: old name -> current name.
DEPRECATED_FILTERS = {
    "envoy.http_connection_manager": HCM,
    "envoy.tcp_proxy": "envoy.filters.network.tcp_proxy",
    "envoy.router": "envoy.filters.http.router",
    "envoy.cors": "envoy.filters.http.cors",
    "envoy.fault": "envoy.filters.http.fault",
    "envoy.lua": "envoy.filters.http.lua",
    "envoy.ext_authz": "envoy.filters.http.ext_authz",
    "envoy.grpc_web": "envoy.filters.http.grpc_web",
    "envoy.gzip": "envoy.filters.http.gzip",
    "envoy.rate_limit": "envoy.filters.http.ratelimit",
    "envoy.health_check": "envoy.filters.http.health_check",
    "envoy.buffer": "envoy.filters.http.buffer",
    "envoy.mongo_proxy": "envoy.filters.network.mongo_proxy",
    "envoy.redis_proxy": "envoy.filters.network.redis_proxy",
    "envoy.listener.tls_inspector": "envoy.filters.listener.tls_inspector",
    "envoy.listener.http_inspector": "envoy.filters.listener.http_inspector",
    "envoy.listener.original_dst": "envoy.filters.listener.original_dst",
}
_LISTENER_CLASS = ("LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER")
_ROUTE_CLASS = ("ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE")


def envoy_filter(iss: Issues, spec: dict) -> None:
    iss.warn(
        "spec",
        "EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if "
        "possible, and exercise extreme caution, especially around upgrades.",
    )
    if not alpha_selector(iss, spec, "Envoy filter"):
        return
    get_int(iss, spec, "priority", "spec")
    for p, cp in get_maps(iss, spec, "configPatches", "spec"):
        apply_to = get_enum(iss, cp, "applyTo", p, enums.EF_APPLY_TO)
        if apply_to in ("", "INVALID"):
            iss.err(f"{p}.applyTo", "Envoy filter: missing applyTo")
            continue
        patch = get_map(iss, cp, "patch", p)
        if patch is None:
            iss.err(f"{p}.patch", "Envoy filter: missing patch")
            continue
        op = get_enum(iss, patch, "operation", f"{p}.patch", enums.EF_OPERATION)
        get_enum(iss, patch, "filterClass", f"{p}.patch", enums.EF_FILTER_CLASS)
        if op in ("", "INVALID"):
            iss.err(f"{p}.patch.operation", "Envoy filter: missing patch operation")
            continue
        if op != "REMOVE" and patch.get("value") is None:
            iss.err(f"{p}.patch.value", "Envoy filter: missing patch value for non-remove operation")
            continue
        match = get_map(iss, cp, "match", p) or {}
        mp = f"{p}.match"
        get_enum(iss, match, "context", mp, enums.EF_CONTEXT)
        version = get_str(iss, get_map(iss, match, "proxy", mp) or {}, "proxyVersion", f"{mp}.proxy")
        if version and (e := re2_error(version)):
            iss.err(f"{mp}.proxy.proxyVersion", f"Envoy filter: invalid regex for proxy version, [{e}]")
            continue
        objects = [k for k in ("listener", "routeConfiguration", "cluster") if match.get(k) is not None]
        if apply_to in _LISTENER_CLASS and objects:
            if "listener" not in objects:
                iss.err(mp, "Envoy filter: applyTo for listener class objects cannot have non listener match")
                continue
            _listener_match(iss, apply_to, get_map(iss, match, "listener", mp) or {}, f"{mp}.listener")
        elif apply_to in _ROUTE_CLASS and objects and "routeConfiguration" not in objects:
            iss.err(mp, "Envoy filter: applyTo for http route class objects cannot have non route configuration match")
        elif apply_to == "CLUSTER" and objects and "cluster" not in objects:
            iss.err(mp, "Envoy filter: applyTo for cluster class objects cannot have non cluster match")


def _listener_match(iss: Issues, apply_to: str, listener: dict, path: str) -> None:
    chain = get_map(iss, listener, "filterChain", path)
    flt = get_map(iss, chain or {}, "filter", f"{path}.filterChain")
    if flt is None:
        return
    fp = f"{path}.filterChain.filter"
    if apply_to in ("LISTENER", "FILTER_CHAIN"):
        iss.warn(fp, f"Envoy filter: filter match has no effect when used with {apply_to}")
    name = get_str(iss, flt, "name", fp)
    if not name:
        iss.err(fp, "Envoy filter: filter match has no name to match on")
        return
    sub = get_map(iss, flt, "subFilter", fp)
    if sub is not None:
        if apply_to != "HTTP_FILTER":
            iss.err(f"{fp}.subFilter", "Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only")
            return
        if name not in (HCM, "envoy.http_connection_manager"):
            iss.err(f"{fp}.subFilter", f"Envoy filter: subfilter match requires filter match with {HCM}")
            return
        if not get_str(iss, sub, "name", f"{fp}.subFilter"):
            iss.err(f"{fp}.subFilter", "Envoy filter: subfilter match has no name to match on")
            return
    for n, p in ((name, f"{fp}.name"), (str((sub or {}).get("name") or ""), f"{fp}.subFilter.name")):
        if n in DEPRECATED_FILTERS:
            iss.warn(p, f'using deprecated filter name "{n}"; use "{DEPRECATED_FILTERS[n]}" instead')
