"""Istio objects against the OpenAPI schemas of Istio's own CRDs (meshreport/validation/schema/istio_crds.json)."""

import pytest

from meshreport.validation.schema.openapi import check, source

from ..rules.cases import run

VS = "networking.istio.io/v1"


def test_schema_copy_names_its_source():
    assert "crd-all.gen.yaml" in source() and "86c9f01fd735" in source()


@pytest.mark.parametrize(
    ("api", "kind", "spec", "path", "text"),
    [
        (VS, "VirtualService", {"hosts": "reviews"}, "spec.hosts", "is not of type 'array'"),
        (
            VS,
            "VirtualService",
            {"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}, "weight": "half"}]}]},
            "spec.http[0].route[0].weight",
            "is not of type 'integer'",
        ),
        (
            "networking.istio.io/v1beta1",
            "DestinationRule",
            {"host": "r", "trafficPolicy": {"tls": {"mode": "SIMPLEX"}}},
            "spec.trafficPolicy.tls.mode",
            "is not one of",
        ),
        (VS, "DestinationRule", {"subsets": [{"name": "v1"}]}, "spec.host", "'host' is a required property"),
        ("security.istio.io/v1", "AuthorizationPolicy", {"action": "BLOCK"}, "spec.action", "is not one of"),
    ],
)
def test_schema_errors(api, kind, spec, path, text):
    errors = [it for it in check(api, kind, spec) if it.severity == "error"]
    assert [it.path for it in errors] == [path]
    assert text in errors[0].message and errors[0].message.endswith("(Istio CRD schema)")


def test_unknown_nested_field_is_a_warning_and_valid_specs_pass():
    spec = {"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r", "subsett": "v1"}}]}]}
    assert [(it.severity, it.path) for it in check(VS, "VirtualService", spec)] == [
        ("warning", "spec.http[0].route[0].destination.subsett")
    ]
    good = {
        "hosts": ["r"],
        "http": [{"match": [{"headers": {"x": {"exact": "1"}}}], "route": [{"destination": {"host": "r"}}]}],
    }
    assert check(VS, "VirtualService", good) == []
    assert check("networking.istio.io/v9", "VirtualService", {"hosts": 1}) == []  # no schema for that version


def test_long_untrusted_values_are_cut_in_messages():
    (it,) = check(VS, "VirtualService", {"hosts": "x" * 5000})
    assert len(it.message) < 300


def test_ist0106_from_the_crd_schema_on_the_object():
    found = run(
        """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICTER}, portLevelMtls: {"8080": {mode: DISABLE}}, selector: {matchLabels: {app: a}}}
"""
    )
    schema = [(f.code, f.path) for f in found if f.code in ("IST0106", "IST0133")]
    assert ("IST0106", "spec.mtls.mode") in schema
    assert len([p for c, p in schema if p == "spec.mtls.mode"]) == 1  # said once, not by both checkers
