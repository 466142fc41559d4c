"""VirtualService: hosts, http/tls/tcp routes, matches, rewrites, retries, faults, CORS, headers.

IST0130/IST0131 (unreachable rules, ineffective matches) come from the same istioctl analyzer but are
separate rules in rules/virtualservice.py.
"""

from __future__ import annotations

from meshreport.validation.schema._checks import (
    PSEUDO_HEADERS,
    Issues,
    duration,
    get_int,
    get_list,
    get_map,
    get_maps,
    get_num,
    get_str,
    get_strs,
    header_name,
    header_value,
    http_status_known,
    ip_subnet,
    is_dns_label,
    is_ip,
    labels,
    port,
    wildcard_domain,
)
from meshreport.validation.schema.common import destination, export_to, gateway_names
from meshreport.validation.schema.regex import regex

RETRY_ON = {
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
}
CORS_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"}
GRPC_STATUS = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
}
_JWT_CLAIM = "@request.auth.claims."


def virtual_service(iss: Issues, spec: dict, namespace: str) -> None:
    hosts = get_strs(iss, spec, "hosts", "spec")
    gateways = get_strs(iss, spec, "gateways", "spec")
    http = get_maps(iss, spec, "http", "spec")
    tls = get_maps(iss, spec, "tls", "spec")
    tcp = get_maps(iss, spec, "tcp", "spec")
    if not hosts:  # a delegate VirtualService
        if gateways:
            iss.err("spec.gateways", "delegate virtual service must have no gateways specified")
        if tls:
            iss.err("spec.tls", "delegate virtual service must have no tls route specified")
        if tcp:
            iss.err("spec.tcp", "delegate virtual service must have no tcp route specified")
    gateway_names(iss, gateways, "spec.gateways")
    applies_to_gateway = bool(gateways) and "mesh" not in gateways
    applies_to_mesh = not applies_to_gateway
    if not applies_to_gateway:
        for p, route in http:
            for mp, m in get_maps(iss, route, "match", p):
                for key in ("headers", "withoutHeaders"):
                    for h in m.get(key) or {}:
                        if str(h).startswith(_JWT_CLAIM):
                            iss.err(
                                f"{mp}.{key}",
                                f"JWT claim based routing (key: {h}) is only supported for gateway, found no gateways: "
                                f"[{' '.join(gateways)}]",
                            )
    sni = any(get_list(iss, m, "sniHosts", "") for _, r in tls for _, m in get_maps(iss, r, "match", ""))
    valid = True
    for i, h in enumerate(hosts):
        e = _gateway_host(h, sni) if applies_to_gateway else wildcard_domain(h)
        if e:
            if not is_ip(h):
                iss.err(f"spec.hosts[{i}]", e)
                valid = False
        elif applies_to_mesh and h == "*":
            iss.err(f"spec.hosts[{i}]", "wildcard host * is not allowed for virtual services bound to the mesh gateway")
            valid = False
    if valid:
        for i, a in enumerate(hosts):
            for b in hosts[i + 1 :]:
                if _matches(a, b):
                    iss.err("spec.hosts", f"duplicate hosts in virtual service: {a} & {b}")
    if not http and not tcp and not tls:
        iss.err("spec", "http, tcp or tls must be provided in virtual service")
    for p, route in http:
        http_route(iss, route, p, delegate=not hosts)
    for p, route in tls:
        tls_route(iss, route, p, hosts, applies_to_gateway)
    for p, route in tcp:
        for mp, m in get_maps(iss, route, "match", p):
            _l4_match(iss, m, mp)
        if not route.get("route"):
            iss.err(f"{p}.route", "TCP route is required")
        _route_destinations(iss, route, p, http=False)
    export_to(iss, spec, namespace)


def _gateway_host(h: str, sni: bool) -> str | None:
    if sni and h.startswith("outbound_"):
        parts = h.split("_")
        if len(parts) < 4:
            return f"domain name {h} invalid, should follow 'outbound_.<PORT>_._.<HOSTNAME>' format"
        return None
    return wildcard_domain(h)


def _matches(a: str, b: str) -> bool:
    """Istio's host.Name.Matches: equal, or one wildcard covers the other."""
    if a == b:
        return True
    if a.startswith("*"):
        if b.startswith("*"):
            return a[1:].endswith(b[1:]) or b[1:].endswith(a[1:])
        return b.endswith(a[1:])
    if b.startswith("*"):
        return a.endswith(b[1:])
    return False


