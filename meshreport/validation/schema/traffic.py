"""DestinationRule and the traffic policy pieces Sidecar reuses (connection pool, client TLS)."""

from __future__ import annotations

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import (
    Issues,
    duration,
    get_bool,
    get_enum,
    get_int,
    get_list,
    get_map,
    get_maps,
    get_str,
    get_strs,
    is_dns_label,
    labels,
    wildcard_domain,
    workload_selector,
    wrapped,
)
from meshreport.validation.schema.common import export_to

_TOPOLOGY = {"topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"}


def destination_rule(iss: Issues, spec: dict, namespace: str) -> None:
    host = spec.get("host")
    if not isinstance(host, str) or not host.strip():
        iss.err("spec.host", "host is required")
    else:
        iss.err("spec.host", wildcard_domain(host))
    traffic_policy(iss, get_map(iss, spec, "trafficPolicy", "spec"), "spec.trafficPolicy", namespace)
    seen: set[str] = set()
    for p, subset in get_maps(iss, spec, "subsets", "spec"):
        name = get_str(iss, subset, "name", p)
        if name in seen:
            iss.err(f"{p}.name", f"duplicate subset names: {name}")
        seen.add(name)
        iss.err(f"{p}.name", subset_name(name))
        labels(iss, subset.get("labels"), f"{p}.labels")
        traffic_policy(iss, get_map(iss, subset, "trafficPolicy", p), f"{p}.trafficPolicy", namespace)
    selector = spec.get("workloadSelector")
    export_to(iss, spec, namespace, dr_with_selector=selector is not None)
    workload_selector(iss, selector, "spec.workloadSelector")


def subset_name(name: str) -> str | None:
    if not name:
        return "subset name cannot be empty"
    if not is_dns_label(name):
        return f"subset name is invalid: {name}"
    return None


def traffic_policy(iss: Issues, tp: dict | None, path: str, namespace: str) -> None:
    if tp is None:
        return
    known = (
        "outlierDetection",
        "connectionPool",
        "loadBalancer",
        "tls",
        "portLevelSettings",
        "tunnel",
        "proxyProtocol",
    )
    if not any(tp.get(k) is not None for k in known):
        iss.err(path, "traffic policy must have at least one field")
        return
    if tp.get("tunnel") is not None and tp.get("proxyProtocol") is not None:
        iss.err(path, "tunnel and proxyProtocol must not be set together")
        return
    outlier = get_map(iss, tp, "outlierDetection", path)
    outlier_detection(iss, outlier, f"{path}.outlierDetection")
    connection_pool(iss, get_map(iss, tp, "connectionPool", path), f"{path}.connectionPool")
    load_balancer(iss, get_map(iss, tp, "loadBalancer", path), f"{path}.loadBalancer", outlier)
    client_tls(iss, get_map(iss, tp, "tls", path), f"{path}.tls", namespace)
    for p, pls in get_maps(iss, tp, "portLevelSettings", path):
        if not isinstance(pls.get("port"), dict):
            iss.err(p, "portTrafficPolicy must have valid port")
        if not any(pls.get(k) is not None for k in ("outlierDetection", "connectionPool", "loadBalancer", "tls")):
            iss.err(p, "port traffic policy must have at least one field")
            continue
        o = get_map(iss, pls, "outlierDetection", p)
        outlier_detection(iss, o, f"{p}.outlierDetection")
        connection_pool(iss, get_map(iss, pls, "connectionPool", p), f"{p}.connectionPool")
        load_balancer(iss, get_map(iss, pls, "loadBalancer", p), f"{p}.loadBalancer", o)
        client_tls(iss, get_map(iss, pls, "tls", p), f"{p}.tls", namespace)
    if (tun := get_map(iss, tp, "tunnel", path)) is not None:
        p = f"{path}.tunnel"
        proto = get_str(iss, tun, "protocol", p)
        if proto and proto not in ("CONNECT", "POST"):
            iss.err(f"{p}.protocol", 'tunnel protocol must be "CONNECT" or "POST"')
        target = get_str(iss, tun, "targetHost", p)
        from meshreport.validation.schema._checks import fqdn, ip  # noqa: PLC0415  (local: tiny helpers)

        if (fe := fqdn(target)) and (ie := ip(target)):
            iss.err(f"{p}.targetHost", f"tunnel target host must be valid FQDN or IP address: {fe}; {ie}")
        tport = get_int(iss, tun, "targetPort", p)
        if not tport or not 1 <= tport <= 65535:
            iss.err(
                f"{p}.targetPort",
                f"tunnel target port is invalid: port number {tport or 0} must be in the range 1..65535",
            )
    if (pp := get_map(iss, tp, "proxyProtocol", path)) is not None:
        version = pp.get("version")
        if version not in (None, 0, 1, "V1", "V2"):
            iss.err(f"{path}.proxyProtocol.version", f"proxy protocol version is invalid: {version}")


