"""Telemetry rules: each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case
from .fixtures_b import AMBIENT, SHOP, obj

METRICS = "  metrics: [{providers: [{name: prometheus}]}]\n"
LOG = "  accessLogging: [{}]\n"


def tel(spec, name="t", ns="shop"):
    return obj("Telemetry", name, ns, spec, api="telemetry.istio.io/v1")


SEL = "  selector: {matchLabels: {app: reviews}}\n"
LIGHTSTEP = {
    "extensionProviders": [
        {"name": "ls", "lightstep": {"address": "x:8080"}},
        {"name": "otel", "opentelemetry": {"service": "c", "port": 4317}},
    ]
}

CASES = [
    Case(
        "telemetry_selector_not_found",
        "IST0101",
        "Telemetry shop/t",
        SHOP + tel("  selector: {matchLabels: {app: reviewz}}\n" + METRICS),
        SHOP + tel(SEL + METRICS),
    ),
    Case(
        "telemetry_conflicting_selectors",
        "IST0159",
        "Telemetry shop/a",
        SHOP + tel(SEL + METRICS, name="a") + tel(SEL + METRICS, name="b"),
        SHOP + tel(SEL + METRICS, name="a") + tel("  selector: {matchLabels: {app: ratings}}\n" + METRICS, name="b"),
    ),
    Case(
        "telemetry_multiple_selectorless",
        "IST0160",
        "Telemetry shop/a",
        SHOP + tel(METRICS, name="a") + tel(METRICS, name="b"),
        SHOP + tel(METRICS, name="a") + tel(SEL + METRICS, name="b"),
    ),
    Case(
        "telemetry_access_log_no_provider",
        "IST0157",
        "Telemetry shop/t",
        SHOP + tel(LOG),
        SHOP + tel("  accessLogging: [{providers: [{name: envoy}]}]\n"),
    ),
    Case(
        "telemetry_lightstep_deprecated",
        "IST0002",
        "Telemetry shop/t",
        SHOP + tel("  tracing: [{providers: [{name: ls}]}]\n"),
        SHOP + tel("  tracing: [{providers: [{name: otel}]}]\n"),
        mesh=LIGHTSTEP,
    ),
    Case(
        "telemetry_ambient_needs_waypoint",
        "KIA1112",
        "Telemetry amb/t",
        AMBIENT + tel(METRICS, ns="amb"),
        AMBIENT + tel(METRICS, ns="ambw"),
    ),
    Case(
        "telemetry_ambient_selector",
        "KIA1117",
        "Telemetry amb/t",
        AMBIENT + tel("  selector: {matchLabels: {app: web}}\n" + METRICS, ns="amb"),
        AMBIENT + tel("  targetRefs: [{kind: Service, group: '', name: web}]\n" + METRICS, ns="amb"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("telemetry", CASES)


def test_mesh_default_provider_makes_empty_access_log_valid():
    from .cases import run

    found = run(SHOP + tel(LOG), {"defaultProviders": {"accessLogging": ["envoy"]}})
    assert not [f for f in found if f.code == "IST0157"]
