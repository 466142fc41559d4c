"""Webhook rules: each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case

ISTIOD = """
apiVersion: v1
kind: Service
metadata: {name: istiod, namespace: istio-system}
spec: {selector: {app: istiod}, ports: [{name: grpc-xds, port: 15012}]}
"""


def mwc(name, ns_selector, service="istiod", rev=""):
    labels = f", labels: {{istio.io/rev: {rev}}}" if rev else ""
    return f"""
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: {name}{labels}}}
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig: {{service: {{name: {service}, namespace: istio-system, path: /inject}}}}
  namespaceSelector: {ns_selector}
"""


ENABLED = "{matchLabels: {istio-injection: enabled}}"
REV = (
    "{matchExpressions: [{key: istio.io/rev, operator: In, values: [canary]},"
    " {key: istio-injection, operator: DoesNotExist}]}"
)


def vwc(url):
    return f"""
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: istiod-default-validator}}
webhooks:
- name: validation.istio.io
  clientConfig: {{url: "{url}"}}
"""


CASES = [
    Case(
        "webhook_invalid",
        "IST0139",
        "MutatingWebhookConfiguration istio-sidecar-injector",
        ISTIOD + mwc("istio-sidecar-injector", ENABLED) + mwc("istio-sidecar-injector-canary", ENABLED, rev="canary"),
        ISTIOD + mwc("istio-sidecar-injector", ENABLED) + mwc("istio-sidecar-injector-canary", REV, rev="canary"),
    ),
    Case(
        "webhook_external_cp_invalid",
        "IST0163",
        "ValidatingWebhookConfiguration istiod-default-validator",
        vwc(""),
        vwc("https://istiod.example.com:15017/validate"),
    ),
    Case(
        "webhook_external_cp_ip",
        "IST0164",
        "ValidatingWebhookConfiguration istiod-default-validator",
        vwc("https://10.0.0.7:15017/validate"),
        vwc("https://istiod.example.com:15017/validate"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("webhook", CASES)


def test_missing_webhook_service_is_reported():
    from .cases import run

    found = run(ISTIOD + mwc("istio-sidecar-injector", ENABLED, service="istiod-old"))
    assert [f.message for f in found if f.code == "IST0139"] == [
        "Injector refers to a control plane service that does not exist: istio-system/istiod-old."
    ]
