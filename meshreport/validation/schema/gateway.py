"""Gateway and the server TLS settings Sidecar ingress listeners reuse."""

from __future__ import annotations

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import (
    HTTP_PROTOCOLS,
    TLS_PROTOCOLS,
    Issues,
    get_bool,
    get_enum,
    get_int,
    get_list,
    get_map,
    get_maps,
    get_str,
    get_strs,
    ip,
    is_dns_label,
    is_ip,
    partial_wildcard,
    port,
    proto,
    unix_address,
    wildcard_domain,
)

CIPHERS = {
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-PSK-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-PSK-AES128-CBC-SHA",
    "ECDHE-PSK-AES256-CBC-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
    "PSK-AES128-CBC-SHA",
    "PSK-AES256-CBC-SHA",
}
UNIX = "unix://"


def gateway(iss: Issues, spec: dict, name: str) -> None:
    if not is_dns_label(name):
        iss.err("metadata.name", f'invalid gateway name: "{name}"')
    servers = get_maps(iss, spec, "servers", "spec")
    if not servers:
        iss.err("spec.servers", "gateway must have at least one server")
    names: set[str] = set()
    for p, s in servers:
        server(iss, s, p)
        pt = s.get("port")
        if isinstance(pt, dict):
            pname = str(pt.get("name") or "")
            if pname in names:
                iss.err(f"{p}.port.name", f"port names in servers must be unique: duplicate name {pname}")
            names.add(pname)
            tls = s.get("tls")
            if proto(str(pt.get("protocol") or "")) not in HTTP_PROTOCOLS and isinstance(tls, dict):
                if tls.get("httpsRedirect") is True:
                    iss.warn(f"{p}.tls.httpsRedirect", "tls.httpsRedirect should only be used with http servers")


def server(iss: Issues, s: dict, path: str) -> None:
    hosts = get_strs(iss, s, "hosts", path)
    if not hosts:
        iss.err(f"{path}.hosts", "server config must contain at least one host")
    for h in hosts:
        iss.err(f"{path}.hosts", namespace_slash_host(h, gateway=True))
    bind = get_str(iss, s, "bind", path)
    pt = s.get("port")
    port_ok = False
    if not isinstance(pt, dict):
        iss.err(f"{path}.port", "port is required")
    else:
        before = sum(1 for i in iss.items if i.severity == "error")
        pp = f"{path}.port"
        protocol = get_str(iss, pt, "protocol", pp)
        if not proto(protocol):
            iss.err(
                f"{pp}.protocol",
                f'invalid protocol "{protocol}", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, '
                "MYSQL, TCP",
            )
        number = get_int(iss, pt, "number", pp)
        if number or not bind.startswith(UNIX):
            e = port(number)
            iss.err(pp, "server must have a port number" if number is None else e)
        if (get_int(iss, pt, "targetPort", pp) or 0) > 0:
            iss.err(f"{pp}.targetPort", "targetPort has no impact on Gateways")
        if not get_str(iss, pt, "name", pp):
            iss.err(f"{pp}.name", f"port name must be set: number:{number or 0} protocol:{protocol!r}")
        port_ok = sum(1 for i in iss.items if i.severity == "error") == before
    if bind.startswith(UNIX):
        iss.err(f"{path}.bind", unix_address(bind[len(UNIX) :]))
        if isinstance(pt, dict) and pt.get("number"):
            iss.err(f"{path}.bind", "port number must be 0 for unix domain socket")
    elif bind:
        iss.err(f"{path}.bind", ip(bind))
    tls = get_map(iss, s, "tls", path)
    server_tls(iss, tls, f"{path}.tls")
    if port_ok and isinstance(pt, dict):
        p = proto(str(pt.get("protocol") or ""))
        if p in TLS_PROTOCOLS and tls is None:
            iss.err(path, "server must have TLS settings for HTTPS/TLS protocols")
        elif p not in TLS_PROTOCOLS and tls is not None:
            if p in HTTP_PROTOCOLS:
                redirect_only = tls.get("httpsRedirect") is True and (tls.get("mode") in (None, "PASSTHROUGH"))
                if not redirect_only or any(tls.get(k) for k in ("caCertificates", "privateKey", "serverCertificate")):
                    iss.err(path, "server cannot have TLS settings for plain text HTTP ports")
            else:
                iss.err(path, "server cannot have TLS settings for non HTTPS/TLS ports")


