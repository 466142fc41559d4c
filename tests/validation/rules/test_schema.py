"""IST0106/IST0133 (Istio's own validation): per kind, an input that must fire and one that must not.

Each case is one object; `bad` must produce the rule's finding (with `contains` in its message when
given) and `good` must not. The Istio samples are valid config and must produce no IST0106.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from meshreport.validation.registry import all_rules

from ..helpers import objects, run

# Istio's own samples, copied into the repository (tests/fixtures/istio-samples/README.md).
SAMPLES = next(p for p in Path(__file__).resolve().parents if p.name == "tests") / "fixtures" / "istio-samples"
API = {
    "VirtualService": "networking.istio.io/v1",
    "DestinationRule": "networking.istio.io/v1",
    "Gateway": "networking.istio.io/v1",
    "ServiceEntry": "networking.istio.io/v1",
    "Sidecar": "networking.istio.io/v1",
    "EnvoyFilter": "networking.istio.io/v1alpha3",
    "WorkloadEntry": "networking.istio.io/v1",
    "WorkloadGroup": "networking.istio.io/v1",
    "ProxyConfig": "networking.istio.io/v1beta1",
    "PeerAuthentication": "security.istio.io/v1",
    "AuthorizationPolicy": "security.istio.io/v1",
    "RequestAuthentication": "security.istio.io/v1",
    "Telemetry": "telemetry.istio.io/v1",
    "WasmPlugin": "extensions.istio.io/v1alpha1",
}


def doc(kind: str, spec: str, name: str = "x", extra_meta: str = "") -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    meta = f"metadata: {{name: {name}, namespace: shop{extra_meta}}}"
    return f"apiVersion: {API[kind]}\nkind: {kind}\n{meta}\nspec:\n{body}\n"


@dataclass(frozen=True)
class Case:
    kind: str
    code: str
    bad: str  # spec YAML
    good: str
    contains: str = ""

    @property
    def rule(self) -> str:
        return f"schema_{'error' if self.code == 'IST0106' else 'warning'}_{self.kind.lower()}"

    def __str__(self) -> str:
        return f"{self.code}-{self.kind}-{self.contains[:30]}"


def _hits(spec: str, case: Case):
    return [
        f
        for f in run(doc(case.kind, spec))
        if f.rule == case.rule and f.code == case.code and case.contains in f.message
    ]


VS_OK = "hosts: [reviews]\nhttp:\n- route:\n  - destination: {host: reviews, subset: v1}\n"
DR_OK = "host: reviews\ntrafficPolicy:\n  loadBalancer: {simple: LEAST_REQUEST}\n"
GW_OK = (
    "selector: {istio: ingressgateway}\nservers:\n- port: {number: 80, name: http, protocol: HTTP}\n"
    "  hosts: [shop.example.com]\n"
)
SE_OK = "hosts: [api.example.com]\nports: [{number: 443, name: tls, protocol: TLS}]\nresolution: DNS\n"

CASES = [
    # VirtualService
    Case(
        "VirtualService",
        "IST0106",
        "hosts: [reviews]\nhttp:\n- route:\n  - destination: {subset: v1}\n",
        VS_OK,
        "destination.host is required",
    ),
    Case(
        "VirtualService",
        "IST0106",
        "hosts: [reviews]\nhttp:\n- match: [{uri: {regex: '^/api(?!/internal)'}}]\n"
        "  route: [{destination: {host: reviews}}]",
        "hosts: [reviews]\nhttp:\n- match: [{uri: {regex: '^/api/[a-z]+$'}}]\n"
        "  route: [{destination: {host: reviews}}]",
        "invalid or unsupported Perl syntax",
    ),
    Case(
        "VirtualService",
        "IST0106",
        VS_OK + "  retries: {attempts: 3, retryOn: '5xx,teapot'}",
        VS_OK + "  retries: {attempts: 3, retryOn: '5xx,503,gateway-error'}",
        '"teapot" is not a valid retryOn',
    ),
    Case(
        "VirtualService",
        "IST0106",
        "hosts: ['*']\nhttp:\n- route: [{destination: {host: reviews}}]",
        VS_OK,
        "wildcard host * is not allowed",
    ),
    Case("VirtualService", "IST0106", VS_OK + "  timeout: 10", VS_OK + "  timeout: 10s", "invalid duration"),
    Case(
        "VirtualService",
        "IST0106",
        "hosts: [reviews]\nhttp:\n- redirect: {uri: /v2}\n  route: [{destination: {host: reviews}}]",
        "hosts: [reviews]\nhttp:\n- redirect: {uri: /v2}",
        "both route and redirect",
    ),
    Case(
        "VirtualService",
        "IST0133",
        VS_OK + "  mirror: {host: reviews}\n  mirrorPercent: 10",
        VS_OK + "  mirror: {host: reviews}\n  mirrorPercentage: {value: 10}",
        "mirrorPercent",
    ),
    # DestinationRule
    Case(
        "DestinationRule",
        "IST0106",
        "trafficPolicy:\n  loadBalancer: {simple: LEAST_REQUEST}",
        DR_OK,
        "host is required",
    ),
    Case(
        "DestinationRule",
        "IST0106",
        DR_OK.replace("LEAST_REQUEST", "ROUND_ROBBIN"),
        DR_OK,
        "unknown value 'ROUND_ROBBIN'",
    ),
    Case(
        "DestinationRule",
        "IST0106",
        "host: reviews\nsubsets:\n- {name: v1, labels: {version: v1}}\n- {name: v1, labels: {version: v2}}",
        "host: reviews\nsubsets:\n- {name: v1, labels: {version: v1}}\n- {name: v2, labels: {version: v2}}",
        "duplicate subset names",
    ),
    Case(
        "DestinationRule",
        "IST0106",
        "host: reviews\ntrafficPolicy:\n  tls: {mode: MUTUAL}",
        "host: reviews\ntrafficPolicy:\n  tls: {mode: MUTUAL, credentialName: client-cert}",
        "client certificate required",
    ),
    Case(
        "DestinationRule",
        "IST0133",
        "host: reviews\ntrafficPolicy:\n  outlierDetection: {consecutiveErrors: 5}",
        "host: reviews\ntrafficPolicy:\n  outlierDetection: {consecutive5xxErrors: 5}",
        "consecutive errors is deprecated",
    ),
    # Gateway
    Case(
        "Gateway",
        "IST0106",
        "selector: {istio: ingressgateway}\nservers:\n- port: {number: 80, name: http, protocol: HTTP}",
        GW_OK,
        "at least one host",
    ),
    Case(
        "Gateway",
        "IST0106",
        GW_OK.replace("number: 80, name: http, protocol: HTTP", "number: 443, name: https, protocol: HTTPS"),
        GW_OK.replace("number: 80, name: http, protocol: HTTP", "number: 443, name: https, protocol: HTTPS")
        + "  tls: {mode: SIMPLE, credentialName: shop-cert}",
        "must have TLS settings",
    ),
    Case(
        "Gateway",
        "IST0133",
        GW_OK.replace("HTTP}", "HTTPS}").replace("number: 80", "number: 443")
        + "  tls: {mode: SIMPLE, credentialName: c, cipherSuites: [NOT-A-CIPHER]}",
        GW_OK.replace("HTTP}", "HTTPS}").replace("number: 80", "number: 443")
        + "  tls: {mode: SIMPLE, credentialName: c, cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}",
        "invalid cipher suites",
    ),
    # ServiceEntry
    Case(
        "ServiceEntry",
        "IST0106",
        "ports: [{number: 443, name: tls, protocol: TLS}]\nresolution: DNS",
        SE_OK,
        "must have at least one host",
    ),
    Case(
        "ServiceEntry",
        "IST0106",
        SE_OK.replace("DNS", "NONE") + "endpoints: [{address: 10.0.0.1}]",
        SE_OK,
        "no endpoints should be provided",
    ),
    Case(
        "ServiceEntry",
        "IST0133",
        SE_OK.replace("DNS", "NONE") + "workloadSelector: {labels: {app: api}}",
        SE_OK,
        "workloadSelector should not be set",
    ),
    # Sidecar
    Case(
        "Sidecar",
        "IST0106",
        "egress:\n- hosts: [istio-system.svc.cluster.local]",
        "egress:\n- hosts: [istio-system/*]",
        "host must be of form namespace/dnsName",
    ),
    Case(
        "Sidecar",
        "IST0106",
        "egress:\n- hosts: ['./*']\n- port: {number: 8080, protocol: HTTP, name: http}\n  hosts: ['./*']",
        "egress:\n- port: {number: 8080, protocol: HTTP, name: http}\n  hosts: ['./*']\n- hosts: ['./*']",
        "empty port should be the last",
    ),
    Case(
        "Sidecar",
        "IST0133",
        "egress:\n- hosts: ['shop/*', 'shop/api.shop.svc.cluster.local']",
        "egress:\n- hosts: ['shop/*']",
        "duplicated egress host",
    ),
    # EnvoyFilter
    Case(
        "EnvoyFilter",
        "IST0106",
        "configPatches:\n- applyTo: HTTP_FILTER\n  patch: {operation: INSERT_BEFORE}",
        "configPatches:\n- applyTo: HTTP_FILTER\n  patch: {operation: INSERT_BEFORE, value: {name: f}}",
        "missing patch value",
    ),
    Case(
        "EnvoyFilter",
        "IST0106",
        "configPatches:\n- applyTo: CLUSTER\n  match: {listener: {portNumber: 80}}\n"
        "  patch: {operation: MERGE, value: {}}",
        "configPatches:\n- applyTo: CLUSTER\n  match: {cluster: {service: api}}\n"
        "  patch: {operation: MERGE, value: {}}",
        "non cluster match",
    ),
    Case(
        "EnvoyFilter",
        "IST0133",
        "configPatches:\n- applyTo: HTTP_FILTER\n"
        "  match: {listener: {filterChain: {filter: {name: envoy.http_connection_manager}}}}\n"
        "  patch: {operation: INSERT_BEFORE, value: {name: f}}",
        "configPatches:\n- applyTo: HTTP_FILTER\n"
        "  match: {listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}}\n"
        "  patch: {operation: INSERT_BEFORE, value: {name: f}}",
        "deprecated filter name",
    ),
    # WorkloadEntry
    Case(
        "WorkloadEntry",
        "IST0106",
        "ports: {http: 8080}",
        "address: 10.0.0.5\nports: {http: 8080}",
        "address is required",
    ),
    Case(
        "WorkloadEntry",
        "IST0106",
        "address: 10.0.0.5\nports: {http: 70000}",
        "address: 10.0.0.5\nports: {http: 8080}",
        "must be in the range 1..65535",
    ),
    Case("WorkloadEntry", "IST0133", "network: vpc-1", "network: vpc-1\naddress: vm1.example.com", "address is unset"),
    # WorkloadGroup
    Case(
        "WorkloadGroup",
        "IST0106",
        "metadata: {labels: {app: vm}}",
        "metadata: {labels: {app: vm}}\ntemplate: {serviceAccount: vm}",
        "template is required",
    ),
    Case(
        "WorkloadGroup",
        "IST0106",
        "template: {}\nprobe: {periodSeconds: -1, httpGet: {port: 8080}}",
        "template: {}\nprobe: {periodSeconds: 5, httpGet: {port: 8080}}",
        "periodSeconds must be non-negative",
    ),
    Case("WorkloadGroup", "IST0133", "template: {}\nprobes: {}", "template: {}", 'unknown field "spec.probes"'),
    # PeerAuthentication
    Case(
        "PeerAuthentication",
        "IST0106",
        "mtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: DISABLE}}",
        "selector: {matchLabels: {app: api}}\nmtls: {mode: STRICT}\nportLevelMtls: {8080: {mode: DISABLE}}",
        "cannot have port level mTLS",
    ),
    Case("PeerAuthentication", "IST0106", "mtls: {mode: STRIKT}", "mtls: {mode: STRICT}", "unknown value 'STRIKT'"),
    Case(
        "PeerAuthentication",
        "IST0133",
        "selector: {matchLabels: {}}\nmtls: {mode: STRICT}",
        "selector: {matchLabels: {app: api}}\nmtls: {mode: STRICT}",
        "without labels",
    ),
    # AuthorizationPolicy
    Case("AuthorizationPolicy", "IST0106", "action: DENY", "action: DENY\nrules: [{}]", "DENY action without `rules`"),
    Case(
        "AuthorizationPolicy",
        "IST0106",
        "rules:\n- to: [{operation: {paths: ['/api/{id}/x']}}]",
        "rules:\n- to: [{operation: {paths: ['/api/{*}/x']}}]",
        "invalid or unsupported path",
    ),
    Case(
        "AuthorizationPolicy",
        "IST0106",
        "rules:\n- when: [{key: source.ipaddr, values: [10.0.0.1]}]",
        "rules:\n- when: [{key: source.ip, values: [10.0.0.0/8]}]",
        "unknown attribute",
    ),
    Case(
        "AuthorizationPolicy",
        "IST0133",
        "action: DENY\nrules:\n- to: [{operation: {methods: [POST]}}]",
        "action: DENY\nrules:\n- to: [{operation: {methods: [POST], ports: ['8080']}}]",
        "deny all traffic to TCP ports",
    ),
    # RequestAuthentication
    Case(
        "RequestAuthentication",
        "IST0106",
        "jwtRules:\n- audiences: [shop]",
        "jwtRules:\n- issuer: https://issuer.example.com",
        "issuer or jwksUri must be non-empty",
    ),
    Case(
        "RequestAuthentication",
        "IST0106",
        "jwtRules:\n- issuer: i\n  jwksUri: ftp://keys.example.com/jwks",
        "jwtRules:\n- issuer: i\n  jwksUri: https://keys.example.com/jwks",
        "not supported",
    ),
    Case(
        "RequestAuthentication",
        "IST0133",
        "selector: {}\njwtRules:\n- issuer: i",
        "selector: {matchLabels: {app: api}}\njwtRules:\n- issuer: i",
        "without labels",
    ),
    # Telemetry
    Case(
        "Telemetry",
        "IST0106",
        "tracing:\n- randomSamplingPercentage: 150",
        "tracing:\n- randomSamplingPercentage: 15",
        "randomSamplingPercentage must be in range",
    ),
    Case(
        "Telemetry",
        "IST0133",
        "tracing:\n- providers: [{name: zipkin}, {name: otel}]",
        "tracing:\n- providers: [{name: zipkin}]",
        "multiple providers",
    ),
    # WasmPlugin
    Case(
        "WasmPlugin",
        "IST0106",
        "phase: AUTHN",
        "phase: AUTHN\nurl: oci://registry.example/plugin:1",
        "url field needs to be set",
    ),
    Case(
        "WasmPlugin",
        "IST0106",
        "url: oci://r/p:1\nsha256: abc",
        "url: oci://r/p:1\nsha256: " + "a" * 64,
        "64 characters",
    ),
    Case(
        "WasmPlugin",
        "IST0133",
        "url: oci://r/p:1\nselector: {matchLabels: {}}",
        "url: oci://r/p:1\nselector: {matchLabels: {app: api}}",
        "without labels",
    ),
    # ProxyConfig
    Case(
        "ProxyConfig", "IST0106", "concurrency: -1", "concurrency: 2", "concurrency must be greater than or equal to 0"
    ),
    Case(
        "ProxyConfig",
        "IST0133",
        "concurrency: 2\nselector: {matchLabels: {}}",
        "concurrency: 2\nselector: {matchLabels: {app: api}}",
        "without labels",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case):
    bad = _hits(case.bad, case)
    assert bad, (
        f"{case}: expected {case.code} {case.contains!r}; got {[f.message for f in run(doc(case.kind, case.bad))]}"
    )
    assert all(f.doc and f.path and f.message.startswith("Schema validation") for f in bad)
    assert not _hits(case.good, case), [f.message for f in _hits(case.good, case)]


def test_every_schema_rule_has_a_case():
    names = {r.name for r in all_rules() if r.module == "schema"}
    assert len(names) == 28
    assert names == {c.rule for c in CASES}


def _sample_objects():
    out = []
    for f in sorted(SAMPLES.rglob("*.yaml")):
        out += objects(f.read_text(), file=str(f.relative_to(SAMPLES)))
    return out


def test_istio_samples_are_valid():
    objs = _sample_objects()
    istio = [o for o in objs if o.api_version.split("/")[0].endswith("istio.io")]
    assert len(istio) >= 30  # the samples' VirtualServices, DestinationRules, Gateways, ServiceEntries
    from meshreport.validation import validate

    errors = [f"{f.origin} {f.source}: {f.message}" for f in validate(objs) if f.code == "IST0106"]
    assert errors == []


def test_one_finding_per_problem_and_no_old_structural_rules():
    fs = run(doc("VirtualService", "hosts: [reviews]\nhttp:\n- route:\n  - destination: {subset: v1}\n"))
    schema = [f for f in fs if f.code == "IST0106"]
    assert [(f.rule, f.path) for f in schema] == [
        ("schema_error_virtualservice", "spec.http[0].route[0].destination.host")
    ]
    assert {r.module for r in all_rules() if r.code in ("IST0106", "IST0133")} == {"schema"}


def test_gateway_api_gateway_is_not_an_istio_gateway():
    text = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: Bad_Name, namespace: shop}\n"
        "spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}\n"
    )
    assert not [f for f in run(text) if f.code in ("IST0106", "IST0133")]


def test_invalid_gateway_name_and_message_shape():
    fs = run(doc("Gateway", GW_OK, name="shop.gw"))
    msgs = [f.message for f in fs if f.code == "IST0106"]
    assert msgs == ['Schema validation error: invalid gateway name: "shop.gw"']


def test_envoyfilter_always_warns_like_istio():
    spec = "configPatches:\n- applyTo: CLUSTER\n  patch: {operation: MERGE, value: {}}"
    fs = [f for f in run(doc("EnvoyFilter", spec)) if f.code == "IST0133"]
    assert [f.message for f in fs] == [
        "Schema validation warning: EnvoyFilter exposes internal implementation details that may change at any time. "
        "Prefer other APIs if possible, and exercise extreme caution, especially around upgrades."
    ]


def test_dry_run_annotation_only_on_authorization_policy():
    meta = ", annotations: {istio.io/dry-run: 'true'}"
    bad = [f.message for f in run(doc("Sidecar", "egress:\n- hosts: ['./*']", extra_meta=meta)) if f.code == "IST0106"]
    assert bad == [
        "Schema validation error: shop/x has unsupported annotation istio.io/dry-run, please remove the annotation"
    ]
    ok = run(doc("AuthorizationPolicy", "action: DENY\nrules: [{to: [{operation: {ports: ['80']}}]}]", extra_meta=meta))
    assert not [f for f in ok if f.code == "IST0106"]


def test_authorization_policy_errors_carry_istio_prefix():
    fs = [f.message for f in run(doc("AuthorizationPolicy", "action: DENY", name="deny-all")) if f.code == "IST0106"]
    assert fs and all(m.startswith("Schema validation error: invalid policy deny-all.shop: ") for m in fs)


def test_suppression_by_code_applies():
    meta = ", annotations: {galley.istio.io/analyze-suppress: IST0106}"
    fs = run(doc("ProxyConfig", "concurrency: -1", extra_meta=meta))
    from meshreport.validation import suppress as sup

    objs = objects(doc("ProxyConfig", "concurrency: -1", extra_meta=meta))
    result = sup.apply(fs, objs, [])
    assert [f.code for f in result.suppressed] == ["IST0106"] and not result.active
