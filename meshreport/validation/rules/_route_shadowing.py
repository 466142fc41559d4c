"""Which VirtualService rules and matches earlier ones shadow (IST0130, IST0131), as Istio's validation says.

Follows `analyzeUnreachable{HTTP,TCP,TLS}Rules` in istio's pkg/config/validation/validation.go: each of the
http, tcp and tls route lists is walked on its own; a rule without matches shadows every later rule (and only
the last rule may lack matches); a match equal to an earlier one (ignoring an http match's `name` and fields
left at their zero value) is ineffective, and a rule whose matches all are is unreachable. For http, a
prefix-URI match is also ineffective when an earlier prefix match with a shorter-or-equal prefix covers it
(same port, and method, authority, headers, query params and withoutHeaders each equal or covered).
Each report Istio makes is returned with its own path; like istioctl, the runner then keeps one of those
that read alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from meshreport.validation.rules._common import dicts

UNREACHABLE = "unreachable"
INEFFECTIVE = "ineffective"


@dataclass(frozen=True)
class Shadowed:
    what: str  # UNREACHABLE (IST0130) or INEFFECTIVE (IST0131)
    message: str
    path: str


@dataclass(frozen=True)
class _PrefixMatch:
    """One http match with a URI prefix, reduced to the fields Istio compares for coverage."""

    route: str
    match: str
    prefix: str
    port: Any
    method: str
    authority: str
    headers: dict[str, str]
    query: dict[str, str]
    without_headers: dict[str, str]
    path: str


def _zero(v: Any) -> bool:
    return v is None or v == "" or v == 0 or v is False or v == {} or v == []


def _canon(v: Any) -> Any:
    """Go's encoding/json of the match proto omits zero values: drop them so equal matches compare equal."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            c = _canon(x)
            if not _zero(c):
                out[str(k)] = c
        return out
    if isinstance(v, list):
        return [_canon(x) for x in v]
    return v


def _key(match: dict, http: bool) -> str:
    m = {k: v for k, v in match.items() if not (http and k == "name")}
    return json.dumps(_canon(m), sort_keys=True, default=str)


def _rule_name(rule: dict, n: int, http: bool) -> str:
    if http and rule.get("name"):
        return json.dumps(str(rule["name"]))
    return f"#{n}"


def _match_name(match: dict, n: int, http: bool) -> str:
    if http and match.get("name"):
        return json.dumps(str(match["name"]))
    return f"#{n}"


def _exact_or_prefix(sm: Any) -> str:
    if not isinstance(sm, dict):
        return ""
    if sm.get("exact"):
        return f"exact:{sm['exact']}"
    if sm.get("prefix"):
        return f"prefix:{sm['prefix']}"
    return ""


def _string_map(v: Any) -> dict[str, str]:
    return {str(k): _exact_or_prefix(x) for k, x in v.items()} if isinstance(v, dict) else {}


def _prefix_match(route: str, match: dict, n: int, path: str) -> _PrefixMatch | None:
    uri = match.get("uri")
    prefix = uri.get("prefix") if isinstance(uri, dict) else None
    if not prefix:
        return None
    return _PrefixMatch(
        route=route,
        match=_match_name(match, n, True),
        prefix=str(prefix),
        port=match.get("port") or 0,
        method=_exact_or_prefix(match.get("method")) or "exact:GET",  # Istio takes no method as GET
        authority=_exact_or_prefix(match.get("authority")),
        headers=_string_map(match.get("headers")),
        query=_string_map(match.get("queryParams")),
        without_headers=_string_map(match.get("withoutHeaders")),
        path=path,
    )


def _map_covered(a: dict[str, str], b: dict[str, str]) -> bool:
    if len(a) != len(b):
        return False
    return all(k in b and (v == b[k] or v.startswith(b[k])) for k, v in a.items())


def _covers(a: _PrefixMatch, b: _PrefixMatch) -> bool:
    """Istio's coveredValidation(a, b): does the earlier match `a` take every request `b` would?"""
    if not b.prefix.startswith(a.prefix) or a.port != b.port:
        return False
    if a.method != b.method and not a.method.startswith(b.method):
        return False
    if a.authority != b.authority and not a.authority.startswith(b.authority):
        return False
    return (
        _map_covered(a.headers, b.headers)
        and _map_covered(a.query, b.query)
        and _map_covered(a.without_headers, b.without_headers)
    )


def _unused(rule: str, reason: str, path: str) -> Shadowed:
    return Shadowed(UNREACHABLE, f"VirtualService rule {rule} not used ({reason}).", path)


def _ineffective(rule: str, match: str, dup: str, path: str) -> Shadowed:
    return Shadowed(
        INEFFECTIVE,
        f"VirtualService rule {rule} match {match} is not used (duplicate/overlapping match in rule {dup}).",
        path,
    )


def _walk(routes: list[dict], field: str) -> list[Shadowed]:
    http = field == "http"
    out: list[Shadowed] = []
    seen: dict[str, int] = {}
    catch_all = -1
    prefixes: list[_PrefixMatch] = []
    for n, r in enumerate(routes):
        name = _rule_name(r, n, http)
        matches = r.get("match")
        matches = matches if isinstance(matches, list) else []
        if not matches:
            if catch_all >= 0:
                out.append(_unused(name, "only the last rule can have no matches", f"spec.{field}[{n}]"))
            catch_all = n
            continue
        dups = 0
        for m, match in enumerate(matches):
            path = f"spec.{field}[{n}].match[{m}]"
            if catch_all >= 0:
                out.append(_unused(name, "route without matches defined before", path))
                continue
            match = match if isinstance(match, dict) else {}
            k = _key(match, http)
            if k in seen:
                out.append(
                    _ineffective(name, _match_name(match, m, http), _rule_name(routes[seen[k]], seen[k], http), path)
                )
                dups += 1
                continue
            seen[k] = n
            if http and (pm := _prefix_match(name, match, m, path)) is not None:
                prefixes.append(pm)
        if dups == len(matches):
            out.append(_unused(name, "all matches used by prior rules", f"spec.{field}[{n}]"))
    for i, a in enumerate(prefixes):
        for b in prefixes[i + 1 :]:
            if b.prefix != a.prefix and _covers(a, b):
                out.append(
                    _ineffective(
                        b.route,
                        f"{b.match} of prefix {b.prefix}",
                        f"{a.match} of prefix {a.prefix} on {a.route}",
                        b.path,
                    )
                )
    return out


def shadowed(spec: dict) -> list[Shadowed]:
    """IST0130/IST0131 findings of a VirtualService spec, http then tcp then tls, as Istio reports them."""
    out: list[Shadowed] = []
    for field in ("http", "tcp", "tls"):
        out += _walk(dicts(spec.get(field)), field)
    return out
