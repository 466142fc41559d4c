"""Annotation rules: each rule has a bad and a good input."""

import pytest

from meshreport.validation.rules._annotation_table import ANNOTATIONS, BY_NAME, LATER, is_istio_annotation

from .cases import Case, assert_case, assert_every_rule_has_a_case, run


def pod(annotations, labels="{app: reviews}"):
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: reviews-1, namespace: shop, labels: {labels}, annotations: {annotations}}}
spec: {{containers: [{{name: reviews, image: reviews}}]}}
"""


def dep(meta_annotations="{}", template_annotations="{}"):
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: reviews, namespace: shop, annotations: {meta_annotations}}}
spec:
  template:
    metadata: {{labels: {{app: reviews}}, annotations: {template_annotations}}}
    spec: {{containers: [{{name: reviews, image: reviews}}]}}
"""


CASES = [
    Case(
        "unknown_annotation",
        "IST0108",
        "Pod shop/reviews-1",
        pod("{sidecar.istio.io/injection: 'false'}"),
        pod("{sidecar.istio.io/proxyCPU: 100m, example.com/istio.io: x}"),
    ),
    Case(
        "misplaced_annotation",
        "IST0107",
        "Deployment shop/reviews",
        dep(meta_annotations="{sidecar.istio.io/proxyCPU: 100m}"),
        dep(template_annotations="{sidecar.istio.io/proxyCPU: 100m}"),
    ),
    Case(
        "invalid_annotation",
        "IST0125",
        "Pod shop/reviews-1",
        pod("{traffic.sidecar.istio.io/excludeOutboundPorts: '80,http'}"),
        pod("{traffic.sidecar.istio.io/excludeOutboundPorts: '80,443', sidecar.istio.io/interceptionMode: TPROXY}"),
    ),
    Case(
        "deprecated_annotation",
        "IST0135",
        "Pod shop/reviews-1",
        pod("{sidecar.istio.io/inject: 'true'}"),
        pod("{sidecar.istio.io/inject: 'true'}", labels="{app: reviews, sidecar.istio.io/inject: 'true'}"),
    ),
    # a deprecated Pod annotation on the Deployment's own metadata is deprecated there too (and misplaced)
    Case(
        "deprecated_annotation",
        "IST0135",
        "Deployment shop/reviews",
        dep(meta_annotations="{sidecar.istio.io/statsInclusionPrefixes: cluster.outbound}"),
        dep(meta_annotations="{sidecar.istio.io/proxyCPU: 100m}"),
    ),
    Case(
        "alpha_annotation",
        "IST0136",
        "Pod shop/reviews-1",
        pod("{sidecar.istio.io/proxyCPU: 100m}"),
        pod("{proxy.istio.io/config: 'concurrency: 2', sidecar.istio.io/status: '{}'}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("annotations", CASES)


def test_template_annotations_are_checked_as_pod_annotations():
    found = run(dep(template_annotations="{sidecar.istio.io/interceptionMode: BOGUS}"))
    assert [(f.code, f.path) for f in found if f.code == "IST0125"] == [
        ("IST0125", "spec.template.metadata.annotations.sidecar.istio.io/interceptionMode")
    ]


@pytest.mark.parametrize(
    "name,value,ok",
    [
        ("traffic.sidecar.istio.io/includeOutboundIPRanges", "*", True),
        ("traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.0/8,192.168.0.0/33", False),
        ("readiness.status.sidecar.istio.io/periodSeconds", "-1", False),
        ("proxy.istio.io/config", "holdApplicationUntilProxyStarts: true", True),
        ("proxy.istio.io/config", "[not, a, mapping]", False),
        ("sidecar.istio.io/proxyMemory", "512Mi", True),
        ("sidecar.istio.io/proxyMemory", "lots", False),
    ],
)
def test_value_validators(name, value, ok):
    found = [f for f in run(pod("{" + f"{name}: '{value}'" + "}")) if f.code == "IST0125"]
    assert (not found) is ok


def test_table_is_consistent():
    assert len(BY_NAME) == len(ANNOTATIONS) + len(LATER)  # no name twice
    assert all(is_istio_annotation(a.name) for a in (*ANNOTATIONS, *LATER))
    assert not is_istio_annotation("kiali.io/ignore-validations")


def test_table_matches_istio_api_annotations_yaml():
    """Spot checks against istio/api annotations (AllResourceAnnotations() of the generated copy)."""
    assert len(ANNOTATIONS) == 62
    kinds = {k for a in ANNOTATIONS for k in a.kinds}
    assert kinds == {
        "Any",
        "AuthorizationPolicy",
        "Gateway",
        "GatewayClass",
        "Ingress",
        "Namespace",
        "Pod",
        "Service",
        "ServiceEntry",
        "WorkloadEntry",
    }
    facts = {
        # name: (resources, featureStatus, deprecated, hidden)
        "sidecar.istio.io/inject": (("Pod",), "Beta", True, False),
        "sidecar.istio.io/extraStatTags": (("Pod",), "Alpha", True, False),
        "sidecar.istio.io/proxyCPU": (("Pod",), "Alpha", False, False),
        "proxy.istio.io/config": (("Pod",), "Beta", False, False),
        "ambient.istio.io/redirection": (("Pod",), "Beta", False, False),
        "ambient.istio.io/waypoint-inbound-binding": (("GatewayClass", "Gateway"), "Alpha", False, True),
        "kubernetes.io/ingress.class": (("Ingress",), "Stable", False, False),
        "traffic.istio.io/nodeSelector": (("Service",), "Stable", False, False),
        "topology.istio.io/controlPlaneClusters": (("Namespace",), "Alpha", False, False),
        "networking.istio.io/traffic-distribution": (("Service", "ServiceEntry"), "Alpha", False, False),
        "alpha.istio.io/canonical-serviceaccounts": (("Service",), "Alpha", True, True),
        "istio.io/dry-run": (("AuthorizationPolicy",), "Alpha", False, False),
        "istio.io/connectedAt": (("WorkloadEntry",), "Alpha", False, True),
        "istio.io/rev": (("Pod",), "Alpha", False, False),
        "galley.istio.io/analyze-suppress": (("Any",), "Alpha", False, False),
    }
    for name, fact in facts.items():
        a = next(a for a in ANNOTATIONS if a.name == name)
        assert (a.kinds, a.status, a.deprecated, a.hidden) == fact, name
    # removed upstream: now unknown (IST0108)
    for gone in ("alpha.istio.io/identity", "sidecar.istio.io/controlPlaneAuthPolicy"):
        assert gone not in BY_NAME
        assert [f.code for f in run(pod("{" + gone + ": x}")) if f.code == "IST0108"] == ["IST0108"]


def test_alpha_annotation_is_off_by_default_and_skips_interception_on_cni_pods():
    from meshreport.validation import validate

    from ..helpers import objects

    text = pod("{sidecar.istio.io/proxyCPU: 100m}")
    assert not [f for f in validate(objects(text)) if f.code == "IST0136"]
    assert [f.path for f in validate(objects(text), enable=["IST0136"]) if f.code == "IST0136"] == [
        "metadata.annotations.sidecar.istio.io/proxyCPU"
    ]
    excl = "{traffic.sidecar.istio.io/excludeOutboundPorts: '443'}"
    assert not [f for f in run(pod(excl)) if f.code == "IST0136"]  # no istio-init: CNI does the redirection
    with_init = pod(excl).replace("spec: {", "spec: {initContainers: [{name: istio-init, image: proxyv2}], ")
    assert [f.code for f in run(with_init) if f.code == "IST0136"] == ["IST0136"]
