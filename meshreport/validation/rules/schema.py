"""IST0106 SchemaValidationError and IST0133 SchemaWarning: Istio's own validation of each Istio kind.

istioctl runs one schema.ValidationAnalyzer per kind; here one rule per kind and severity, all backed
by `meshreport.validation.schema` (pure functions). Errors and warnings of an object are computed once
and shared by its two rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.schema import KINDS, Issue, openapi, validate

if TYPE_CHECKING:
    from meshreport.snapshot.model import ConfigObject
    from meshreport.validation.index import Context

ISTIO_GROUPS = ("networking.istio.io/", "security.istio.io/", "telemetry.istio.io/", "extensions.istio.io/")

_last: tuple[ConfigObject | None, list[Issue]] = (None, [])


def _issues(obj: ConfigObject) -> list[Issue]:
    """Both rules of a kind run back to back on the same object: validate it once."""
    global _last
    if _last[0] is not obj:
        spec = obj.body.get("spec")
        found = validate(obj.kind, spec, name=obj.name, namespace=obj.namespace or "", annotations=obj.annotations)
        # The CRD schema adds what the hand-written checks do not say already about the same field.
        said = {it.path for it in found}
        found += [it for it in openapi.check(obj.api_version, obj.kind, spec) if it.path not in said]
        _last = (obj, found)
    return _last[1]


def _istio(obj: ConfigObject) -> bool:
    """`Gateway` is also a Gateway API kind (rule kind K8sGateway); only Istio groups are ours."""
    return obj.api_version.startswith(ISTIO_GROUPS)


_ABOUT = {
    "VirtualService": "hosts (FQDN or wildcard, no `*` for mesh), delegate rules, http/tls/tcp routes (a route, "
    "redirect or directResponse, not conflicting ones), destinations (host, subset name, port 1-65535, weights), "
    "match regexes (RE2: no lookaround or backreferences), header names and values, retries (retryOn policies, "
    "attempts), timeouts and durations, fault percentages and statuses, CORS, rewrites, mirrors, gateway names, "
    "SNI hosts, CIDRs, exportTo",
    "DestinationRule": "host, subsets (unique DNS-label names, label syntax), traffic policies (not empty, tunnel "
    "vs proxyProtocol), connection pool limits and durations, outlier detection percentages, load balancer "
    "(enum, consistent hash, maglev table size, locality distribute/failover, warmup), client TLS (MUTUAL "
    "needs certificate and key, credentialName exclusivity, insecureSkipVerify), exportTo and workload selector",
    "Gateway": "name, servers (at least one, hosts as `namespace/host`, port number, name and protocol, unique "
    "port names, bind address), server TLS (mode enum, certificates per mode, ISTIO_MUTUAL exclusivity, cipher "
    "suites, TLS on plain-text ports)",
    "ServiceEntry": "hosts (no `*`, FQDN for DNS without endpoints), addresses and CIDRs per resolution, ports "
    "(unique names and numbers, protocol, range), endpoints per resolution (IP, FQDN, unix socket, declared "
    "ports, labels), workloadSelector vs endpoints, multiple hosts on TCP ports, exportTo",
    "Sidecar": "workload selector, not empty, ingress listeners (port, bind, defaultEndpoint, TLS limits, "
    "connection pool), egress listeners (one catch-all last, unique ports and sockets, hosts as "
    "`namespace/host`), outboundTrafficPolicy mode and egress proxy",
    "EnvoyFilter": "config patches (applyTo, patch, operation, value), proxyVersion regex, match class for the "
    "applyTo, filter and sub-filter names, deprecated filter names; every EnvoyFilter carries Istio's warning "
    "that it exposes internal implementation details",
    "WorkloadEntry": "address (IP, FQDN or unix socket, or a network), ports (names, range), labels, weight",
    "WorkloadGroup": "template, metadata labels, readiness probe (non-negative timings, one method, port, scheme, "
    "header names, exec command)",
    "PeerAuthentication": "mTLS mode enums, port-level mTLS only with a selector and valid ports, selector",
    "AuthorizationPolicy": "action enum and CUSTOM/DENY requirements, provider, rules (from/to/when not empty, "
    "IP blocks, ports, path templates, condition keys and values), selector vs targetRef(s), dry-run "
    "annotation, the DENY-with-only-HTTP-attributes warning",
    "RequestAuthentication": "JWT rules (issuer or jwksUri, jwksUri scheme, inline JWKS is JSON, header, param "
    "and cookie locations, outputClaimToHeaders header names, timeout), selector vs targetRef(s)",
    "Telemetry": "providers named, tracing sampling 0-100 and custom tags, metric overrides (tag operations, "
    "metric enums), selector vs targetRef(s)",
    "WasmPlugin": "url and scheme, sha256, pull secret and plugin name lengths, enums (phase, pull policy, fail "
    "strategy, type), VM env (unique names, valueFrom), match ports, selector vs targetRef(s)",
    "ProxyConfig": "selector and non-negative concurrency",
}
_COMMON = (
    " Every kind also gets the metadata checks (`istio.io/dry-run` only on AuthorizationPolicy, internal "
    "annotations) and is checked against the OpenAPI schema of Istio's CRD for its apiVersion (types, enums, "
    "required and mutually exclusive fields, ranges, patterns; CEL rules are not evaluated); a field the "
    "schema does not have is a warning (the API server prunes it)."
)


def _register(kind: str) -> None:
    slug = kind.lower()

    def errors(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
        if _istio(obj):
            for it in _issues(obj):
                if it.severity == "error":
                    yield Hit(f"Schema validation error: {it.message}", path=it.path)

    def warnings(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
        if _istio(obj):
            for it in _issues(obj):
                if it.severity == "warning":
                    yield Hit(f"Schema validation warning: {it.message}", path=it.path)

    errors.__name__ = errors.__qualname__ = f"schema_error_{slug}"
    warnings.__name__ = warnings.__qualname__ = f"schema_warning_{slug}"
    rule(
        code="IST0106",
        kinds=(kind,),
        severity="error",
        title=f"Schema validation error: {kind}",
        doc=f"The {kind} fails Istio's own validation (what the validating webhook and `istioctl analyze` run); "
        f"Istio rejects it or ignores it. Checked: {_ABOUT[kind]}.{_COMMON} Fix the field the message names.",
    )(errors)
    rule(
        code="IST0133",
        kinds=(kind,),
        severity="warning",
        title=f"Schema validation warning: {kind}",
        doc=f"Istio accepts the {kind} but warns: a deprecated field, a setting that does nothing, or one that "
        f"probably does not do what was meant. Read the message and change the field it names.",
    )(warnings)


for _kind in KINDS:
    _register(_kind)
