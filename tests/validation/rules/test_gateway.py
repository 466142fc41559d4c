"""Istio Gateway rules with istioctl's default ingress: an input without ingress pods is judged as if
istioctl's dummy ingress pod (`istio: ingressgateway`, in istio-system) and its Service (ports 80, 443,
31400, 15443) were there."""

import json
import random

import pytest

from .cases import Case, assert_case, run


def gw(selector: str = "{istio: ingressgateway}", port: int = 443, cred: str | None = None, name: str = "web") -> str:
    tls = f"\n    tls: {{mode: SIMPLE, credentialName: {cred}}}" if cred else ""
    return f"""
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {selector}
  servers:
  - port: {{number: {port}, name: p, protocol: HTTPS}}
    hosts: ["*"]{tls}
"""


def secret(not_after: str = "2120-01-01T00:00:00Z", ns: str = "istio-system") -> str:
    return f"""
---
apiVersion: v1
kind: Secret
metadata: {{name: web-cert, namespace: {ns}}}
certificate: {{keys: tls.crt/tls.key, parsed: true, certificates: 1, notBefore: "2020-01-01T00:00:00Z",
  notAfter: "{not_after}", keyParsed: true, keyMatches: true}}
"""


CUSTOM_POD = """
---
apiVersion: v1
kind: Pod
metadata: {name: custom-1, namespace: gw, labels: {app: custom}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
"""

