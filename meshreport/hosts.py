"""Host names, wildcards, exportTo visibility, label selectors and Kiali's app/version labels:
the mesh's shared vocabulary for the graph, mTLS and validation.

Istio and Kiali compare hosts after normalising short names to FQDNs relative to the object's
namespace; every reader must do it the same way, so it lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from meshreport.istio_names import DEFAULT_DOMAIN

#: Kiali's service identity domain (`svc.` + the cluster domain).
IDENTITY_DOMAIN = "svc." + DEFAULT_DOMAIN


def fqdn(host: str, namespace: str | None, domain: str = DEFAULT_DOMAIN) -> str:
    """Short name -> `<name>.<ns>.svc.<domain>` (Istio's rule: only names without a dot expand)."""
    h = (host or "").strip().lower()
    if not h or h == "*" or "." in h or not namespace:
        return h
    return f"{h}.{namespace}.svc.{domain}"


def expand_name_ns(host: str, domain: str = DEFAULT_DOMAIN) -> str | None:
    """Kiali also reads `name.ns` as `<name>.<ns>.svc.<domain>`; None when the host is not of that form."""
    h = (host or "").strip().lower()
    parts = h.split(".")
    if len(parts) == 2 and "*" not in h and all(parts):
        return f"{parts[0]}.{parts[1]}.svc.{domain}"
    return None


def service_host(name: str, namespace: str, domain: str = DEFAULT_DOMAIN) -> str:
    return f"{name}.{namespace}.svc.{domain}".lower()


def is_wildcard(host: str) -> bool:
    return host.startswith("*")


def host_matches(host: str, pattern: str) -> bool:
    """True when `pattern` (exact, `*` or `*.suffix`) covers `host` (which may itself be a wildcard)."""
    host, pattern = host.lower(), pattern.lower()
    if pattern == "*" or host == pattern:
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]  # ".suffix"
        if host.startswith("*."):
            return host[1:].endswith(suffix)
        return host.endswith(suffix)
    return False


def hosts_overlap(a: str, b: str) -> bool:
    """Either host covers the other (Kiali's and Istio's collision test)."""
    return host_matches(a, b) or host_matches(b, a)


def suffixes(host: str) -> list[str]:
    """`a.b.c` -> [`b.c`, `c`]: keys for wildcard lookups without scanning every host."""
    parts = host.lower().split(".")
    return [".".join(parts[i:]) for i in range(1, len(parts))]


def split_namespaced_host(value: str) -> tuple[str | None, str]:
    """`ns/host` -> (ns, host); `./host` keeps `.`; a bare host -> (None, host)."""
    if "/" in value:
        ns, host = value.split("/", 1)
        return ns, host
    return None, value


def export_scope(export_to: Iterable[str] | None, default: Iterable[str] = ("*",)) -> tuple[str, ...]:
    """The exportTo list to apply: the object's own, or the mesh default when it sets none."""
    values = tuple(str(x) for x in (export_to or ()) if str(x))
    return values or tuple(default)


def visible(export_to: Iterable[str], owner_ns: str | None, viewer_ns: str | None) -> bool:
    """Is an object of `owner_ns`, exported to `export_to`, visible from `viewer_ns`?"""
    for e in export_to:
        if e == "*":
            return True
        if e == "." and owner_ns == viewer_ns:
            return True
        if e == viewer_ns and e not in (".", "~"):
            return True
    return False


def selector_matches(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """matchLabels semantics: every selector label present with the same value (empty selects all)."""
    if not selector:
        return True
    return all(labels.get(k) == v for k, v in selector.items())


def wildcard_match(value: str, pattern: str) -> bool:
    """Istio's string match: exact, `*`, `prefix*` or `*suffix`."""
    if pattern == "*" or value == pattern:
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return False


def label_value(labels: dict[str, str], keys: tuple[str, ...]) -> str | None:
    """Kiali's canonical app/version label lookup: the first key present wins."""
    for k in keys:
        if k in labels:
            return labels[k]
    return None


def kiali_fqdn(host: str, namespace: str | None) -> str:
    """Kiali's short-name expansion, the graph's: `reviews` -> `reviews.<ns>.svc.cluster.local`,
    `a.b` -> `a.b.svc...` (`fqdn` is Istio's, which expands only names without a dot).

    Equivalent to Kiali's FilterByHost matching when both sides are expanded the same way.
    """
    parts = host.split(".")
    if len(parts) == 1:
        return f"{host}.{namespace}.{IDENTITY_DOMAIN}"
    if len(parts) == 2:
        return f"{host}.{IDENTITY_DOMAIN}"
    if len(parts) == 3 and parts[2] == "svc":
        return f"{host}.{DEFAULT_DOMAIN}"
    return host


def service_fqdn(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.{IDENTITY_DOMAIN}"
