"""RequestAuthentication rules (and IST0175 on istiod): each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case
from .fixtures_b import AMBIENT, SHOP, obj

JWT = "  jwtRules: [{issuer: https://issuer.example, jwksUri: https://issuer.example/jwks}]\n"


def ra(spec, ns="shop", name="jwt"):
    return obj("RequestAuthentication", name, ns, spec)


def istiod(env=""):
    return f"""
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: istiod, namespace: istio-system, labels: {{app: istiod}}}}
spec:
  template:
    metadata: {{labels: {{app: istiod}}}}
    spec:
      containers:
      - name: discovery
        image: istio/pilot
        env: [{env}]
"""


CASES = [
    Case(
        "ra_selector_no_workload",
        "KIA0004",
        "RequestAuthentication shop/jwt",
        SHOP + ra("  selector: {matchLabels: {app: reviewz}}\n" + JWT),
        SHOP + ra("  selector: {matchLabels: {app: reviews}}\n" + JWT),
    ),
    Case(
        "ra_ambient_needs_waypoint",
        "KIA1110",
        "RequestAuthentication amb/jwt",
        AMBIENT + ra(JWT, ns="amb"),
        AMBIENT + ra(JWT, ns="ambw"),
    ),
    Case(
        "ra_ambient_selector",
        "KIA1115",
        "RequestAuthentication amb/jwt",
        AMBIENT + ra("  selector: {matchLabels: {app: web}}\n" + JWT, ns="amb"),
        AMBIENT + ra("  targetRefs: [{kind: Service, group: '', name: web}]\n" + JWT, ns="amb"),
    ),
    Case(
        "istiod_jwks_fetch_unrestricted",
        "IST0175",
        "Deployment istio-system/istiod",
        SHOP + ra(JWT) + istiod(),
        SHOP + ra(JWT) + istiod("{name: BLOCKED_CIDRS_IN_JWKS_URIS, value: 169.254.169.254/32}"),
    ),
    # a stored snapshot keeps only whether the value is set
    Case(
        "istiod_jwks_fetch_unrestricted",
        "IST0175",
        "Deployment istio-system/istiod",
        SHOP + ra(JWT) + istiod("{name: BLOCKED_CIDRS_IN_JWKS_URIS}"),
        SHOP + ra(JWT) + istiod("{name: BLOCKED_CIDRS_IN_JWKS_URIS, valueSet: true}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("requestauthentication", CASES)


def test_no_jwks_finding_without_request_authentications():
    from .cases import run

    assert not [f for f in run(SHOP + istiod()) if f.code == "IST0175"]
