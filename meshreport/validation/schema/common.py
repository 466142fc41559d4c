"""Checks several kinds share: exportTo, gateway names, destinations, policy targets, metadata."""

from __future__ import annotations

from typing import Any

from meshreport.validation.schema._checks import (
    Issues,
    fqdn,
    get_int,
    get_map,
    get_maps,
    get_str,
    get_strs,
    is_dns_label,
    port,
    wildcard_domain,
    workload_selector,
)

DRY_RUN = "istio.io/dry-run"
_INTERNAL = ("internal.istio.io/parent-namespace", "internal.istio.io/parent-names")
_TARGET_KINDS = {
    ("core", "Service"),
    ("networking.istio.io", "ServiceEntry"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "GatewayClass"),
}
_TARGET_TEXT = (
    "[core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1/Gateway "
    "gateway.networking.k8s.io/v1/GatewayClass]"
)


def metadata(iss: Issues, kind: str, name: str, namespace: str, annotations: dict[str, Any], spec: dict) -> bool:
    """Istio's validateMetadata, run before every kind. False: the object is rejected outright."""
    if DRY_RUN in annotations:
        value = str(annotations[DRY_RUN])
        if kind != "AuthorizationPolicy":
            iss.err(
                f"metadata.annotations.{DRY_RUN}",
                f"{namespace}/{name} has unsupported annotation {DRY_RUN}, please remove the annotation",
            )
            return False
        action = spec.get("action") or "ALLOW"
        if action not in ("ALLOW", "DENY"):
            iss.err(
                f"metadata.annotations.{DRY_RUN}",
                f"the annotation {DRY_RUN} currently only supports action ALLOW/DENY, found action {action} in "
                f"{namespace}/{name}",
            )
            return False
        if value.lower() not in ("1", "t", "true", "0", "f", "false"):
            iss.err(
                f"metadata.annotations.{DRY_RUN}",
                f"{namespace}/{name} has annotation {DRY_RUN} with invalid value ({value}): strconv.ParseBool: "
                f'parsing "{value}": invalid syntax',
            )
            return False
    if "istio.io/reject" in annotations:
        iss.err("metadata.annotations", '"istio.io/reject" annotation found, rejecting')
        return False
    for a in _INTERNAL:
        if a in annotations:
            iss.err("metadata.annotations", f'"{a}" annotation found, this may not be set by users')
            return False
    return True


def export_to(iss: Issues, spec: dict, namespace: str, *, service_entry: bool = False, dr_with_selector: bool = False):
    entries = get_strs(iss, spec, "exportTo", "spec")
    if not entries:
        return
    path = "spec.exportTo"
    seen: set[str] = set()
    for e in entries:
        key = namespace if e == "." else e
        if key in seen:
            iss.err(
                path,
                f"duplicate entries in exportTo: . and current namespace {namespace}"
                if key != e
                else f"duplicate entries in exportTo for entry {e}",
            )
            continue
        if service_entry and e == "~":
            seen.add(key)
        elif key == "~":
            iss.err(path, "exportTo ~ (none) is not allowed for Istio configuration objects")
        elif key != "*" and not is_dns_label(key):
            iss.err(path, "only .,*, or a valid DNS 1123 label is allowed as exportTo entry")
        else:
            seen.add(key)
    if dr_with_selector and seen:
        if namespace in seen:
            if len(seen) > 1:
                iss.err(path, "destination rule with workload selector cannot have multiple entries in exportTo")
        else:
            iss.err(path, "destination rule with workload selector cannot have exportTo beyond current namespace")
    if "*" in seen and len(entries) > 1:
        iss.err(path, "cannot have both public (*) and non-public exportTo values for a resource")
    if "~" in seen and len(entries) > 1:
        iss.err(path, "cannot export service entry to no one (~) and someone")


def gateway_names(iss: Issues, names: list[str], path: str) -> None:
    """`namespace/name`, or the legacy `name.namespace`/short name (KIA1108 reports the legacy form)."""
    for g in names:
        ns, sep, name = g.partition("/")
        if not sep:
            iss.err(path, fqdn(g))
            continue
        if not ns or not name:
            iss.err(path, "config namespace and gateway name cannot be empty")
        if not is_dns_label(ns):
            iss.err(path, f'invalid value for namespace: "{ns}"')
        if not is_dns_label(name):
            iss.err(path, f'invalid value for gateway name: "{name}"')


def destination(iss: Issues, d: dict | None, path: str) -> None:
    """networking.Destination: a host (not `*`), an optional subset and port."""
    if d is None:
        return
    host = get_str(iss, d, "host", path)
    if host == "*":
        iss.err(f"{path}.host", f"invalid destination host {host}")
    elif not host:
        iss.err(f"{path}.host", "destination.host is required")
    else:
        iss.err(f"{path}.host", wildcard_domain(host))
    subset = d.get("subset")
    if subset:
        from meshreport.validation.schema.traffic import subset_name  # noqa: PLC0415  (cycle)

        iss.err(f"{path}.subset", subset_name(str(subset)))
    if (p := get_map(iss, d, "port", path)) is not None:
        iss.err(f"{path}.port", port(get_int(iss, p, "number", f"{path}.port")))


def policy_target(iss: Issues, spec: dict) -> None:
    """selector / targetRef / targetRefs: at most one, and only the kinds Istio accepts."""
    sel, ref = spec.get("selector"), spec.get("targetRef")
    refs = get_maps(iss, spec, "targetRefs", "spec")
    if sum((sel is not None, ref is not None, bool(refs))) > 1:
        iss.err("spec", "only one of targetRefs or workloadSelector can be set")
    workload_selector(iss, sel, "spec.selector")
    if isinstance(ref, dict):
        refs = [("spec.targetRef", ref), *refs]
    elif ref is not None:
        iss.err("spec.targetRef", "targetRef: expected an object")
    for p, r in refs:
        if not get_str(iss, r, "name", p):
            iss.err(p, "targetRef name must be set")
        if get_str(iss, r, "namespace", p):
            iss.err(p, "targetRef namespace must not be set; cross namespace referencing is not supported")
        group, kind = get_str(iss, r, "group", p), get_str(iss, r, "kind", p)
        if (group or "core", kind) not in _TARGET_KINDS:
            iss.err(p, f"targetRef must be to one of {_TARGET_TEXT} but was {group}/{kind}")


def alpha_selector(iss: Issues, spec: dict, what: str) -> bool:
    """networking.WorkloadSelector (`labels`) of Sidecar, ServiceEntry, EnvoyFilter. False: rejected."""
    sel = spec.get("workloadSelector")
    if sel is None:
        return True
    if not isinstance(sel, dict):
        iss.err("spec.workloadSelector", "workloadSelector: expected an object")
        return False
    before = len(iss.items)
    lab = sel.get("labels") if isinstance(sel.get("labels"), dict) else {}
    for k, v in lab.items():
        if k == "":
            iss.err("spec.workloadSelector.labels", f'empty key is not supported in selector: "={v}"')
        if "*" in str(k) or "*" in str(v):
            iss.err("spec.workloadSelector.labels", f'wildcard is not supported in selector: "{k}={v}"')
    if len(iss.items) > before:
        return False
    if not lab:
        iss.warn(
            "spec.workloadSelector",
            f"{what}: workload selector specified without labels, will be applied to all services in namespace",
        )
    return True
