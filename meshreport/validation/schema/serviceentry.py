"""ServiceEntry, WorkloadEntry and WorkloadGroup (they share the endpoint checks)."""

from __future__ import annotations

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import (
    HTTP_PROTOCOLS,
    TLS_PROTOCOLS,
    Issues,
    fqdn,
    get_enum,
    get_int,
    get_map,
    get_maps,
    get_str,
    get_strs,
    ip_subnet,
    is_ip,
    labels,
    partial_wildcard,
    port,
    port_name,
    proto,
    protocol,
    strict_header_name,
    unix_address,
    wildcard_domain,
)
from meshreport.validation.schema.common import alpha_selector, export_to

UNIX = "unix://"
_TCP_LIKE = {"tcp", "https", "tls", "mongo", "redis", "mysql"}


def service_entry(iss: Issues, spec: dict, namespace: str) -> None:
    if not alpha_selector(iss, spec, "service entry"):
        return
    selector, endpoints = spec.get("workloadSelector"), spec.get("endpoints")
    if selector is not None and endpoints is not None:
        iss.err("spec", "only one of WorkloadSelector or Endpoints is allowed in Service Entry")
    hosts = get_strs(iss, spec, "hosts", "spec")
    if not hosts:
        iss.err("spec.hosts", "ServiceEntry must have at least one host")
    for i, h in enumerate(hosts):
        if h == "*":
            iss.err(f"spec.hosts[{i}]", f"invalid host {h}")
        else:
            iss.err(f"spec.hosts[{i}]", wildcard_domain(h))
            iss.warn(f"spec.hosts[{i}]", partial_wildcard(h))
    addresses = get_strs(iss, spec, "addresses", "spec")
    for a in addresses:
        iss.err("spec.addresses", ip_subnet(a))
    resolution = get_enum(iss, spec, "resolution", "spec", enums.SE_RESOLUTION) or "NONE"
    get_enum(iss, spec, "location", "spec", enums.SE_LOCATION)
    if any("/" in a for a in addresses) and resolution not in ("NONE", "STATIC"):
        iss.err("spec.addresses", "CIDR addresses are allowed only for NONE/STATIC resolution types")
    names: set[str] = set()
    numbers: set[int] = set()
    ports = get_maps(iss, spec, "ports", "spec")
    for p, pt in ports:
        name, number = get_str(iss, pt, "name", p), get_int(iss, pt, "number", p)
        if name in names:
            iss.err(f"{p}.name", f'service entry port name "{name}" already defined')
        if number in numbers:
            iss.err(f"{p}.number", f"service entry port {number} already defined")
        names.add(name)
        if number is not None:
            numbers.add(number)
        if (tp := get_int(iss, pt, "targetPort", p)) is not None and tp != 0:
            iss.err(f"{p}.targetPort", port(tp))
        # addresses for TCP ports without auto-allocation: IST0134 (rules/serviceentry.py) reports it
        iss.err(f"{p}.name", port_name(name))
        iss.err(f"{p}.protocol", protocol(get_str(iss, pt, "protocol", p)))
        iss.err(f"{p}.number", port(number))
    eps = get_maps(iss, spec, "endpoints", "spec")
    if resolution == "NONE":
        if eps:
            iss.err("spec.endpoints", "no endpoints should be provided for resolution type none")
        if selector is not None:
            iss.warn("spec.workloadSelector", "workloadSelector should not be set when resolution mode is NONE")
    elif resolution == "STATIC":
        for p, ep in eps:
            workload_entry(iss, ep, p, service_ports=names, allow_fqdn=False)
    else:
        if not eps:
            for i, h in enumerate(hosts):
                if fqdn(h):
                    iss.err(
                        f"spec.hosts[{i}]",
                        f"hosts must be FQDN if no endpoints are provided for resolution mode {resolution}",
                    )
        if resolution == "DNS_ROUND_ROBIN" and len(eps) > 1:
            iss.err("spec.endpoints", f"there must only be 0 or 1 endpoint for resolution mode {resolution}")
        for p, ep in eps:
            addr = get_str(iss, ep, "address", p)
            if not is_ip(addr) and fqdn(addr):
                iss.err(f"{p}.address", f'endpoint address "{addr}" is not a valid FQDN or an IP address')
            labels(iss, ep.get("labels"), f"{p}.labels")
            for pn, n in (get_map(iss, ep, "ports", p) or {}).items():
                if pn not in names:
                    iss.err(f"{p}.ports", f"endpoint port {n} is not defined by the service entry")
                iss.err(f"{p}.ports", port_name(str(pn)))
                iss.err(f"{p}.ports", port(n if isinstance(n, int) else None))
        if addresses and len(hosts) > 1 and any(proto(str(pt.get("protocol") or "")) in _TCP_LIKE for _, pt in ports):
            iss.warn(
                "spec.hosts",
                "service entry can not have more than one host specified simultaneously with address and tcp port",
            )
    if resolution != "NONE" and len(hosts) > 1:
        for p, pt in ports:
            pr = proto(str(pt.get("protocol") or ""))
            if pr not in HTTP_PROTOCOLS and pr not in TLS_PROTOCOLS:
                iss.err(p, "multiple hosts provided with non-HTTP, non-TLS ports")
                break
    export_to(iss, spec, namespace, service_entry=True)


