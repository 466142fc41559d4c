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


def pod(image, ns_="shop", native=False, annotations="{}"):
    proxy = f'{{name: istio-proxy, image: "{image}"}}'
    return f"""
---
apiVersion: v1
kind: Pod
metadata: {{name: reviews-1, namespace: {ns_}, labels: {{app: reviews}}, annotations: {annotations}}}
spec:
  containers:
  - {{name: reviews, image: reviews}}
{f"  initContainers:{chr(10)}  - {proxy}" if native else f"  - {proxy}"}
"""


def proxy_config(spec, ns_="shop"):
    return f"""
---
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {{name: pc, namespace: {ns_}}}
spec: {json.dumps(spec)}
"""


DISTROLESS = "docker.io/istio/proxyv2:1.28.0-distroless"
CANARY = {"global": {"hub": "docker.io/istio", "tag": "1.29.0", "proxy": {"image": "proxyv2"}}}
ABSOLUTE = {"global": {"hub": "ignored", "tag": "ignored", "proxy": {"image": "registry.example/proxyv2:1.28.0"}}}


CASES = [
    Case(
        "namespace_multiple_injection_labels",
        "IST0123",
        "Namespace shop",
        ns("{istio-injection: enabled, istio.io/rev: canary}"),
        ns("{istio.io/rev: canary}"),
    ),
    # istio-injection=disabled opts out: a revision label beside it does not conflict
    Case(
        "namespace_multiple_injection_labels",
        "IST0123",
        "Namespace shop",
        ns("{istio.io/rev: canary, istio.io/dataplane-mode: ambient}"),
        ns("{istio-injection: disabled, istio.io/rev: canary}"),
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
    # a native sidecar (istio-proxy among the init containers) is compared too
    Case(
        "namespace_proxy_image_mismatch",
        "IST0158",
        "Namespace shop",
        ns("{istio-injection: enabled}") + injector(VALUES) + pod("docker.io/istio/proxyv2:1.27.1", native=True),
        ns("{istio-injection: enabled}") + injector(VALUES) + pod("docker.io/istio/proxyv2:1.28.0", native=True),
    ),
    # an absolute global.proxy.image is used as is
    Case(
        "namespace_proxy_image_mismatch",
        "IST0158",
        "Namespace shop",
        ns("{istio-injection: enabled}") + injector(ABSOLUTE) + pod("ignored/registry.example/proxyv2:1.28.0:ignored"),
        ns("{istio-injection: enabled}") + injector(ABSOLUTE) + pod("registry.example/proxyv2:1.28.0"),
    ),
    # istio.io/rev wins over istio-injection=enabled: the canary injector decides
    Case(
        "namespace_proxy_image_mismatch",
        "IST0158",
        "Namespace shop",
        ns("{istio-injection: enabled, istio.io/rev: canary}")
        + injector(VALUES)
        + injector(CANARY, rev="canary")
        + pod("docker.io/istio/proxyv2:1.28.0"),
        ns("{istio-injection: enabled, istio.io/rev: canary}")
        + injector(VALUES)
        + injector(CANARY, rev="canary")
        + pod("docker.io/istio/proxyv2:1.29.0"),
    ),
    # the image type of a namespace ProxyConfig, or of the pod's proxy.istio.io/config annotation
    *[
        Case(
            "namespace_proxy_image_mismatch",
            "IST0158",
            "Namespace shop",
            ns("{istio-injection: enabled}") + injector(VALUES) + pod(DISTROLESS),
            ns("{istio-injection: enabled}") + injector(VALUES) + good,
        )
        for good in (
            proxy_config({"image": {"imageType": "distroless"}}) + pod(DISTROLESS),
            pod(DISTROLESS, annotations="{proxy.istio.io/config: 'image: {imageType: distroless}'}"),
        )
    ],
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

    text = ns("{istio.io/rev: canary}") + injector(VALUES) + injector(CANARY, rev="canary")
    assert not [f for f in run(text + pod("docker.io/istio/proxyv2:1.29.0")) if f.code == "IST0158"]
    assert [f.code for f in run(text + pod("docker.io/istio/proxyv2:1.28.0")) if f.code == "IST0158"] == ["IST0158"]
