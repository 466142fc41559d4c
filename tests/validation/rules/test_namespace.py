"""Namespace rules: each rule has a bad and a good input."""

import json

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case


def ns(labels="{}", name="shop"):
    return f"""
---
apiVersion: v1
kind: Namespace
metadata: {{name: {name}, labels: {labels}}}
"""


def injector(values, rev=""):
    name = "istio-sidecar-injector" + (f"-{rev}" if rev else "")
    return f"""
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}, namespace: istio-system}}
data:
  values: '{json.dumps(values)}'
"""


VALUES = {"global": {"hub": "docker.io/istio", "tag": "1.28.0", "proxy": {"image": "proxyv2"}}}


def pod(image, ns_="shop"):
    return f"""
---
apiVersion: v1
kind: Pod
metadata: {{name: reviews-1, namespace: {ns_}, labels: {{app: reviews}}}}
spec:
  containers:
  - {{name: reviews, image: reviews}}
  - {{name: istio-proxy, image: "{image}"}}
"""


CASES = [
    Case(
        "namespace_multiple_injection_labels",
        "IST0123",
        "Namespace shop",
        ns("{istio-injection: enabled, istio.io/rev: canary}"),
        ns("{istio.io/rev: canary}"),
    ),
    Case(
        "namespace_not_injected",
        "IST0102",
        "Namespace shop",
        ns(),
        ns("{istio-injection: disabled}"),
    ),
    Case(
        "namespace_injected_by_default",
        "IST0148",
        "Namespace shop",
        ns() + injector({"sidecarInjectorWebhook": {"enableNamespacesByDefault": True}}),
        ns("{istio-injection: enabled}") + injector({"sidecarInjectorWebhook": {"enableNamespacesByDefault": True}}),
    ),
    Case(
        "namespace_proxy_image_mismatch",
        "IST0158",
        "Namespace shop",
        ns("{istio-injection: enabled}") + injector(VALUES) + pod("docker.io/istio/proxyv2:1.27.1"),
        ns("{istio-injection: enabled}") + injector(VALUES) + pod("docker.io/istio/proxyv2:1.28.0-distroless"),
        mesh={"defaultConfig": {"image": {"imageType": "distroless"}}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("namespace", CASES)


def test_system_namespaces_and_ambient_are_not_reported():
    from .cases import run

    found = run(ns(name="kube-system") + ns("{istio.io/dataplane-mode: ambient}", name="amb"))
    assert not [f for f in found if f.code in ("IST0102", "IST0148")]


def test_revision_namespace_uses_its_injector():
    from .cases import run

    canary = {"global": {"hub": "docker.io/istio", "tag": "1.29.0", "proxy": {"image": "proxyv2"}}}
    text = ns("{istio.io/rev: canary}") + injector(VALUES) + injector(canary, rev="canary")
    assert not [f for f in run(text + pod("docker.io/istio/proxyv2:1.29.0")) if f.code == "IST0158"]
    assert [f.code for f in run(text + pod("docker.io/istio/proxyv2:1.28.0")) if f.code == "IST0158"] == ["IST0158"]
