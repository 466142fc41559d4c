"""AuthorizationPolicy, RequestAuthentication and PeerAuthentication (security.istio.io)."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import (
    Issues,
    duration,
    get_enum,
    get_list,
    get_map,
    get_maps,
    get_str,
    get_strs,
    ip_subnet,
    strict_header_name,
    workload_selector,
)
from meshreport.validation.schema.common import policy_target

_SOURCE = ("principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "serviceAccounts")
_SOURCE_ALL = _SOURCE + tuple("not" + k[0].upper() + k[1:] for k in _SOURCE)
_TCP_SOURCE = tuple(k for k in _SOURCE_ALL if "equestPrincipals" not in k)
_OPERATION = ("ports", "methods", "paths", "hosts")
_OPERATION_ALL = _OPERATION + tuple("not" + k[0].upper() + k[1:] for k in _OPERATION)
_CUSTOM_UNSUPPORTED = {
    "namespaces": "From.Namespaces",
    "notNamespaces": "From.NotNamespaces",
    "serviceAccounts": "From.ServiceAccounts",
    "notServiceAccounts": "From.NotServiceAccounts",
    "principals": "From.Principals",
    "notPrincipals": "From.NotPrincipals",
    "requestPrincipals": "From.RequestPrincipals",
    "notRequestPrincipals": "From.NotRequestPrincipals",
}
_PLAIN_KEYS = {
    "source.namespace",
    "source.principal",
    "source.serviceAccount",
    "request.auth.principal",
    "request.auth.audiences",
    "request.auth.presenter",
    "connection.sni",
}
_IP_KEYS = {"source.ip", "remote.ip", "destination.ip"}


def _cap(k: str) -> str:
    return k[0].upper() + k[1:]


def authorization_policy(iss: Issues, spec: dict, name: str, namespace: str) -> None:
    inner = Issues()
    policy_target(inner, spec)
    action = get_enum(inner, spec, "action", "spec", enums.AP_ACTION) or "ALLOW"
    rules = spec.get("rules")
    rule_items = get_maps(inner, spec, "rules", "spec")
    provider = get_map(inner, spec, "provider", "spec")
    if action == "CUSTOM":
        if rules is None:
            inner.err(
                "spec.rules",
                "CUSTOM action without `rules` is meaningless as it will never be triggered, add an "
                "empty rule `{}` if you want it be triggered for every request",
            )
        elif not (provider or {}).get("name"):
            inner.err("spec.provider", "`provider.name` must not be empty")
        for p, rule in rule_items:
            for fp, f in get_maps(inner, rule, "from", p):
                for key, text in _CUSTOM_UNSUPPORTED.items():
                    if isinstance(f.get("source"), dict) and f["source"].get(key):
                        inner.err(f"{fp}.source.{key}", f"{text} is currently not supported with CUSTOM action")
            for wp, w in get_maps(inner, rule, "when", p):
                key = str(w.get("key") or "")
                if key in ("source.namespace", "source.serviceAccount", "source.principal") or key.startswith(
                    "request.auth."
                ):
                    inner.err(wp, f"{key} is currently not supported with CUSTOM action")
    if provider is not None and action != "CUSTOM":
        inner.err("spec.provider", f"`provider` must not be with non CUSTOM action, found {action}")
    if action == "DENY" and rules is None:
        inner.err(
            "spec.rules",
            "DENY action without `rules` is meaningless as it will never be triggered, add an "
            "empty rule `{}` if you want it be triggered for every request",
        )
    for i, (p, rule) in enumerate(rule_items):
        _rule(inner, iss, rule, p, i, action)
    for it in inner.items:
        msg = it.message if it.severity == "warning" else f"invalid policy {name}.{namespace}: {it.message}"
        iss.items.append(it._replace(message=msg))


def _rule(iss: Issues, warn: Issues, rule: dict, path: str, i: int, action: str) -> None:
    froms, tos = rule.get("from"), rule.get("to")
    if isinstance(froms, list) and not froms:
        iss.err(f"{path}.from", f"`from` must not be empty, found at rule {i}")
    tcp_from = tcp_to = has_from = has_to = False
    for fp, f in get_maps(iss, rule, "from", path):
        src = get_map(iss, f, "source", fp)
        if src is None:
            iss.err(fp, f"`from.source` must not be nil, found at rule {i}")
            continue
        has_from = True
        sp = f"{fp}.source"
        values = {k: get_strs(iss, src, k, sp) for k in _SOURCE_ALL}
        if any(values[k] for k in ("principals", "notPrincipals", "namespaces", "notNamespaces")) and (
            values["serviceAccounts"] or values["notServiceAccounts"]
        ):
            iss.err(sp, f"cannot set serviceAccounts with namespaces or principals, found at rule {i}")
        if not any(values.values()):
            iss.err(sp, f"`from.source` must not be empty, found at rule {i}")
        for k in ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
            for v in values[k]:
                if v and ip_subnet(v):
                    iss.err(f"{sp}.{k}", f"invalid IP address or CIDR range: {v}")
        for k, vs in values.items():
            if any(v == "" for v in vs):
                iss.err(f"{sp}.{k}", f"empty value not allowed, found in {_cap(k)}")
        if any(src.get(k) is not None for k in _TCP_SOURCE):
            tcp_from = True
    if isinstance(tos, list) and not tos:
        iss.err(f"{path}.to", f"`to` must not be empty, found at rule {i}")
    for tp, t in get_maps(iss, rule, "to", path):
        op = get_map(iss, t, "operation", tp)
        if op is None:
            iss.err(tp, f"`to.operation` must not be nil, found at rule {i}")
            continue
        has_to = True
        opp = f"{tp}.operation"
        values = {k: [str(v) for v in (get_list(iss, op, k, opp) or [])] for k in _OPERATION_ALL}
        if not any(values.values()):
            iss.err(opp, f"`to.operation` must not be empty, found at rule {i}")
        for k in ("ports", "notPorts"):
            for v in values[k]:
                if v and (not v.isdigit() or not 0 <= int(v) <= 65535):
                    iss.err(f"{opp}.{k}", f"invalid port: {v}")
        for k, vs in values.items():
            if any(v == "" for v in vs):
                iss.err(f"{opp}.{k}", f"empty value not allowed, found in {_cap(k)}")
        for k in ("paths", "notPaths"):
            for v in values[k]:
                if not _path_template_ok(v):
                    iss.err(
                        f"{opp}.{k}",
                        f"invalid or unsupported path {v}, found in {_cap(k)}. Contains '{{' or '}}' "
                        "beyond a supported path template",
                    )
        if op.get("ports") is not None or op.get("notPorts") is not None:
            tcp_to = True
    for wp, w in get_maps(iss, rule, "when", path):
        key = get_str(iss, w, "key", wp)
        if not key:
            iss.err(wp, "`key` must not be empty")
            continue
        vals, nots = get_strs(iss, w, "values", wp), get_strs(iss, w, "notValues", wp)
        if not vals and not nots:
            iss.err(wp, f"at least one of `values` or `notValues` must be set for key {key}")
            continue
        for which, vs in (("value", vals), ("notValue", nots)):
            if e := _attribute(key, vs):
                iss.err(wp, f"invalid `{which}` for `key` {key}: {e}")
    if ((has_from and not has_to and not tcp_from) or (has_to and not tcp_to)) and action == "DENY":
        warn.warn(
            path,
            "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only "
            "HTTP attributes in a DENY rule; it is recommended to explicitly specify the port",
        )


def _path_template_ok(p: str) -> bool:
    if "{" not in p and "}" not in p:
        return True
    segments = p.split("/")
    for n, seg in enumerate(segments):
        if "{" in seg or "}" in seg:
            if seg not in ("{*}", "{**}") or (seg == "{**}" and n != len(segments) - 1):
                return False
    return True


def _attribute(key: str, values: list[str]) -> str | None:
    if key.startswith("request.headers[") and key.endswith("]") and len(key) > len("request.headers[]"):
        return None
    if key.startswith("request.auth.claims[") and key.endswith("]"):
        return None
    if key.startswith("experimental.envoy.filters.") or key in _PLAIN_KEYS:
        return None
    if key in _IP_KEYS:
        bad = [v for v in values if ip_subnet(v)]
        return f"invalid IP address or CIDR range: {bad[0]}" if bad else None
    if key == "destination.port":
        bad = [v for v in values if not v.isdigit() or not 0 <= int(v) <= 65535]
        return f"invalid port: {bad[0]}" if bad else None
    return f"unknown attribute ({key})"


def request_authentication(iss: Issues, spec: dict) -> None:
    policy_target(iss, spec)
    for p, rule in get_maps(iss, spec, "jwtRules", "spec"):
        for a in get_strs(iss, rule, "audiences", p):
            if not a:
                iss.err(f"{p}.audiences", "audience must be non-empty string")
        issuer, uri = get_str(iss, rule, "issuer", p), get_str(iss, rule, "jwksUri", p)
        if not issuer and not uri:
            iss.err(p, "issuer or jwksUri must be non-empty string")
        if uri:
            u = urlparse(uri)
            if u.scheme not in ("http", "https"):
                iss.err(f"{p}.jwksUri", f'URI scheme "{u.scheme}" is not supported, only http and https are supported')
            elif not u.hostname:
                iss.err(f"{p}.jwksUri", f'jwksUri "{uri}" is missing a host')
        jwks = get_str(iss, rule, "jwks", p)
        if jwks:
            try:
                doc = json.loads(jwks)
                if not isinstance(doc, dict):
                    raise ValueError("expected a JSON object")
            except ValueError as e:
                iss.err(f"{p}.jwks", f"jwks parse error: {e}")
        for hp, h in get_maps(iss, rule, "fromHeaders", p):
            if not get_str(iss, h, "name", hp):
                iss.err(hp, "location header name must be non-empty string")
        for q in get_strs(iss, rule, "fromParams", p):
            if not q:
                iss.err(f"{p}.fromParams", "location query must be non-empty string")
        for c in get_strs(iss, rule, "fromCookies", p):
            if not c:
                iss.err(f"{p}.fromCookies", "cookie name must be non-empty string")
        for op, o in get_maps(iss, rule, "outputClaimToHeaders", p):
            claim, header = get_str(iss, o, "claim", op), get_str(iss, o, "header", op)
            if not claim or not header:
                iss.err(op, "outputClaimToHeaders header and claim value must be non-empty string")
                continue
            iss.err(f"{op}.header", strict_header_name(header))
        duration(iss, rule, "timeout", p)


def peer_authentication(iss: Issues, spec: dict) -> None:
    sel = spec.get("selector")
    empty_selector = not isinstance(sel, dict) or not sel.get("matchLabels")
    plm = spec.get("portLevelMtls")
    if empty_selector and plm:
        iss.err("spec.portLevelMtls", "mesh/namespace peer authentication cannot have port level mTLS")
    if plm is not None and not plm:
        iss.err("spec.portLevelMtls", "port level mTLS, if defined, must have at least one element")
    if isinstance(plm, dict):
        for k, v in plm.items():
            n = int(k) if str(k).isdigit() else 0
            if not 1 <= n <= 65535:
                iss.err("spec.portLevelMtls", "port must be in range 1..65535")
            if isinstance(v, dict):
                get_enum(iss, v, "mode", f"spec.portLevelMtls.{k}", enums.MTLS_MODE)
    if (m := get_map(iss, spec, "mtls", "spec")) is not None:
        get_enum(iss, m, "mode", "spec.mtls", enums.MTLS_MODE)
    workload_selector(iss, sel, "spec.selector")
