"""The pure schema functions: formats, regex dialect, and deeper per-kind checks without the runner."""

from __future__ import annotations

import pytest
import yaml

from meshreport.validation.schema import KINDS, validate
from meshreport.validation.schema._checks import (
    fqdn,
    header_value,
    ip_subnet,
    parse_duration,
    wildcard_domain,
)
from meshreport.validation.schema.regex import re2_error


def _msgs(kind: str, spec: str, severity: str = "error", **kw) -> list[str]:
    return [i.message for i in validate(kind, yaml.safe_load(spec), namespace="shop", **kw) if i.severity == severity]


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("^/api/v[0-9]+/.*$", True),
        ("(?i)^/Api", True),
        ("x(?i)y", True),  # RE2 allows flags anywhere; Python does not
        (r"\pL+", True),
        ("[[:alpha:]]+", True),
        ("(?P<v>v1)", True),
        ("(?<v>v1)", True),
        ("foo(?=bar)", False),
        ("(?<!a)b", False),
        (r"(a)\1", False),
        ("(?>a)", False),
        ("a(b", False),
        ("a{2000}", False),
        ("*x", False),
    ],
)
def test_re2_dialect(pattern, ok):
    assert (re2_error(pattern) is None) is ok


def test_durations():
    assert parse_duration("1.5s") == 1_500_000_000
    assert parse_duration("1h30m") == 5400 * 10**9
    assert parse_duration("100ms") == 100_000_000
    assert parse_duration("5 min") is None and parse_duration(10) is None
    assert _msgs("DestinationRule", "host: r\ntrafficPolicy: {outlierDetection: {interval: 500us}}") == [
        "duration must be greater than 1ms"
    ]
    assert _msgs("DestinationRule", "host: r\ntrafficPolicy: {outlierDetection: {interval: 1500us}}") == [
        "only durations to ms precision are supported"
    ]


def test_hosts_and_addresses():
    assert fqdn("api.example.com") is None
    assert fqdn("api.123") == 'domain name "api.123" invalid (top level domain "123" cannot be all-numeric)'
    assert wildcard_domain("*.example.com") is None and wildcard_domain("*") is None
    assert wildcard_domain("a.*.com") == 'domain name "a.*.com" invalid (label "*" invalid)'
    assert ip_subnet("10.0.0.0/8") is None and ip_subnet("2001:db8::/32") is None
    assert ip_subnet("10.0.0.0/33") == "10.0.0.0/33 is not a valid CIDR block"


def test_header_values():
    assert header_value("%DOWNSTREAM_REMOTE_ADDRESS%") is None
    assert header_value("100%%") is None
    assert header_value("abc%123") is not None
    assert header_value("a\nb") is not None


def test_locality_and_maglev():
    spec = """
host: r
trafficPolicy:
  outlierDetection: {consecutive5xxErrors: 3}
  loadBalancer:
    localityLbSetting:
      distribute:
      - {from: us-west/zone1/*, to: {us-west/zone1/*: 80, us-west/zone2/*: 10}}
"""
    assert _msgs("DestinationRule", spec) == ["total locality weight 90 != 100"]
    maglev = "host: r\ntrafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 1000}}}}"
    assert _msgs("DestinationRule", maglev) == ["tableSize must be a prime number for maglev"]
    failover = "host: r\ntrafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us-east, to: us-west}]}}}"
    assert _msgs("DestinationRule", failover, "warning") == ["outlier detection policy must be provided for failover"]


def test_server_tls_modes():
    base = "servers:\n- port: {number: 443, name: https, protocol: HTTPS}\n  hosts: ['*.example.com']\n  tls: "
    assert _msgs("Gateway", base + "{mode: MUTUAL, serverCertificate: /c, privateKey: /k}", name="gw") == [
        "MUTUAL TLS requires a client CA bundle"
    ]
    assert _msgs("Gateway", base + "{mode: ISTIO_MUTUAL, credentialName: c}", name="gw") == [
        "ISTIO_MUTUAL TLS cannot have associated credentialName"
    ]
    assert _msgs("Gateway", base + "{mode: SIMPLE, credentialName: c}", name="gw") == []


def test_service_entry_dns_hosts_and_tcp():
    spec = "hosts: ['*.example.com']\nports: [{number: 443, name: tls, protocol: TLS}]\nresolution: DNS"
    assert _msgs("ServiceEntry", spec) == ["hosts must be FQDN if no endpoints are provided for resolution mode DNS"]
    multi = "hosts: [a.example.com, b.example.com]\nports: [{number: 5432, name: pg, protocol: TCP}]\nresolution: DNS"
    assert "multiple hosts provided with non-HTTP, non-TLS ports" in _msgs("ServiceEntry", multi)


def test_unknown_fields_enums_and_types():
    assert _msgs("VirtualService", "hosts: [r]\nhttp: [{route: [{destination: {host: r}}]}]\nhost: r", "warning") == [
        'unknown field "spec.host" (not in the VirtualService schema; the API server drops it)'
    ]
    assert _msgs(
        "Gateway", "servers:\n- port: {number: http, name: http, protocol: HTTP}\n  hosts: ['*']", name="g"
    ) == [
        "number: invalid integer 'http'",
        "server must have a port number",
    ]
    assert _msgs("Sidecar", "outboundTrafficPolicy: {mode: ALLOW_ALL}") == [
        "mode: unknown value 'ALLOW_ALL', must be one of REGISTRY_ONLY, ALLOW_ANY"
    ]


def test_every_collected_istio_kind_is_covered():
    assert set(KINDS) == {
        "VirtualService",
        "DestinationRule",
        "Gateway",
        "ServiceEntry",
        "Sidecar",
        "EnvoyFilter",
        "WorkloadEntry",
        "WorkloadGroup",
        "PeerAuthentication",
        "AuthorizationPolicy",
        "RequestAuthentication",
        "Telemetry",
        "WasmPlugin",
        "ProxyConfig",
    }
    assert validate("Service", {"ports": []}) == []
    assert validate("Sidecar", None, namespace="shop")[0].message == "sidecar: empty configuration provided"


def test_wrong_types_never_crash():
    """Specs come from people's YAML: any field of any case input replaced by any shape yields findings, not errors."""
    import copy
    import random

    from ..rules.test_schema import CASES

    shapes = [None, 1, -1, "x", "", [], {}, [1], ["a"], [None], {"a": 1}, {"a": None}, True, 1.5, [[1]], {"a": [1]}]
    specs = [(c.kind, yaml.safe_load(s)) for c in CASES for s in (c.bad, c.good)]

    def paths(o, p=()):
        if p:
            yield p
        items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else ()
        for k, v in items:
            yield from paths(v, (*p, k))

    rnd = random.Random(7)
    for _ in range(3000):
        kind, spec = rnd.choice(specs)
        spec = copy.deepcopy(spec)
        if ps := list(paths(spec)):
            *parents, last = rnd.choice(ps)
            node = spec
            for k in parents:
                node = node[k]
            node[last] = copy.deepcopy(rnd.choice(shapes))
        for issue in validate(kind, spec, name="n", namespace="shop"):
            assert issue.severity in ("error", "warning") and issue.message
