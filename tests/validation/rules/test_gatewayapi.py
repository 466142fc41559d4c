"""Gateway API rules: each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case

BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: ingress}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {expose: "yes"}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
"""


def gw(name="gw", ns="ingress", listeners=None, cls="istio", addresses=""):
    listeners = listeners or "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]"
    return f"""
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: {ns}}}
spec:
  gatewayClassName: {cls}
  listeners: {listeners}
{addresses}"""


def route(parent="{name: gw, namespace: ingress}", backends="[{name: reviews, port: 9080}]", ns="shop"):
    return f"""
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: {ns}}}
spec:
  parentRefs: [{parent}]
  rules: [{{backendRefs: {backends}}}]
"""


GRANT = """
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ingress}]
  to: [{group: "", kind: Service}]
"""
SELECTOR_ONLY = (
    "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: "
    "{matchLabels: {expose: 'yes'}}}}}]"
)
GW_POD = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gw-istio, namespace: ingress}
spec:
  template:
    metadata: {labels: {gateway.networking.k8s.io/gateway-name: gw, app: gw}}
    spec: {containers: [{name: istio-proxy, image: auto}]}
"""


def ap(spec):
    return f"""
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: p, namespace: ingress}}
spec: {spec}
"""


CASES = [
    Case(
        "route_parent_gateway",
        "KIA1401",
        "HTTPRoute shop/r",
        BASE + gw(listeners=SELECTOR_ONLY.replace("'yes'", "'no'")) + route(),
        BASE + gw(listeners=SELECTOR_ONLY) + route(),
    ),
    Case(
        "route_backend_not_found",
        "KIA1402",
        "HTTPRoute ingress/r",
        BASE + gw() + route(backends="[{name: reviews, namespace: shop, port: 9080}]", ns="ingress"),
        BASE + gw() + GRANT + route(backends="[{name: reviews, namespace: shop, port: 9080}]", ns="ingress"),
    ),
    Case(
        "k8s_gateway_duplicate_listener",
        "KIA1501",
        "Gateway ingress/a",
        BASE + gw("a") + gw("b"),
        BASE + gw("a") + gw("b", listeners="[{name: http, port: 8080, protocol: HTTP}]"),
    ),
    Case(
        "k8s_gateway_duplicate_address",
        "KIA1502",
        "Gateway ingress/a",
        BASE
        + gw("a", addresses="  addresses: [{value: 10.0.0.1}]\n")
        + gw("b", listeners="[{name: h, port: 81, protocol: HTTP}]", addresses="  addresses: [{value: 10.0.0.1}]\n"),
        BASE
        + gw("a", addresses="  addresses: [{value: 10.0.0.1}]\n")
        + gw("b", listeners="[{name: h, port: 81, protocol: HTTP}]", addresses="  addresses: [{value: 10.0.0.2}]\n"),
    ),
    Case(
        "k8s_gateway_listeners_unique",
        "KIA1503",
        "Gateway ingress/gw",
        BASE + gw(listeners="[{name: a, port: 80, protocol: HTTP}, {name: b, port: 80, protocol: HTTP}]"),
        BASE
        + gw(
            listeners="[{name: a, port: 80, protocol: HTTP, hostname: a.example}, {name: b, port: 80, protocol: HTTP}]"
        ),
    ),
    Case(
        "k8s_gateway_class",
        "KIA1504",
        "Gateway ingress/gw",
        BASE + gw(cls="nginx"),
        BASE + gw(cls="nginx") + "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
        "metadata: {name: nginx}\nspec: {controllerName: example.com/nginx}\n",
    ),
    Case(
        "reference_grant_namespace",
        "KIA1601",
        "ReferenceGrant shop/allow",
        BASE + GRANT.replace("namespace: ingress}", "namespace: ingres}"),
        BASE + GRANT,
    ),
    Case(
        "ineffective_gateway_selector",
        "IST0166",
        "AuthorizationPolicy ingress/p",
        BASE + GW_POD + ap("{selector: {matchLabels: {app: gw}}, action: DENY, rules: [{}]}"),
        BASE + GW_POD + ap("{targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}], action: DENY}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("gatewayapi", CASES)


def test_missing_parent_gateway_is_reported():
    from .cases import run

    found = run(BASE + route(parent="{name: nope, namespace: ingress}") + gw())
    assert [f.message for f in found if f.code == "KIA1401"] == ["Gateway ingress/nope not found"]
