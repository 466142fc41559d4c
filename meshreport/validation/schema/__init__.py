"""Istio's own config validation (istioctl's schema.ValidationAnalyzer.<Kind>), as pure functions.

`validate()` returns `Issue(severity, path, message)`s: errors are IST0106 SchemaValidationError,
warnings IST0133 SchemaWarning. The facts (required fields, formats, limits, wording) follow
istio/istio `pkg/config/validation` and istio/api (Apache-2.0, Istio 1.2x); the code is our own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from meshreport.validation.schema._checks import Issue, Issues
from meshreport.validation.schema.common import metadata
from meshreport.validation.schema.enums import SPEC_FIELDS
from meshreport.validation.schema.envoyfilter import envoy_filter
from meshreport.validation.schema.extensions import proxy_config, wasm_plugin
from meshreport.validation.schema.gateway import gateway
from meshreport.validation.schema.security import authorization_policy, peer_authentication, request_authentication
from meshreport.validation.schema.serviceentry import service_entry, workload_entry, workload_group
from meshreport.validation.schema.sidecar import sidecar
from meshreport.validation.schema.telemetry import telemetry
from meshreport.validation.schema.traffic import destination_rule
from meshreport.validation.schema.virtualservice import virtual_service

__all__ = ["KINDS", "Issue", "validate"]

# kind -> fn(issues, spec, name, namespace)
_BY_KIND: dict[str, Callable[[Issues, dict, str, str], None]] = {
    "VirtualService": lambda i, s, n, ns: virtual_service(i, s, ns),
    "DestinationRule": lambda i, s, n, ns: destination_rule(i, s, ns),
    "Gateway": lambda i, s, n, ns: gateway(i, s, n),
    "ServiceEntry": lambda i, s, n, ns: service_entry(i, s, ns),
    "Sidecar": lambda i, s, n, ns: sidecar(i, s, ns),
    "EnvoyFilter": lambda i, s, n, ns: envoy_filter(i, s),
    "WorkloadEntry": lambda i, s, n, ns: workload_entry(i, s, "spec"),
    "WorkloadGroup": lambda i, s, n, ns: workload_group(i, s),
    "PeerAuthentication": lambda i, s, n, ns: peer_authentication(i, s),
    "AuthorizationPolicy": lambda i, s, n, ns: authorization_policy(i, s, n, ns),
    "RequestAuthentication": lambda i, s, n, ns: request_authentication(i, s),
    "Telemetry": lambda i, s, n, ns: telemetry(i, s),
    "WasmPlugin": lambda i, s, n, ns: wasm_plugin(i, s),
    "ProxyConfig": lambda i, s, n, ns: proxy_config(i, s),
}
KINDS: tuple[str, ...] = tuple(_BY_KIND)


def validate(
    kind: str, spec: Any, *, name: str = "", namespace: str = "", annotations: Mapping[str, Any] | None = None
) -> list[Issue]:
    """Every schema issue of one Istio object, in check order (no duplicates)."""
    fn = _BY_KIND.get(kind)
    if fn is None:
        return []
    iss = Issues()
    if not metadata(iss, kind, name, namespace, dict(annotations or {}), spec if isinstance(spec, dict) else {}):
        return iss.items
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        iss.err("spec", f"spec: expected an object, got {type(spec).__name__}")
        return iss.items
    for key in sorted(set(spec) - SPEC_FIELDS[kind], key=str):
        iss.warn(f"spec.{key}", f'unknown field "spec.{key}" (not in the {kind} schema; the API server drops it)')
    fn(iss, spec, name, namespace or "")
    out: list[Issue] = []
    seen: set[Issue] = set()
    for it in iss.items:
        if it not in seen:
            seen.add(it)
            out.append(it)
    return out