def outlier_detection(iss: Issues, o: dict | None, path: str) -> None:
    if o is None:
        return
    duration(iss, o, "baseEjectionTime", path)
    duration(iss, o, "interval", path)
    if get_int(iss, o, "consecutiveErrors", path):
        iss.warn(
            f"{path}.consecutiveErrors",
            "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors "
            "instead",
        )
    if (
        not get_bool(iss, o, "splitExternalLocalOriginErrors", path)
        and (wrapped(iss, o, "consecutiveLocalOriginFailures", path) or 0) > 0
    ):
        iss.err(
            path,
            "outlier detection consecutive local origin failures is specified, but split external local origin errors "
            "is set to false",
        )
    for key in ("maxEjectionPercent", "minHealthPercent"):
        v = get_int(iss, o, key, path)
        if v is not None and not 0 <= v <= 100:
            iss.err(f"{path}.{key}", f"percentage {v} is not in range 0..100")


def connection_pool(iss: Issues, cp: dict | None, path: str) -> None:
    if cp is None:
        return
    if cp.get("http") is None and cp.get("tcp") is None:
        iss.err(path, "connection pool must have at least one field")
        return
    if (h := get_map(iss, cp, "http", path)) is not None:
        p = f"{path}.http"
        for key, text in (
            ("http1MaxPendingRequests", "http1 max pending requests"),
            ("http2MaxRequests", "http2 max requests"),
            ("maxRequestsPerConnection", "max requests per connection"),
            ("maxRetries", "max retries"),
            ("maxConcurrentStreams", "max concurrent streams"),
        ):
            v = get_int(iss, h, key, p)
            if v is not None and v < 0:
                iss.err(f"{p}.{key}", f"{text} must be non-negative")
        duration(iss, h, "idleTimeout", p)
        if get_enum(iss, h, "h2UpgradePolicy", p, enums.H2_UPGRADE) == "UPGRADE" and get_bool(
            iss, h, "useClientProtocol", p
        ):
            iss.err(p, "use client protocol must not be true when H2UpgradePolicy is UPGRADE")
    if (t := get_map(iss, cp, "tcp", path)) is not None:
        p = f"{path}.tcp"
        v = get_int(iss, t, "maxConnections", p)
        if v is not None and v < 0:
            iss.err(f"{p}.maxConnections", "max connections must be non-negative")
        duration(iss, t, "connectTimeout", p)
        duration(iss, t, "maxConnectionDuration", p)
        duration(iss, t, "idleTimeout", p, zero_ok=True)
        if (ka := get_map(iss, t, "tcpKeepalive", p)) is not None:
            duration(iss, ka, "time", f"{p}.tcpKeepalive")
            duration(iss, ka, "interval", f"{p}.tcpKeepalive")


def _is_prime(x: int) -> bool:
    if 0 < x < 4:
        return True
    if x % 2 == 0:
        return False
    f = 3
    while f * f <= x:
        if x % f == 0:
            return False
        f += 2
    return True


def load_balancer(iss: Issues, lb: dict | None, path: str, outlier: dict | None) -> None:
    if lb is None:
        return
    get_enum(iss, lb, "simple", path, enums.LB_SIMPLE)
    if (ch := get_map(iss, lb, "consistentHash", path)) is not None:
        p = f"{path}.consistentHash"
        if (cookie := get_map(iss, ch, "httpCookie", p)) is not None and not get_str(iss, cookie, "name", p):
            iss.err(f"{p}.httpCookie.name", "name required for HttpCookie")
        ring = get_int(iss, ch, "minimumRingSize", p)
        if ring:
            iss.warn(
                f"{p}.minimumRingSize",
                "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
            )
            if ch.get("maglev") is not None or ch.get("ringHash") is not None:
                iss.err(p, "only one of MinimumRingSize or Maglev/Ringhash can be specified")
        if (ml := get_map(iss, ch, "maglev", p)) is not None:
            size = get_int(iss, ml, "tableSize", f"{p}.maglev") or 0
            if size == 0:
                iss.err(f"{p}.maglev.tableSize", "tableSize must be set for maglev")
            if size >= 5000011:
                iss.err(f"{p}.maglev.tableSize", "tableSize must be less than 5000011 for maglev")
            if not _is_prime(size):
                iss.err(f"{p}.maglev.tableSize", "tableSize must be a prime number for maglev")
    locality_lb(iss, get_map(iss, lb, "localityLbSetting", path), f"{path}.localityLbSetting", outlier)
    if (warm := get_map(iss, lb, "warmup", path)) is not None:
        p = f"{path}.warmup"
        if warm.get("duration") is None:
            iss.err(p, "duration is required")
        else:
            duration(iss, warm, "duration", p)
        if (wrapped(iss, warm, "minimumPercent", p) or 0) > 100:
            iss.err(f"{p}.minimumPercent", "minimumPercent value should be less than or equal to 100")
        aggr = wrapped(iss, warm, "aggression", p)
        if aggr is not None and aggr < 1:
            iss.err(f"{p}.aggression", "aggression should be greater than or equal to 1")