def workload_entry(
    iss: Issues, we: dict, path: str, *, service_ports: set[str] | None = None, allow_fqdn: bool = True
) -> None:
    addr = get_str(iss, we, "address", path)
    if not addr:
        network = get_str(iss, we, "network", path)
        if not network:
            iss.err(f"{path}.address", "address is required")
            return
        iss.warn(f"{path}.address", f'address is unset with network "{network}"')
    ports = get_map(iss, we, "ports", path) or {}
    unix = addr.startswith(UNIX)
    if unix:
        iss.err(f"{path}.address", unix_address(addr[len(UNIX) :]))
        if ports:
            iss.err(f"{path}.ports", f"unix endpoint {addr} must not include ports")
    elif addr and not is_ip(addr):
        if not allow_fqdn:
            iss.err(f"{path}.address", f'endpoint address "{addr}" is not a valid IP address')
        elif fqdn(addr):
            iss.err(f"{path}.address", f'endpoint address "{addr}" is not a valid FQDN or an IP address')
    for name, n in ports.items():
        if service_ports is not None and name not in service_ports:
            iss.err(f"{path}.ports", f"endpoint port {n} is not defined by the service entry")
        iss.err(f"{path}.ports", port_name(str(name)))
        iss.err(f"{path}.ports", port(n if isinstance(n, int) and not isinstance(n, bool) else None))
    labels(iss, we.get("labels"), f"{path}.labels")
    w = get_int(iss, we, "weight", path)
    if w is not None and w < 0:
        iss.err(f"{path}.weight", f"weight: must be a non-negative integer, got {w}")
    if unix and service_ports is not None and len(service_ports) != 1:
        iss.err(path, "exactly 1 service port required for unix endpoints")


def workload_group(iss: Issues, spec: dict) -> None:
    if not isinstance(spec.get("template"), dict):
        iss.err("spec.template", "template is required")
        return
    if (md := get_map(iss, spec, "metadata", "spec")) is not None:
        before = len(iss.items)
        labels(iss, md.get("labels"), "spec.metadata.labels")
        for i in range(before, len(iss.items)):
            iss.items[i] = iss.items[i]._replace(message=f"invalid labels: {iss.items[i].message}")
        if len(iss.items) > before:
            return
    probe = get_map(iss, spec, "probe", "spec")
    if probe is None:
        return
    p = "spec.probe"
    for key in ("periodSeconds", "initialDelaySeconds", "timeoutSeconds", "successThreshold", "failureThreshold"):
        v = get_int(iss, probe, key, p)
        if v is not None and v < 0:
            iss.err(f"{p}.{key}", f"{key} must be non-negative")
    methods = [k for k in ("httpGet", "tcpSocket", "exec", "grpc") if probe.get(k) is not None]
    if not methods:
        iss.err(p, "unknown health check method <nil>")
        return
    m = methods[0]
    body = get_map(iss, probe, m, p)
    if body is None:
        return
    mp = f"{p}.{m}"
    if m in ("httpGet", "tcpSocket", "grpc"):
        iss.err(f"{mp}.port", port(get_int(iss, body, "port", mp)))
    if m == "httpGet":
        scheme = get_str(iss, body, "scheme", mp)
        if scheme and scheme not in ("HTTP", "HTTPS"):
            iss.err(f"{mp}.scheme", 'httpGet.scheme must be one of "HTTPS", "HTTP"')
        for hp, h in get_maps(iss, body, "httpHeaders", mp):
            iss.err(hp, strict_header_name(get_str(iss, h, "name", hp)))
    if m == "exec" and not get_strs(iss, body, "command", mp):
        iss.err(f"{mp}.command", "exec.command is required")
