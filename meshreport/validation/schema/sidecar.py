"""Sidecar: ingress/egress listeners, ports and binds, egress hosts, outbound traffic policy."""

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
    ip,
    port,
    port_name,
    proto,
    protocol,
    unix_address,
)
from meshreport.validation.schema.common import alpha_selector, destination
from meshreport.validation.schema.gateway import namespace_slash_host, server_tls
from meshreport.validation.schema.traffic import connection_pool

UNIX = "unix://"
_LOCAL = ("127.0.0.1", "0.0.0.0", "::1", "::")


def sidecar(iss: Issues, spec: dict, namespace: str) -> None:
    if not alpha_selector(iss, spec, "sidecar"):
        return
    ingress, egress = get_maps(iss, spec, "ingress", "spec"), get_maps(iss, spec, "egress", "spec")
    if (
        not ingress
        and not egress
        and spec.get("outboundTrafficPolicy") is None
        and spec.get("inboundConnectionPool") is None
    ):
        iss.err("spec", "sidecar: empty configuration provided")
        return
    seen_ports: set[int] = set()
    for p, i in ingress:
        pt = get_map(iss, i, "port", p)
        if pt is None:
            iss.err(p, "sidecar: port is required for ingress listeners")
            continue
        pp = f"{p}.port"
        if (get_int(iss, pt, "targetPort", pp) or 0) > 0:
            iss.err(f"{pp}.targetPort", "targetPort has no impact on Sidecars")
        number = _port_and_bind(iss, pt, pp, get_str(iss, i, "bind", p), f"{p}.bind")
        if number in seen_ports:
            iss.err(pp, "sidecar: ports on IP bound listeners must be unique")
        seen_ports.add(number or 0)
        ep = get_str(iss, i, "defaultEndpoint", p)
        if ep:
            _default_endpoint(iss, ep, f"{p}.defaultEndpoint")
        if (tls := get_map(iss, i, "tls", p)) is not None:
            tp = f"{p}.tls"
            for key, text in (
                ("subjectAltNames", "sidecar: subjectAltNames is not supported in ingress tls"),
                ("httpsRedirect", "sidecar: httpsRedirect is not supported"),
                ("credentialName", "sidecar: credentialName is not currently supported"),
                ("credentialNames", "sidecar: credentialNames is not currently supported"),
                ("tlsCertificates", "sidecar: tls_certificates is not currently supported"),
            ):
                if tls.get(key):
                    iss.err(f"{tp}.{key}", text)
            if tls.get("mode") in ("ISTIO_MUTUAL", "AUTO_PASSTHROUGH"):
                iss.err(
                    f"{tp}.mode", f"configuration is invalid: cannot set mode to {tls['mode']} in sidecar ingress tls"
                )
            if proto(str(pt.get("protocol") or "")) not in TLS_PROTOCOLS:
                iss.err(tp, "server cannot have TLS settings for non HTTPS/TLS ports")
            server_tls(iss, tls, tp)
        cp = get_map(iss, i, "connectionPool", p)
        connection_pool(iss, cp, f"{p}.connectionPool")
        if cp is not None and cp.get("http") is not None and proto(str(pt.get("protocol") or "")) not in HTTP_PROTOCOLS:
            iss.warn(
                f"{p}.connectionPool.http",
                f"sidecar: HTTP connection pool settings are configured for port {pt.get('number')} "
                f'("{pt.get("name", "")}") but its protocol is not HTTP ({pt.get("protocol", "")}); only TCP settings '
                "will apply",
            )
    connection_pool(iss, get_map(iss, spec, "inboundConnectionPool", "spec"), "spec.inboundConnectionPool")
    seen_ports, seen_uds = set(), set()
    catch_all = False
    for idx, (p, e) in enumerate(egress):
        pt = get_map(iss, e, "port", p)
        if pt is None:
            if catch_all:
                iss.err(p, "sidecar: egress can have only one listener with empty port")
                continue
            if idx == len(egress) - 1:
                catch_all = True
            else:
                iss.err(p, "sidecar: the egress listener with empty port should be the last listener in the list")
        else:
            pp = f"{p}.port"
            if (get_int(iss, pt, "targetPort", pp) or 0) > 0:
                iss.err(f"{pp}.targetPort", "targetPort has no impact on Sidecars")
            bind = get_str(iss, e, "bind", p)
            mode = get_enum(iss, e, "captureMode", p, enums.CAPTURE_MODE) or "DEFAULT"
            number = get_int(iss, pt, "number", pp) or 0
            if number == 0:
                name = get_str(iss, pt, "name", pp)
                if name:
                    iss.err(f"{pp}.name", port_name(name))
                iss.err(f"{pp}.protocol", protocol(get_str(iss, pt, "protocol", pp)))
                if not bind.startswith(UNIX):
                    iss.err(f"{p}.bind", "sidecar: ports with 0 value must have a unix domain socket bind address")
                else:
                    iss.err(f"{p}.bind", unix_address(bind[len(UNIX) :]))
                if mode not in ("DEFAULT", "NONE"):
                    iss.err(
                        f"{p}.captureMode", "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners"
                    )
                if bind in seen_uds:
                    iss.err(f"{p}.bind", "sidecar: unix domain socket values for listeners must be unique")
                seen_uds.add(bind)
            else:
                _port_and_bind(iss, pt, pp, bind, f"{p}.bind")
                if number in seen_ports:
                    iss.err(pp, "sidecar: ports on IP bound listeners must be unique")
                seen_ports.add(number)
        hosts = get_strs(iss, e, "hosts", p)
        if not hosts:
            iss.err(f"{p}.hosts", "sidecar: egress listener must contain at least one host")
            continue
        by_ns: dict[str, set[str]] = {}
        for h in hosts:
            ns, sep, svc = h.partition("/")
            if sep:
                ns = namespace if ns == "." else ns
                have = by_ns.setdefault(ns, set())
                if (svc != "*" and (svc in have or "*" in have)) or (svc == "*" and have):
                    iss.warn(f"{p}.hosts", f"duplicated egress host: {h}")
                have.add(svc)
            iss.err(f"{p}.hosts", namespace_slash_host(h, gateway=False))
        if "*" in by_ns.get("*", set()) and len(by_ns) != 1:
            iss.warn(f"{p}.hosts", "`*/*` host select all resources, no other hosts can be added")
    if (otp := get_map(iss, spec, "outboundTrafficPolicy", "spec")) is not None:
        p = "spec.outboundTrafficPolicy"
        mode = get_enum(iss, otp, "mode", p, enums.OUTBOUND_MODE) or "REGISTRY_ONLY"
        if (proxy := get_map(iss, otp, "egressProxy", p)) is not None:
            if mode != "ALLOW_ANY":
                iss.err(
                    f"{p}.egressProxy",
                    "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode",
                )
            else:
                iss.err(f"{p}.egressProxy.host", fqdn(get_str(iss, proxy, "host", f"{p}.egressProxy")))
                if proxy.get("port") is None:
                    iss.err(f"{p}.egressProxy", "sidecar: egress_proxy port must be non-nil")
                else:
                    destination(iss, proxy, f"{p}.egressProxy")


def _port_and_bind(iss: Issues, pt: dict, path: str, bind: str, bind_path: str) -> int | None:
    name = get_str(iss, pt, "name", path)
    if name:
        iss.err(f"{path}.name", port_name(name))
    iss.err(f"{path}.protocol", protocol(get_str(iss, pt, "protocol", path)))
    number = get_int(iss, pt, "number", path)
    iss.err(f"{path}.number", port(number))
    if bind:
        iss.err(bind_path, ip(bind))
    return number


def _default_endpoint(iss: Issues, ep: str, path: str) -> None:
    if ep.startswith(UNIX):
        iss.err(path, unix_address(ep[len(UNIX) :]))
        return
    host, sep, p = ep.rpartition(":")
    if not sep:
        iss.err(path, f"address {ep}: missing port in address")
        return
    host = host.strip("[]")
    if host and host not in _LOCAL:
        iss.err(
            path,
            "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,"
            "unix://filepath or unset",
        )
    if not p.isdigit():
        iss.err(
            path, f'sidecar: defaultEndpoint port ({p}) is not a number: strconv.Atoi: parsing "{p}": invalid syntax'
        )
    else:
        iss.err(path, port(int(p)))