def locality_lb(iss: Issues, lb: dict | None, path: str, outlier: dict | None) -> None:
    if lb is None:
        return
    distribute = get_maps(iss, lb, "distribute", path)
    failover = get_maps(iss, lb, "failover", path)
    priority = get_strs(iss, lb, "failoverPriority", path)
    if distribute and failover:
        iss.err(path, "can not simultaneously specify 'distribute' and 'failover'")
        return
    if failover:
        for label in priority:
            if label in _TOPOLOGY:
                iss.err(
                    f"{path}.failoverPriority",
                    f"can not simultaneously set 'failover' and topology label '{label}' in 'failover_priority'",
                )
                return
    sources = []
    for p, d in distribute:
        sources.append(get_str(iss, d, "from", p))
        to = get_map(iss, d, "to", p) or {}
        total = 0
        for w in to.values():
            if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 100:
                iss.err(f"{p}.to", "locality weight must be in range [1, 100]")
                return
            total += w
        if total != 100:
            iss.err(f"{p}.to", f"total locality weight {total} != 100")
            return
        iss.err(f"{p}.to", _localities([str(k) for k in to]))
    iss.err(f"{path}.distribute", _localities(sources))
    if (failover or priority) and outlier is None:
        iss.warn(path, "outlier detection policy must be provided for failover")
    for p, f in failover:
        src, dst = get_str(iss, f, "from", p), get_str(iss, f, "to", p)
        if src == dst:
            iss.err(p, "locality lb failover settings must specify different regions")
        if "/" in src or "/" in dst:
            iss.err(p, "locality lb failover only specify region")
        if "*" in src or "*" in dst:
            iss.err(p, "locality lb failover region should not contain '*' wildcard")


def _localities(localities: list[str]) -> str | None:
    """Each locality at most one trailing `*`, no empty parts, no overlap with an earlier one."""
    tree: dict[str, dict[str, set[str]]] = {}
    for loc in localities:
        n = loc.count("*")
        if n > 1 or (n == 1 and not loc.endswith("*")):
            return f"locality {loc} wildcard '*' number can not exceed 1 and must be in the end"
        overlap = f"locality {loc} overlap with previous specified ones"
        if "*" in tree:
            return overlap
        parts = loc.split("/", 2)
        if any(not x for x in parts):
            return f"locality {loc} must not contain empty region/zone/subzone info"
        region = parts[0]
        if len(parts) == 1:
            if region in tree:
                return overlap
            tree[region] = {"*": {"*"}}
            continue
        zones = tree.setdefault(region, {})
        if "*" in zones:
            return overlap
        zone = parts[1]
        if len(parts) == 2:
            if zone in zones:
                return overlap
            zones[zone] = {"*"}
            continue
        subs = zones.setdefault(zone, set())
        if "*" in subs or parts[2] in subs:
            return overlap
        subs.add(parts[2])
    return None


def client_tls(iss: Issues, tls: dict | None, path: str, namespace: str) -> None:
    """Istio's ValidateTLS for ClientTLSSettings (DestinationRule, egress proxy)."""
    if tls is None:
        return
    mode = get_enum(iss, tls, "mode", path, enums.CLIENT_TLS_MODE) or "DISABLE"
    cred = get_str(iss, tls, "credentialName", path)
    ca = get_str(iss, tls, "caCertificates", path)
    sans = get_list(iss, tls, "subjectAltNames", path)
    if cred.startswith("configmap://"):
        ref = cred[len("configmap://") :]
        ns = ref.split("/", 1)[0] if "/" in ref else namespace
        if not ref or ns != namespace or not namespace:
            iss.err(
                f"{path}.credentialName",
                f'invalid configmap:// credentialName: namespace must match the configuration namespace "{namespace}"',
            )
    skip = tls.get("insecureSkipVerify")
    if skip is True or (isinstance(skip, dict) and skip.get("value") is True):
        if mode == "SIMPLE" and (ca or cred or sans is not None):
            iss.err(
                path,
                "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set "
                "true",
            )
        if mode == "MUTUAL" and (ca or sans is not None):
            iss.err(path, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true")
    client_cert = get_str(iss, tls, "clientCertificate", path)
    key = get_str(iss, tls, "privateKey", path)
    if mode in ("SIMPLE", "MUTUAL") and cred:
        if client_cert or ca or key or get_str(iss, tls, "caCrl", path):
            iss.err(path, "cannot specify client certificates or CA certificate or CA CRL If credentialName is set")
        return
    if mode == "MUTUAL":
        if not client_cert:
            iss.err(path, "client certificate required for mutual tls")
        if not key:
            iss.err(path, "private key required for mutual tls")