def _string_match(iss: Issues, sm: object, where: str, path: str) -> None:
    if not isinstance(sm, dict):
        return
    if "prefix" in sm and sm.get("prefix") in ("", None):
        iss.err(path, f'"{where}": prefix string match should not be empty')
    if "regex" in sm:
        r = sm.get("regex")
        if not isinstance(r, str) or not r:
            iss.err(path, f'"{where}": regex string match should not be empty')
        else:
            iss.err(path, regex(r, where))


def _header_match_name(name: str) -> str | None:
    if name.startswith(_JWT_CLAIM) or name in PSEUDO_HEADERS:
        return None
    return header_name(name)


def http_route(iss: Issues, r: dict, path: str, *, delegate: bool) -> None:
    root = not delegate and r.get("delegate") is not None
    redirect, direct, fault, rewrite = r.get("redirect"), r.get("directResponse"), r.get("fault"), r.get("rewrite")
    routes = r.get("route") or []
    if root:
        if redirect is not None:
            iss.err(path, f"root HTTP route {r.get('name', '')} must not specify redirect")
        if r.get("route") is not None:
            iss.err(path, f"root HTTP route {r.get('name', '')} must not specify route")
    else:
        if delegate and r.get("delegate") is not None:
            iss.err(f"{path}.delegate", "delegate HTTP route cannot contain delegate")
        if redirect is not None:
            for cond, text in (
                (routes, "HTTP route cannot contain both route and redirect"),
                (fault, "HTTP route cannot contain both fault and redirect"),
                (rewrite, "HTTP route rule cannot contain both rewrite and redirect"),
                (direct, "HTTP route rule cannot contain both direct_response and redirect"),
            ):
                if cond:
                    iss.err(path, text)
        elif direct is not None:
            for cond, text in (
                (routes, "HTTP route cannot contain both route and direct_response"),
                (fault, "HTTP route cannot contain both fault and direct_response"),
                (rewrite, "HTTP route rule cannot contain both rewrite and direct_response"),
            ):
                if cond:
                    iss.err(path, text)
        elif not routes:
            iss.err(path, "HTTP route, redirect or direct_response is required")
    for mp, m in get_maps(iss, r, "match", path):
        for key in ("headers", "withoutHeaders"):
            for name, hm in (get_map(iss, m, key, mp) or {}).items():
                if hm is None:
                    iss.err(f"{mp}.{key}", f"header match {name} cannot be null")
                iss.err(f"{mp}.{key}", _header_match_name(str(name)))
                _string_match(iss, hm, "headers", f"{mp}.{key}")
        for key in ("uri", "scheme", "method", "authority"):
            _string_match(iss, m.get(key), key, f"{mp}.{key}")
        for name, qp in (get_map(iss, m, "queryParams", mp) or {}).items():
            if qp is None:
                iss.err(f"{mp}.queryParams", f"query param match {name} cannot be null")
            _string_match(iss, qp, "queryParams", f"{mp}.queryParams")
        if (n := get_int(iss, m, "port", mp)) is not None and n != 0:
            iss.err(f"{mp}.port", port(n))
        labels(iss, m.get("sourceLabels"), f"{mp}.sourceLabels")
        gateway_names(iss, get_strs(iss, m, "gateways", mp), f"{mp}.gateways")
        sns = get_str(iss, m, "sourceNamespace", mp)
        if sns and not is_dns_label(sns):
            iss.err(f"{mp}.sourceNamespace", f"sourceNamespace match {sns} is invalid")
    _headers(iss, get_map(iss, r, "headers", path), f"{path}.headers")
    _cors(iss, get_map(iss, r, "corsPolicy", path), f"{path}.corsPolicy")
    _fault(iss, get_map(iss, r, "fault", path), f"{path}.fault")
    if (mp := r.get("mirrorPercent")) is not None:
        v = mp.get("value") if isinstance(mp, dict) else mp
        if isinstance(v, int) and v > 100:
            iss.err(f"{path}.mirrorPercent", f"mirror_percent must have a max value of 100 (it has {v})")
        iss.warn(f"{path}.mirrorPercent", 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead')
    if (mpct := get_map(iss, r, "mirrorPercentage", path)) is not None:
        v = get_num(iss, mpct, "value", f"{path}.mirrorPercentage") or 0.0
        if v > 100:
            iss.err(f"{path}.mirrorPercentage", f"mirror_percentage must have a max value of 100 (it has {v:f})")
        if v < 0:
            iss.err(f"{path}.mirrorPercentage", f"mirror_percentage must have a min value of 0 (it has {v:f})")
    destination(iss, get_map(iss, r, "mirror", path), f"{path}.mirror")
    for mp, mirror in get_maps(iss, r, "mirrors", path):
        if not isinstance(mirror.get("destination"), dict):
            iss.err(mp, "destination is required for mirrors")
            continue
        destination(iss, mirror["destination"], f"{mp}.destination")
        if (pct := get_map(iss, mirror, "percentage", mp)) is not None:
            v = get_num(iss, pct, "value", f"{mp}.percentage") or 0.0
            if v > 100:
                iss.err(f"{mp}.percentage", f"mirror percentage must have a max value of 100 (it has {v:f})")
            if v < 0:
                iss.err(f"{mp}.percentage", f"mirror percentage must have a min value of 0 (it has {v:f})")
    _redirect(iss, get_map(iss, r, "redirect", path), f"{path}.redirect")
    if (d := get_map(iss, r, "directResponse", path)) is not None:
        _direct_response(iss, d, f"{path}.directResponse")
    _retries(iss, get_map(iss, r, "retries", path), f"{path}.retries")
    _rewrite(iss, get_map(iss, r, "rewrite", path), f"{path}.rewrite", r.get("headers"))
    _route_destinations(iss, r, path, http=True)
    duration(iss, r, "timeout", path, zero_ok=True)


def _headers(iss: Issues, h: dict | None, path: str) -> None:
    if h is None:
        return
    for part in ("request", "response"):
        ops = get_map(iss, h, part, path)
        if ops is None:
            continue
        p = f"{path}.{part}"
        for op in ("add", "set"):
            for name, val in (get_map(iss, ops, op, p) or {}).items():
                iss.err(f"{p}.{op}", _op_name(str(name), request=part == "request"))
                iss.err(f"{p}.{op}", header_value(val))
        for name in get_strs(iss, ops, "remove", p):
            iss.err(f"{p}.remove", _op_name(name, request=False))


def _op_name(name: str, *, request: bool) -> str | None:
    """Request add/set may rewrite the authority (`:authority`/`host`); nothing else may touch `:`-headers."""
    if not name:
        return "header name cannot be empty"
    internal = name.startswith(":") or name.lower() == "host"
    authority = name.lower() in (":authority", "host")
    if request and authority:
        return None
    if not request and name.lower() == "host":
        return f'invalid header "{name}": cannot set Host header'
    if internal:
        return f'invalid header "{name}": header cannot have ":" prefix'
    return None


def _cors(iss: Issues, c: dict | None, path: str) -> None:
    if c is None:
        return
    for i, o in enumerate(get_list(iss, c, "allowOrigins", path) or []):
        p = f"{path}.allowOrigins[{i}]"
        val = next((o.get(k) for k in ("exact", "prefix", "regex") if isinstance(o, dict) and k in o), "")
        if not val:
            iss.err(p, f"'{val or ''}' is not a valid match type for CORS allow origins")
        elif "regex" in o:
            iss.err(p, regex(str(val), "corsPolicy.allowOrigins"))
    for m in get_strs(iss, c, "allowMethods", path):
        if m not in CORS_METHODS:
            iss.err(f"{path}.allowMethods", f'"{m}" is not a supported HTTP method')
    for key in ("allowHeaders", "exposeHeaders"):
        for name in get_strs(iss, c, key, path):
            if name != "*":
                iss.err(f"{path}.{key}", header_name(name))
    ns = duration(iss, c, "maxAge", path)
    if ns and ns % 1_000_000_000:
        iss.err(f"{path}.maxAge", "max_age duration is accurate only to seconds precision")


def _percentage(iss: Issues, m: dict, path: str) -> None:
    if (pct := get_map(iss, m, "percentage", path)) is not None:
        v = get_num(iss, pct, "value", f"{path}.percentage") or 0.0
        if v < 0 or v > 100 or 0 < v < 0.0001:
            iss.err(f"{path}.percentage", f"percentage {v:g} is neither 0.0, nor in range [0.0001, 100.0]")


def _fault(iss: Issues, f: dict | None, path: str) -> None:
    if f is None:
        return
    abort, delay = get_map(iss, f, "abort", path), get_map(iss, f, "delay", path)
    if abort is None and delay is None:
        iss.err(path, "HTTP fault injection must have an abort and/or a delay")
    if abort is not None:
        p = f"{path}.abort"
        _percentage(iss, abort, p)
        if "grpcStatus" in abort:
            g = str(abort.get("grpcStatus"))
            if g not in GRPC_STATUS:
                iss.err(
                    f"{p}.grpcStatus",
                    f'gRPC status "{g}" is not supported. See '
                    "https://github.com/grpc/grpc/blob/master/doc/statuscodes.md "
                    "for a list of supported codes, for example 'NOT_FOUND'",
                )
        elif "http2Error" in abort:
            iss.err(p, "HTTP/2 abort fault injection not supported yet")
        elif "httpStatus" in abort:
            s = get_int(iss, abort, "httpStatus", p) or 0
            if s < 200 or s > 600:
                iss.err(f"{p}.httpStatus", f"HTTP status {s} is not in range 200-599")
        else:
            iss.warn(p, "abort configured, but error type not set")
    if delay is not None:
        p = f"{path}.delay"
        _percentage(iss, delay, p)
        duration(iss, delay, "fixedDelay", p)
        if "exponentialDelay" in delay:
            duration(iss, delay, "exponentialDelay", p)
            iss.err(f"{p}.exponentialDelay", "exponentialDelay not supported yet")


def _redirect(iss: Issues, r: dict | None, path: str) -> None:
    if r is None:
        return
    if not any(r.get(k) for k in ("uri", "authority", "port", "derivePort", "scheme")):
        iss.err(path, "redirect must specify URI, authority, scheme, or port")
        return
    code = get_int(iss, r, "redirectCode", path)
    if code and not 300 <= code <= 399:
        iss.err(f"{path}.redirectCode", f"{code} is not a valid redirect code, must be 3xx")
        return
    scheme = get_str(iss, r, "scheme", path)
    if scheme and scheme not in ("http", "https"):
        iss.err(f"{path}.scheme", 'invalid redirect scheme, must be "http" or "https"')
        return
    if (n := get_int(iss, r, "port", path)) is not None and n > 0:
        iss.err(f"{path}.port", port(n))


def _direct_response(iss: Issues, d: dict, path: str) -> None:
    body = get_map(iss, d, "body", path) or {}
    size = len(str(body.get("string") or body.get("bytes") or ""))
    if size > 1024 * 1024:
        iss.err(f"{path}.body", "large direct_responses may impact control plane performance, must be less than 1MB")
    elif size > 100 * 1024:
        iss.warn(f"{path}.body", "large direct_responses may impact control plane performance")
    s = get_int(iss, d, "status", path) or 0
    if s < 200 or s > 600:
        iss.err(f"{path}.status", f"HTTP status {s} is not in range 200-599")


def _retries(iss: Issues, r: dict | None, path: str) -> None:
    if r is None:
        return
    attempts = get_int(iss, r, "attempts", path) or 0
    if attempts < 0:
        iss.err(f"{path}.attempts", "attempts cannot be negative")
    retry_on = get_str(iss, r, "retryOn", path)
    if attempts == 0 and (r.get("perTryTimeout") is not None or retry_on or r.get("retryRemoteLocalities") is not None):
        iss.err(path, "http retry policy configured when attempts are set to 0 (disabled)")
    duration(iss, r, "perTryTimeout", path)
    for policy in retry_on.split(",") if retry_on else ():
        code = int(policy) if policy.isdigit() else 0
        if not (code and http_status_known(code)) and policy not in RETRY_ON:
            iss.err(f"{path}.retryOn", f'"{policy}" is not a valid retryOn policy')
    duration(iss, r, "backoff", path)


def _rewrite(iss: Issues, r: dict | None, path: str, headers: object) -> None:
    if r is None:
        return
    uri, regex_rw, authority = r.get("uri"), r.get("uriRegexRewrite"), r.get("authority")
    if uri and regex_rw is not None:
        iss.err(path, "rewrite may only contain one of URI or UriRegexRewrite")
    elif not uri and regex_rw is None and not authority:
        iss.err(
            path,
            "rewrite must specify at least one of URI, UriRegexRewrite, or authority. "
            "Only one of URI or UriRegexRewrite may be specified",
        )
    elif isinstance(regex_rw, dict):
        if not regex_rw.get("match") or not regex_rw.get("rewrite"):
            iss.err(f"{path}.uriRegexRewrite", "UriRegexRewrite requires both Rewrite and Match fields to be specified")
        else:
            e = regex(str(regex_rw["match"]), "HTTPRewrite.UriRegexRewrite.Match")
            iss.err(f"{path}.uriRegexRewrite.match", e and f"UriRegexRewrite has errors\n{e}")
    request = headers.get("request") if isinstance(headers, dict) else None
    current = str(authority or "")
    for op in ("set", "add"):
        for k, v in ((request or {}).get(op) or {}).items() if isinstance(request, dict) else ():
            if str(k).lower() in (":authority", "host"):
                if current:
                    iss.err(
                        path,
                        f'authority header cannot be set multiple times: have "{current}", attempting to set "{v}"',
                    )
                    return
                current = str(v)


def _route_destinations(iss: Issues, r: dict, path: str, *, http: bool) -> None:
    items = get_list(iss, r, "route", path) or []
    total = 0
    for i, w in enumerate(items):
        p = f"{path}.route[{i}]"
        if not isinstance(w, dict):
            iss.err(p, "weight may not be nil")
            continue
        d = w.get("destination")
        if not isinstance(d, dict):
            iss.err(f"{p}.destination", "destination is required")
        else:
            destination(iss, d, f"{p}.destination")
        if http:
            _headers(iss, get_map(iss, w, "headers", p), f"{p}.headers")
        weight = get_int(iss, w, "weight", p) or 0
        if weight < 0:
            iss.err(f"{p}.weight", f"weight {weight} < 0")
        total += weight
    if len(items) > 1 and total == 0:
        iss.err(f"{path}.route", "total destination weight = 0")


def _l4_match(iss: Issues, m: dict, path: str) -> None:
    for s in get_strs(iss, m, "destinationSubnets", path):
        iss.err(f"{path}.destinationSubnets", ip_subnet(s))
    if (n := get_int(iss, m, "port", path)) is not None and n != 0:
        iss.err(f"{path}.port", port(n))
    labels(iss, m.get("sourceLabels"), f"{path}.sourceLabels")
    gateway_names(iss, get_strs(iss, m, "gateways", path), f"{path}.gateways")


def tls_route(iss: Issues, r: dict, path: str, hosts: list[str], to_gateway: bool) -> None:
    matches = get_maps(iss, r, "match", path)
    if not matches:
        iss.err(path, "TLS route must have at least one match condition")
    for mp, m in matches:
        snis = get_strs(iss, m, "sniHosts", mp)
        if not snis:
            iss.err(mp, "TLS match must have at least one SNI host")
        for sni in snis:
            e = _gateway_host(sni, True) if to_gateway else wildcard_domain(sni)
            if e:
                if is_ip(sni):
                    iss.warn(
                        f"{mp}.sniHosts",
                        f'using an IP address ("{sni}") goes against SNI spec and most clients do not support this',
                    )
                else:
                    iss.err(f"{mp}.sniHosts", e)
                continue
            if not any(_subset_of(sni, h) for h in hosts):
                iss.err(
                    f"{mp}.sniHosts",
                    f'SNI host "{sni}" is not a compatible subset of any of the virtual service '
                    f"hosts: [{', '.join(hosts)}]",
                )
        _l4_match(iss, m, mp)
    if not r.get("route"):
        iss.err(f"{path}.route", "TLS route is required")
    _route_destinations(iss, r, path, http=False)


def _subset_of(a: str, b: str) -> bool:
    """host.Name.SubsetOf: every host `a` matches is matched by `b`."""
    if a == b:
        return True
    if b.startswith("*"):
        return a[1:].endswith(b[1:]) if a.startswith("*") else a.endswith(b[1:])
    return False
