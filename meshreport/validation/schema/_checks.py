"""Primitive checks shared by every kind, each returning Istio's error text or None.

Facts (formats, limits, message wording) follow istio/istio `pkg/config/validation` and
`pkg/config/labels` (Apache-2.0); the code is our own. Field access is defensive: specs come from
YAML written by people, so a wrong type is itself a finding, never an exception.
"""

from __future__ import annotations

import ipaddress
import re
from http import HTTPStatus
from typing import Any, NamedTuple


class Issue(NamedTuple):
    """One schema problem: `error` becomes IST0106, `warning` IST0133."""

    severity: str
    path: str
    message: str


class Issues:
    """Collects issues for one object; paths are dotted YAML paths (`spec.http[0].route`)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Issue] = []

    def err(self, path: str, msg: str | None) -> None:
        if msg:
            self.items.append(Issue("error", path, msg))

    def warn(self, path: str, msg: str | None) -> None:
        if msg:
            self.items.append(Issue("warning", path, msg))


def _type(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(v), type(v).__name__
    )


def get_map(iss: Issues, m: dict, key: str, path: str) -> dict | None:
    """`m[key]` when it is a mapping; a wrong type is an error (the proto would not decode)."""
    v = m.get(key)
    if v is None:
        return None
    if not isinstance(v, dict):
        iss.err(f"{path}.{key}", f"{key}: expected an object, got {_type(v)}")
        return None
    return v


def get_list(iss: Issues, m: dict, key: str, path: str) -> list | None:
    v = m.get(key)
    if v is None:
        return None
    if not isinstance(v, list):
        iss.err(f"{path}.{key}", f"{key}: expected an array, got {_type(v)}")
        return None
    return v


def get_maps(iss: Issues, m: dict, key: str, path: str) -> list[tuple[str, dict]]:
    """Items of a list of objects with their paths; null or non-object items are errors."""
    out = []
    for i, item in enumerate(get_list(iss, m, key, path) or []):
        p = f"{path}.{key}[{i}]"
        if isinstance(item, dict):
            out.append((p, item))
        else:
            iss.err(p, f"{key}[{i}]: expected an object, got {_type(item)}")
    return out


def get_str(iss: Issues, m: dict, key: str, path: str) -> str:
    """`m[key]` as a string ('' when unset); numbers and booleans are type errors."""
    v = m.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        iss.err(f"{path}.{key}", f"{key}: expected a string, got {_type(v)}")
        return ""
    return v


def get_strs(iss: Issues, m: dict, key: str, path: str) -> list[str]:
    out = []
    for i, v in enumerate(get_list(iss, m, key, path) or []):
        if isinstance(v, str):
            out.append(v)
        else:
            iss.err(f"{path}.{key}[{i}]", f"{key}[{i}]: expected a string, got {_type(v)}")
    return out


def get_int(iss: Issues, m: dict, key: str, path: str) -> int | None:
    """An integer field; protobuf JSON also accepts decimal strings ("80")."""
    v = m.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | str):
        iss.err(f"{path}.{key}", f"{key}: expected an integer, got {_type(v)}")
        return None
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            iss.err(f"{path}.{key}", f"{key}: invalid integer {v!r}")
            return None
    return v


def get_num(iss: Issues, m: dict, key: str, path: str) -> float | None:
    v = m.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        iss.err(f"{path}.{key}", f"{key}: expected a number, got {_type(v)}")
        return None
    try:
        return float(v)
    except ValueError:
        iss.err(f"{path}.{key}", f"{key}: invalid number {v!r}")
        return None


def get_bool(iss: Issues, m: dict, key: str, path: str) -> bool:
    v = m.get(key)
    if v is None:
        return False
    if not isinstance(v, bool):
        iss.err(f"{path}.{key}", f"{key}: expected a boolean, got {_type(v)}")
        return False
    return v


def get_enum(iss: Issues, m: dict, key: str, path: str, allowed: tuple[str, ...]) -> str:
    """An enum field; unknown names fail to decode (the CRD schema lists them). Returns '' when unset."""
    v = m.get(key)
    if v is None:
        return ""
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(allowed):
        return allowed[v]  # protobuf JSON accepts the enum number
    if not isinstance(v, str) or v not in allowed:
        iss.err(f"{path}.{key}", f"{key}: unknown value {v!r}, must be one of {', '.join(allowed)}")
        return ""
    return v


def wrapped(iss: Issues, m: dict, key: str, path: str) -> float | None:
    """A protobuf wrapper (UInt32Value, DoubleValue, BoolValue...) is written as a bare value."""
    v = m.get(key)
    if isinstance(v, dict):  # tolerated {value: x} form
        return get_num(iss, v, "value", f"{path}.{key}")
    return get_num(iss, m, key, path)


# --- formats -------------------------------------------------------------------------------

_LABEL = re.compile(r"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_WILDCARD_LABEL = re.compile(r"^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$")
_QUALIFIED = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_TAG_KEY = re.compile(
    r"^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?(" + _QUALIFIED + ")$"
)
_TAG_VALUE = re.compile(r"^(?:" + _QUALIFIED + ")?$")


def is_dns_label(s: str) -> bool:
    return len(s) <= 63 and bool(_LABEL.match(s))


def port(n: int | None) -> str | None:
    if n is not None and 1 <= n <= 65535:
        return None
    return f"port number {n if n is not None else 0} must be in the range 1..65535"


def _preconditions(name: str) -> str | None:
    if len(name) > 255:
        return f'domain name "{name}" too long (max 255)'
    if not name:
        return "empty domain name not allowed"
    return None


def _dns_labels(domain: str, whole: str) -> str | None:
    parts = domain.split(".")
    if parts[-1].isdigit():
        return f'domain name "{whole}" invalid (top level domain "{parts[-1]}" cannot be all-numeric)'
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None
        if not is_dns_label(label):
            return f'domain name "{whole}" invalid (label "{label}" invalid)'
    return None


def fqdn(name: str) -> str | None:
    return _preconditions(name) or _dns_labels(name, name)


def wildcard_domain(name: str) -> str | None:
    """A host that may start with a wildcard label (`*.example.com`, `*`)."""
    if e := _preconditions(name):
        return e
    first, _, rest = name.partition(".")
    if len(first) > 63 or not _WILDCARD_LABEL.match(first):
        return f'domain name "{name}" invalid (label "{first}" invalid)'
    return _dns_labels(rest, name) if "." in name else None


def partial_wildcard(host: str) -> str | None:
    if "*" in host and len(host) != 1 and not host.startswith("*."):
        return f'partial wildcard "{host}" not allowed'
    return None


def is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


def ip(s: str) -> str | None:
    return None if is_ip(s) else f"{s} is not a valid IP"


def ip_subnet(s: str) -> str | None:
    if s.count("/") == 1:
        try:
            ipaddress.ip_network(s, strict=False)
        except ValueError:
            return f"{s} is not a valid CIDR block"
        return None
    return ip(s)


def unix_address(addr: str) -> str | None:
    if not addr:
        return "unix address must not be empty"
    if addr.startswith("@"):
        return None
    if not addr.startswith("/") or addr.endswith("/"):
        return f"{addr} is not an absolute path to a file"
    return None


def labels(iss: Issues, value: Any, path: str) -> None:
    """Kubernetes label syntax for keys and values (Istio's labels.Instance.Validate)."""
    if value is None:
        return
    if not isinstance(value, dict):
        iss.err(path, f"expected a map of labels, got {_type(value)}")
        return
    for k, v in value.items():
        k = str(k)
        m = _TAG_KEY.match(k)
        if not m:
            iss.err(path, f'invalid tag key: "{k}"')
        elif m.group(1) and len(m.group(1)) - 1 > 253:
            iss.err(path, f'invalid tag key: "{k}" (DNS prefix is too long)')
        elif len(m.group(2)) > 63:
            iss.err(path, f'invalid tag key: "{k}" (name is too long)')
        if not isinstance(v, str) or not _TAG_VALUE.match(v):
            iss.err(path, f'invalid tag value: "{v}"')


def port_name(name: str) -> str | None:
    return None if is_dns_label(name) else f"invalid port name: {name}"


PROTOCOLS = {
    "tcp",
    "udp",
    "grpc",
    "grpc-web",
    "http",
    "http_proxy",
    "http2",
    "https",
    "tls",
    "mongo",
    "redis",
    "mysql",
    "thrift",
    "hbone",
}
HTTP_PROTOCOLS = {"http", "http2", "http_proxy", "grpc", "grpc-web"}
TLS_PROTOCOLS = {"https", "tls"}


def proto(s: str) -> str:
    """Istio's protocol.Parse: case-insensitive; '' when unsupported."""
    s = s.lower()
    return s if s in PROTOCOLS else ""


def protocol(s: str) -> str | None:
    if s and not proto(s):
        return f"unsupported protocol: {s}"
    return None


# --- durations -----------------------------------------------------------------------------

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_DUR = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(v: Any) -> int | None:
    """Nanoseconds of a Go/protobuf duration string (`1.5s`, `5m`, `100ms`); None when malformed."""
    if not isinstance(v, str) or not v:
        return None
    s = v.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    if s == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DUR.match(s, pos)
        if not m:
            return None
        total += float(m.group(1)) * _UNIT_NS[m.group(2)]
        pos = m.end()
    return sign * round(total) if pos else None


def duration(iss: Issues, m: dict, key: str, path: str, *, zero_ok: bool = False) -> int | None:
    """Istio's ValidateDuration: at least 1ms, millisecond precision."""
    v = m.get(key)
    if v is None:
        return None
    ns = parse_duration(v)
    p = f"{path}.{key}"
    if ns is None:
        iss.err(p, f"{key}: invalid duration {v!r}")
        return None
    if zero_ok and ns == 0:
        return 0
    if ns < 1_000_000:
        iss.err(p, "duration must be greater than 1ms")
    elif ns % 1_000_000:
        iss.err(p, "only durations to ms precision are supported")
    return ns


# --- headers -------------------------------------------------------------------------------

_TCHARS = re.compile(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$")
_STRICT_HEADER = re.compile(r"^[-A-Za-z0-9]+$")
_BAD_VALUE_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
PSEUDO_HEADERS = {":method", ":scheme", ":authority", ":path", ":status"}


def header_name(name: str) -> str | None:
    if not name:
        return "header name cannot be empty"
    if not _TCHARS.match(name):
        return f"header name {name} is not a valid header name"
    return None


def strict_header_name(name: str) -> str | None:
    if not name:
        return "header name cannot be empty"
    if not _STRICT_HEADER.match(name):
        return f"header name {name} is not a valid header name"
    return None


def header_value(value: Any) -> str | None:
    """Envoy header values: no control characters, `%` only as `%%` or a closed `%VAR%`."""
    if not isinstance(value, str):
        return f"header value configuration {value} is invalid"
    if _BAD_VALUE_CHARS.search(value):
        return f"header value configuration {value} is invalid"
    i = 0
    while i < len(value):
        if value[i] == "%":
            if value[i + 1 : i + 2] == "%":
                i += 2
                continue
            end = value.find("%", i + 1)
            if end < 0 or end == i + 1:
                return (
                    "header value configuration: invalid header configuration. "
                    f"Un-terminated variable expression '{value[i:]}'"
                )
            i = end + 1
            continue
        i += 1
    return None


def http_status_known(code: int) -> bool:
    try:
        HTTPStatus(code)
    except ValueError:
        return False
    return True


def workload_selector(iss: Issues, sel: Any, path: str, key: str = "matchLabels") -> None:
    """type.v1beta1.WorkloadSelector: no empty keys or wildcards; no labels selects everything (warning)."""
    if sel is None:
        return
    if not isinstance(sel, dict):
        iss.err(path, f"expected an object, got {_type(sel)}")
        return
    ml = sel.get(key)
    if ml is not None and not isinstance(ml, dict):
        iss.err(f"{path}.{key}", f"{key}: expected a map of labels, got {_type(ml)}")
        return
    for k, v in (ml or {}).items():
        if k == "":
            iss.err(f"{path}.{key}", f'empty key is not supported in selector: "={v}"')
        if "*" in str(k) or "*" in str(v):
            iss.err(f"{path}.{key}", f'wildcard is not supported in selector: "{k}={v}"')
    if not ml:
        iss.warn(path, "workload selector specified without labels")