def namespace_slash_host(h: str, *, gateway: bool) -> str | None:
    """`namespace/dnsName` (Sidecar egress, Gateway servers; Gateways also take a bare host)."""
    ns, sep, name = h.partition("/")
    if not sep:
        if gateway:
            return _host_part(h, gateway=True)
        return "host must be of form namespace/dnsName"
    errs = []
    if not ns or not name:
        errs.append("config namespace and dnsName in host entry cannot be empty")
    allowed = ("*", ".", "~") if not gateway else ("*", ".")
    if ns not in allowed and not is_dns_label(ns):
        errs.append(f'invalid namespace value "{ns}" in {"gateway" if gateway else "sidecar"}')
    if e := _host_part(name, gateway=gateway):
        errs.append(e)
    return "; ".join(errs) or None


def _host_part(h: str, *, gateway: bool) -> str | None:
    errs = []
    if h != "*" and "." not in h:
        errs.append("short names (non FQDN) are not allowed")
    e = wildcard_domain(h)
    if e and not (gateway and is_ip(h)):
        errs.append(e)
    if e := partial_wildcard(h):
        errs.append(e)
    return "; ".join(errs) or None


def server_tls(iss: Issues, tls: dict | None, path: str) -> None:
    if tls is None:
        return
    mode = get_enum(iss, tls, "mode", path, enums.SERVER_TLS_MODE) or "PASSTHROUGH"
    min_v = get_enum(iss, tls, "minProtocolVersion", path, enums.TLS_VERSION)
    get_enum(iss, tls, "maxProtocolVersion", path, enums.TLS_VERSION)
    ciphers = get_strs(iss, tls, "cipherSuites", path)
    if min_v in ("TLSV1_0", "TLSV1_1") and not ciphers:
        iss.warn(
            f"{path}.minProtocolVersion",
            "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include "
            "compatible ciphers.",
        )
    invalid = sorted({c for c in ciphers if c not in CIPHERS})
    dups = sorted({c for i, c in enumerate(ciphers) if c in CIPHERS and c in ciphers[:i]})
    if invalid:
        iss.warn(f"{path}.cipherSuites", f"ignoring invalid cipher suites: [{' '.join(invalid)}]")
    if dups:
        iss.warn(f"{path}.cipherSuites", f"ignoring duplicate cipher suites: [{' '.join(dups)}]")
    cert, key = get_str(iss, tls, "serverCertificate", path), get_str(iss, tls, "privateKey", path)
    ca, cred = get_str(iss, tls, "caCertificates", path), get_str(iss, tls, "credentialName", path)
    creds = get_strs(iss, tls, "credentialNames", path)
    certs = get_maps(iss, tls, "tlsCertificates", path)
    crl = get_str(iss, tls, "caCrl", path)
    get_bool(iss, tls, "httpsRedirect", path)
    get_list(iss, tls, "subjectAltNames", path)
    if mode == "ISTIO_MUTUAL":
        for val, what in (
            (cert, "server certificate"),
            (key, "private key"),
            (ca, "CA bundle"),
            (certs, "tlsCertificates"),
            (cred, "credentialName"),
            (creds, "credentialNames"),
        ):
            if val:
                iss.err(path, f"ISTIO_MUTUAL TLS cannot have associated {what}")
        return
    if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") and any((crl, cert, key, ca, certs, cred, creds)):
        iss.warn(path, f"{mode} mode does not use certificates, they will be ignored")
    if sum((bool(cert and key), bool(cred), bool(creds), bool(certs))) > 1:
        iss.err(
            path,
            "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates "
            "should be specified",
        )
    mutual = mode in ("MUTUAL", "OPTIONAL_MUTUAL")
    if (mode == "SIMPLE" or mutual) and (cred or creds):
        return
    if mode == "SIMPLE" or mutual:
        prefix = "MUTUAL TLS" if mutual else "SIMPLE TLS"
        if mutual and not ca:
            iss.err(path, f"{prefix} requires a client CA bundle")
        if len(certs) > 2:
            iss.warn(f"{path}.tlsCertificates", f"{prefix} can support up to 2 server certificates")
        pairs = [(str(c.get("serverCertificate") or ""), str(c.get("privateKey") or "")) for _, c in certs] or [
            (cert, key)
        ]
        for c, k in pairs:
            if not c:
                iss.err(path, f"{prefix} requires a server certificate")
            if not k:
                iss.err(path, f"{prefix} requires a private key")
    if crl:
        if cred:
            iss.err(path, "CRL is not supported with credentialName. CRL has to be specified in the credential")
        if mode == "SIMPLE":
            iss.err(path, "CRL is not supported with SIMPLE TLS")