CASES = [
    # a selector that matches nothing fires even when the input has no workloads (istioctl has its dummy pod)
    Case("gw_selector_no_pods", "IST0101", "Gateway shop/web", gw("{istio: ingresstypo}"), gw()),
    # the default ingress exposes 80, 443, 31400 and 15443
    Case("gw_port_not_on_service", "IST0162", "Gateway shop/web", gw(port=8004), gw(port=443)),
    # real gateway pods that no Service selects expose no port
    Case(
        "gw_port_not_on_service",
        "IST0162",
        "Gateway shop/web",
        CUSTOM_POD + gw("{app: custom}"),
        CUSTOM_POD
        + gw("{app: custom}")
        + """
---
apiVersion: v1
kind: Service
metadata: {name: custom, namespace: gw}
spec: {selector: {app: custom}, ports: [{name: https, port: 443, targetPort: 8443}]}
""",
    ),
    # the default ingress's credentials live in istio-system
    Case(
        "gw_invalid_credential",
        "IST0161",
        "Gateway shop/web",
        gw(cred="web-cert") + secret("2021-01-01T00:00:00Z"),
        gw(cred="web-cert") + secret(),
    ),
    Case(
        "gw_secret_not_found",
        "IST0101",
        "Gateway shop/web",
        gw(cred="web-cert") + secret(ns="shop"),
        gw(cred="web-cert") + secret(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_class(case):
    assert_case(case)


def test_unmatched_selector_is_one_finding_not_a_missing_credential_too():
    found = [f for f in run(gw("{istio: nothing}", cred="web-cert") + secret()) if f.code == "IST0101"]
    assert [f.message for f in found] == ['Referenced selector not found: "istio=nothing"']


def test_real_ingress_pods_replace_the_dummy():
    """With an ingress pod in the input, its own Service decides the ports, not the dummy's."""
    pod = """
---
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: istio-ingress, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
---
apiVersion: v1
kind: Service
metadata: {name: ingress, namespace: istio-ingress}
spec: {selector: {istio: ingressgateway}, ports: [{name: https, port: 8443}]}
"""
    assert [f.code for f in run(pod + gw(port=443)) if f.code == "IST0162"] == ["IST0162"]
    assert [f.code for f in run(pod + gw(port=8443)) if f.code == "IST0162"] == []


def cert_gw(name: str, ns: str, selector: str, cred: str = "shared-cert") -> str:
    return f"""
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {selector}
  servers:
  - port: {{number: 443, name: https, protocol: HTTPS}}
    hosts: ["{name}.example.com"]
    tls: {{mode: SIMPLE, credentialName: {cred}}}
"""


CERT_CASES = [
    # across namespaces (istiod does not scope gateways to their namespace by default)
    Case(
        "gw_duplicate_certificate",
        "IST0138",
        "Gateway a/one",
        cert_gw("one", "a", "{istio: ingressgateway}") + cert_gw("two", "b", "{istio: ingressgateway}"),
        cert_gw("one", "a", "{istio: ingressgateway}") + cert_gw("two", "b", "{istio: ingressgateway}", cred="other"),
    ),
    # only the gateway whose selector lies within the other's is reported
    Case(
        "gw_duplicate_certificate",
        "IST0138",
        "Gateway a/narrow",
        cert_gw("narrow", "a", "{istio: ingressgateway}") + cert_gw("wide", "a", "{istio: ingressgateway, x: y}"),
        cert_gw("narrow", "a", "{istio: ingressgateway, x: y}") + cert_gw("wide", "a", "{istio: ingressgateway}"),
    ),
]


@pytest.mark.parametrize("case", CERT_CASES, ids=str)
def test_duplicate_certificate(case):
    assert_case(case)


def test_duplicate_certificate_once_per_other_gateway():
    text = cert_gw("one", "a", "{}") + cert_gw("two", "b", "{app: x}") + cert_gw("three", "c", "{app: y}")
    found = [f.message for f in run(text) if f.code == "IST0138" and f.name == "one"]
    assert len(found) == 2 and all(m.startswith("Duplicate certificate in multiple gateways [a/one ") for m in found)


def _tls_gateway(i: int, selector: dict, tls: dict) -> str:
    return f"""
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: g{i}, namespace: ns{i % 3}}}
spec:
  selector: {json.dumps(selector)}
  servers:
  - port: {{number: 443, name: https, protocol: HTTPS}}
    hosts: ["g{i}.example.com"]
    tls: {json.dumps(tls)}
"""


def test_duplicate_certificate_finds_what_comparing_every_pair_finds():
    """The rule looks Gateways up by certificate (one lookup each, not a comparison with every Gateway):
    over a mix of credentialNames, file pairs, half pairs and selectors, it reports exactly the pairs
    that istioctl's haveSameCertificate and selector test, applied to every pair, report."""
    rnd = random.Random(15)
    selectors = [{"istio": "ingressgateway"}, {"istio": "ingressgateway", "x": "1"}, {}, {"app": "a"}]
    tls_kinds = [
        lambda: {"mode": "SIMPLE", "credentialName": f"cred-{rnd.randrange(8)}"},
        lambda: {"mode": "SIMPLE", "serverCertificate": f"/c{rnd.randrange(3)}", "privateKey": f"/k{rnd.randrange(2)}"},
        lambda: {"mode": "SIMPLE", "serverCertificate": "/c1"},  # no key: matches nothing
        lambda: {"mode": "PASSTHROUGH"},
    ]
    gws = [(i, rnd.choice(selectors), rnd.choice(tls_kinds)()) for i in range(60)]

    def same(a: dict, b: dict) -> bool:
        if a.get("credentialName") and b.get("credentialName"):
            return a["credentialName"] == b["credentialName"]
        if a.get("credentialName") or b.get("credentialName"):
            return False
        return bool(a.get("serverCertificate") and a.get("privateKey")) and (
            (a.get("serverCertificate"), a.get("privateKey")) == (b.get("serverCertificate"), b.get("privateKey"))
        )

    expected = sorted(
        (f"g{i}", f"ns{j % 3}/g{j}")
        for i, sel, tls in gws
        for j, other, theirs in gws
        if i != j and all(other.get(k) == v for k, v in sel.items()) and same(tls, theirs)
    )
    found = run("".join(_tls_gateway(*g) for g in gws))
    reported = sorted((f.name, f.message.split(" ")[6].rstrip("]")) for f in found if f.code == "IST0138")
    assert expected and reported == expected
