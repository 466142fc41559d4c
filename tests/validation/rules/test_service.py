"""Service rules: each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case

NS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: reviews, image: reviews, ports: [{containerPort: 9080, name: web}]}]}
"""


def svc(ports, type_="", name="reviews"):
    t = f"  type: {type_}\n" if type_ else "  selector: {app: reviews}\n"
    extra = "  externalName: api.example.com\n" if type_ == "ExternalName" else ""
    return f"""
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: shop}}
spec:
{t}{extra}  ports: {ports}
"""


def east(text):
    """The same YAML, as objects of a second cluster `east`."""
    return text.replace(
        "metadata: {name: reviews, namespace: shop",
        "metadata: {name: reviews, namespace: shop, annotations: {test.meshreport/cluster: east}",
    )


CASES = [
    Case(
        "multicluster_inconsistent_service",
        "IST0170",
        "Service shop/reviews",
        NS + svc("[{name: http, port: 9080}]") + east(svc("[{name: http, port: 9090}]")),
        NS + svc("[{name: http, port: 9080}]") + east(svc("[{name: http, port: 9080}]")),
    ),
    Case(
        "service_port_naming",
        "IST0118",
        "Service shop/reviews",
        NS + svc("[{name: web, port: 9080}]"),
        NS + svc("[{name: http-web, port: 9080}, {name: x, port: 9090, targetPort: 9080, appProtocol: grpc}]"),
    ),
    Case(
        "external_name_port_name",
        "IST0150",
        "Service shop/ext",
        NS + svc("[{name: tcp, port: 443}]", type_="ExternalName", name="ext"),
        NS + svc("[{name: https, port: 443}]", type_="ExternalName", name="ext"),
    ),
    Case(
        "service_app_protocol",
        "KIA0602",
        "Service shop/reviews",
        NS + svc("[{name: http, port: 9080, appProtocol: webby}]"),
        NS + svc("[{name: http, port: 9080, appProtocol: kubernetes.io/h2c}]"),
    ),
    Case(
        "service_target_port",
        "KIA0701",
        "Service shop/reviews",
        NS + svc("[{name: http, port: 9080, targetPort: 8080}, {name: http-b, port: 80, targetPort: webb}]"),
        NS + svc("[{name: http, port: 9080}, {name: http-b, port: 80, targetPort: web}]"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("service", CASES)


def test_port_naming_reports_each_bad_port_and_skips_control_plane():
    from .cases import run

    found = run(NS + svc("[{name: a, port: 1}, {name: http, port: 2}, {name: b, port: 3}]"))
    assert [f.path for f in found if f.code == "IST0118"] == ["spec.ports[0].name", "spec.ports[2].name"]
    cp = svc("[{name: a, port: 1}]").replace("namespace: shop", "namespace: istio-system")
    assert not [f for f in run(cp) if f.code == "IST0118"]


def test_inconsistent_service_names_each_difference_on_both_clusters():
    from .cases import run

    headless = svc("[{name: http, port: 9080}]").replace("spec:\n", "spec:\n  clusterIP: None\n")
    found = [f for f in run(NS + svc("[{name: http, port: 9080}]") + east(headless)) if f.code == "IST0170"]
    assert sorted((f.cluster, f.message) for f in found) == [
        ("Kubernetes", "Service shop/reviews differs from the one in cluster 'east': headless"),
        ("east", "Service shop/reviews differs from the one in cluster 'Kubernetes': headless"),
    ]
    # One cluster only: a Service is never compared with itself.
    assert not [f for f in run(NS + svc("[{name: http, port: 9080}]")) if f.code == "IST0170"]


def test_istioctl_ignored_namespaces_get_no_ist_findings():
    """istioctl never reads kube-system, kube-public, kube-node-lease or local-path-storage."""
    from .cases import run

    for ns in ("kube-system", "kube-public", "kube-node-lease", "local-path-storage"):
        found = run(svc("[{name: web, port: 9080}]").replace("namespace: shop", f"namespace: {ns}"))
        assert not [f for f in found if f.code == "IST0118"], ns
    found = run(NS + svc("[{name: web, port: 9080}]"))
    assert [f.origin for f in found if f.code == "IST0118"] == ["Service shop/reviews"]
