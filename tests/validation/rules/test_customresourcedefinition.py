"""CustomResourceDefinition rules (IST0176): bundle versions against Istio's minimums."""

import pytest

from meshreport.validation.rules.customresourcedefinition import parse_bundle_version

from .cases import Case, assert_case, assert_every_rule_has_a_case, run


def crd(name, version, group="gateway.networking.k8s.io", kind="TLSRoute"):
    ann = f"annotations: {{gateway.networking.k8s.io/bundle-version: '{version}'}}" if version else "annotations: {}"
    plural = name.split(".", 1)[0]
    return f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {name}
  {ann}
spec:
  group: {group}
  names: {{kind: {kind}, plural: {plural}}}
  scope: Namespaced
  versions: [{{name: v1alpha2, served: true, storage: true}}]
"""


TLS = "tlsroutes.gateway.networking.k8s.io"
GRPC = "grpcroutes.gateway.networking.k8s.io"
BTLS = "backendtlspolicies.gateway.networking.k8s.io"

CASES = [
    Case(
        "crd_below_minimum",
        "IST0176",
        f"CustomResourceDefinition {TLS}",
        crd(TLS, "v1.4.1"),
        crd(TLS, "v1.5.0"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("customresourcedefinition", CASES)


def _ist0176(text):
    return [f for f in run(text) if f.code == "IST0176"]


@pytest.mark.parametrize(
    "name,version,kind",
    [
        (GRPC, "v1.0.0", "GRPCRoute"),  # minimum 1.1.0
        (BTLS, "v1.3.0", "BackendTLSPolicy"),  # minimum 1.4.0
        (TLS, "1.4", "TLSRoute"),  # minor-only versions parse as 1.4.0
        (TLS, "v0.9.9", "TLSRoute"),
    ],
)
def test_each_minimum_fires_below(name, version, kind):
    found = _ist0176(crd(name, version, kind=kind))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warning"
    assert f"bundle version {version.lstrip('v')}" in f.message and kind in f.message
    assert f.path == "metadata.annotations.gateway.networking.k8s.io/bundle-version"


@pytest.mark.parametrize(
    "name,version",
    [
        (GRPC, "v1.1.0"),
        (GRPC, "v1.2.1"),
        (BTLS, "v1.4.0"),
        (TLS, "v1.5.0-rc.1"),  # the pre-release part is ignored, as Istio does
        (TLS, "v2.0.0"),
        (TLS, "not-a-version"),  # unreadable: istiod logs it, the analyzer stays silent
        (TLS, ""),  # no annotation
        ("httproutes.gateway.networking.k8s.io", "v0.5.0"),  # no minimum for HTTPRoute
        ("gateways.gateway.networking.k8s.io", "v0.1.0"),
    ],
)
def test_at_or_above_minimum_unknown_crds_and_missing_annotations_are_silent(name, version):
    assert _ist0176(crd(name, version)) == []


def test_parse_bundle_version_like_istio():
    assert parse_bundle_version("v1.5.0-rc.1+build.7") == ((1, 5, 0), "1.5.0-rc.1+build.7")
    assert parse_bundle_version("1") == ((1, 0, 0), "1.0.0")
    assert parse_bundle_version("v1.02.0") is None
    assert parse_bundle_version("latest") is None
