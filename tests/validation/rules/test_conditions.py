"""Status-condition rules (IST0171): each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case


def with_status(kind, api, name, status, spec="{}"):
    return f"""
apiVersion: {api}
kind: {kind}
metadata: {{name: {name}, namespace: shop}}
spec: {spec}
status: {status}
"""


def svc(status):
    return with_status("Service", "v1", "reviews", status, "{ports: [{name: http, port: 80}]}")


def apol(status):
    return with_status("AuthorizationPolicy", "security.istio.io/v1", "p", status)


def gw(status):
    return with_status(
        "Gateway", "gateway.networking.k8s.io/v1", "gw", status, "{gatewayClassName: istio, listeners: []}"
    )


def route(status):
    return with_status("HTTPRoute", "gateway.networking.k8s.io/v1", "r", status)


CASES = [
    Case(
        "waypoint_bound_condition",
        "IST0171",
        "Service shop/reviews",
        svc("{conditions: [{type: istio.io/WaypointBound, status: 'False', reason: WaypointNotFound}]}"),
        svc("{conditions: [{type: istio.io/WaypointBound, status: 'True', reason: Accepted}]}"),
    ),
    Case(
        "authorization_policy_condition",
        "IST0171",
        "AuthorizationPolicy shop/p",
        apol("{conditions: [{type: ZtunnelAccepted, status: 'False', reason: UnsupportedValue}]}"),
        apol("{conditions: [{type: ZtunnelAccepted, status: 'True', reason: Accepted}]}"),
    ),
    Case(
        "k8s_gateway_condition",
        "IST0171",
        "Gateway shop/gw",
        gw("{conditions: [{type: Programmed, status: 'False', reason: AddressNotAssigned}]}"),
        gw("{conditions: [{type: Programmed, status: 'False', reason: Pending}, {type: Accepted, status: 'True'}]}"),
    ),
    Case(
        "route_condition",
        "IST0171",
        "HTTPRoute shop/r",
        route(
            "{parents: [{parentRef: {name: gw}, conditions: "
            "[{type: ResolvedRefs, status: 'False', reason: BackendNotFound}]}]}"
        ),
        route("{parents: [{parentRef: {name: gw}, conditions: [{type: Accepted, status: 'True'}]}]}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("conditions", CASES)


def test_gateway_listener_conflict_carries_kiali_equivalent():
    from .cases import run

    status = "{listeners: [{name: http, conditions: [{type: Conflicted, status: 'True', reason: HostnameConflict}]}]}"
    found = [f for f in run(gw(status)) if f.code == "IST0171"]
    assert [(f.kind, f.equivalents) for f in found] == [("Gateway", ("GWAPI",))]


def test_service_entry_waypoint_condition_is_one_finding():
    from .cases import run

    text = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [ext.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
status:
  conditions:
  - {type: istio.io/WaypointBound, status: "False", reason: WaypointIsNotReady, message: not ready}
"""
    assert [f.origin for f in run(text) if f.code == "IST0171"] == ["ServiceEntry shop/ext"]
