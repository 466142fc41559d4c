"""Workload rules (Pods, Deployments): each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case, run
from .fixtures_b import AMBIENT

SHOP_NS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
"""


def pod(name="reviews-1", labels="{app: reviews}", annotations="{}", containers=None, ns="shop", spec_extra=""):
    containers = containers or "[{name: reviews, image: reviews}, {name: istio-proxy, image: proxyv2}]"
    return f"""
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {ns}, labels: {labels}, annotations: {annotations}}}
spec:
  containers: {containers}
{spec_extra}"""


def dep(name="reviews", labels="{app: reviews}", containers=None, ns="shop", spec_extra=""):
    containers = containers or "[{name: reviews, image: reviews}]"
    return f"""
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  template:
    metadata: {{labels: {labels}}}
    spec:
      containers: {containers}
{spec_extra}"""


def svc(name, ports, ns="shop"):
    return f"""
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec: {{selector: {{app: reviews}}, ports: {ports}}}
"""


WEBHOOK = """
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector}
webhooks:
- name: namespace.sidecar-injector.istio.io
  namespaceSelector: {matchLabels: {istio-injection: enabled}}
"""
AUTO = "[{name: istio-proxy, image: auto}]"
ALLOW_ALL = """
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow, namespace: shop}
spec: {action: ALLOW, rules: [{}]}
"""
WAYPOINT = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: amb}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""
L7_AP = """
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: amb}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
"""

CASES = [
    Case(
        "pod_missing_proxy",
        "IST0103",
        "Pod shop/reviews-1",
        SHOP_NS + pod(containers="[{name: reviews, image: reviews}]"),
        SHOP_NS + pod(),
    ),
    Case(
        "application_uid",
        "IST0144",
        "Deployment shop/reviews",
        SHOP_NS + dep(containers="[{name: reviews, image: r, securityContext: {runAsUser: 1337}}]"),
        SHOP_NS + dep(containers="[{name: reviews, image: r, securityContext: {runAsUser: 1000}}]"),
    ),
    # a Pod's own security context, and one of its containers' (istioctl reports once per object)
    Case(
        "application_uid",
        "IST0144",
        "Pod shop/reviews-1",
        SHOP_NS + pod(spec_extra="  securityContext: {runAsUser: 1337}"),
        SHOP_NS + pod(spec_extra="  securityContext: {runAsUser: 1000}"),
    ),
    Case(
        "application_uid",
        "IST0144",
        "Pod shop/reviews-1",
        SHOP_NS + pod(containers="[{name: reviews, image: r, securityContext: {runAsUser: 1337}}]"),
        SHOP_NS + pod(containers="[{name: istio-proxy, image: proxyv2, securityContext: {runAsUser: 1337}}]"),
    ),
    # a host-network pod is never injected, so a missing proxy is by design
    Case(
        "pod_missing_proxy",
        "IST0103",
        "Pod shop/reviews-1",
        SHOP_NS + pod(containers="[{name: reviews, image: reviews}]", spec_extra="  hostNetwork: false"),
        SHOP_NS + pod(containers="[{name: reviews, image: reviews}]", spec_extra="  hostNetwork: true"),
    ),
    Case(
        "deployment_image_auto",
        "IST0146",
        "Deployment default/gw",
        WEBHOOK + dep(name="gw", ns="default", containers=AUTO),
        SHOP_NS.replace("shop", "default") + WEBHOOK + dep(name="gw", ns="default", containers=AUTO),
    ),
    Case(
        "pod_image_auto",
        "IST0147",
        "Pod shop/reviews-1",
        SHOP_NS + pod(containers=AUTO),
        SHOP_NS + pod(),
    ),
    Case(
        "deployment_multi_service_protocols",
        "IST0116",
        "Deployment shop/reviews",
        SHOP_NS + dep() + svc("a", "[{name: http, port: 9080}]") + svc("b", "[{name: udp, port: 9080, protocol: UDP}]"),
        SHOP_NS + dep() + svc("a", "[{name: http, port: 9080}]") + svc("b", "[{name: http, port: 9080}]"),
    ),
    # a Deployment opted out of injection (label or annotation "false") is not in the mesh: not checked
    Case(
        "deployment_multi_service_protocols",
        "IST0116",
        "Deployment shop/reviews",
        SHOP_NS
        + dep(labels="{app: reviews, sidecar.istio.io/inject: 'true'}")
        + svc("a", "[{name: http, port: 9080}]")
        + svc("b", "[{name: udp, port: 9080, protocol: UDP}]"),
        SHOP_NS
        + dep(labels="{app: reviews, sidecar.istio.io/inject: 'false'}")
        + svc("a", "[{name: http, port: 9080}]")
        + svc("b", "[{name: udp, port: 9080, protocol: UDP}]"),
    ),
    Case(
        "deployment_conflicting_ports",
        "IST0137",
        "Deployment shop/reviews",
        SHOP_NS
        + dep()
        + svc("a", "[{name: http, port: 80, targetPort: 9080}]")
        + svc("b", "[{name: http, port: 9080}]"),
        SHOP_NS + dep() + svc("a", "[{name: http, port: 9080}]") + svc("b", "[{name: http, port: 9080}]"),
    ),
    Case(
        "workload_no_authorization",
        "KIA1301",
        "Deployment shop/reviews",
        SHOP_NS + dep(),
        SHOP_NS + dep() + ALLOW_ALL,
    ),
    Case(
        "workload_sidecar_and_ambient_labels",
        "KIA1311",
        "Deployment shop/reviews",
        SHOP_NS + dep(labels="{app: reviews, sidecar.istio.io/inject: 'true', istio.io/dataplane-mode: ambient}"),
        SHOP_NS + dep(labels="{app: reviews, sidecar.istio.io/inject: 'true'}"),
    ),
    Case(
        "workload_waypoint_not_ambient",
        "KIA1312",
        "Deployment shop/reviews",
        SHOP_NS + dep(labels="{app: reviews, istio.io/use-waypoint: waypoint}"),
        AMBIENT + WAYPOINT + dep(ns="amb", labels="{app: reviews, istio.io/use-waypoint: waypoint}"),
    ),
    Case(
        "workload_waypoint_missing",
        "KIA1313",
        "Deployment amb/reviews",
        AMBIENT + dep(ns="amb", labels="{app: reviews, istio.io/use-waypoint: waypoint}"),
        AMBIENT + WAYPOINT + dep(ns="amb", labels="{app: reviews, istio.io/use-waypoint: waypoint}"),
    ),
    Case(
        "pod_sidecar_label_and_redirection",
        "KIA1314",
        "Pod amb/api-1",
        AMBIENT
        + pod(
            name="api-1",
            ns="amb",
            labels="{app: api, sidecar.istio.io/inject: 'true'}",
            annotations="{ambient.istio.io/redirection: enabled}",
            containers="[{name: api, image: api}]",
        ),
        AMBIENT
        + pod(
            name="api-1",
            ns="amb",
            labels="{app: api}",
            annotations="{ambient.istio.io/redirection: enabled}",
            containers="[{name: api, image: api}]",
        ),
    ),
    Case(
        "pod_sidecar_and_ambient_label",
        "KIA1315",
        "Pod shop/reviews-1",
        SHOP_NS + pod(labels="{app: reviews, istio.io/dataplane-mode: ambient}"),
        SHOP_NS + pod(),
    ),
    Case(
        "workload_sidecar_in_ambient_ns",
        "KIA1316",
        "Deployment amb/reviews",
        AMBIENT + dep(ns="amb", labels="{app: reviews, sidecar.istio.io/inject: 'true'}"),
        AMBIENT + dep(ns="amb"),
    ),
    Case(
        "workload_l7_policy_without_waypoint",
        "KIA1317",
        "Deployment amb/api",
        AMBIENT + L7_AP + dep(name="api", ns="amb", labels="{app: api}"),
        AMBIENT + L7_AP + WAYPOINT + dep(name="api", ns="amb", labels="{app: api, istio.io/use-waypoint: waypoint}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_uid_1337_at_pod_and_container_level_is_one_finding():
    found = run(
        SHOP_NS
        + dep(
            containers="[{name: reviews, image: r, securityContext: {runAsUser: 1337}}]",
            spec_extra="    securityContext: {runAsUser: 1337}",
        )
    )
    assert [f.origin for f in found if f.code == "IST0144"] == ["Deployment shop/reviews"]


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("workload", CASES)


def test_opted_out_and_host_network_pods_need_no_proxy():
    bare = "[{name: reviews, image: reviews}]"
    text = SHOP_NS + pod(name="a", labels="{sidecar.istio.io/inject: 'false'}", containers=bare)
    text += pod(name="b", containers=bare, spec_extra="  hostNetwork: true\n")
    assert not [f for f in run(text) if f.code == "IST0103"]


def test_owned_pods_are_reported_through_their_controller():
    owned = pod().replace("annotations: {}", "annotations: {}, ownerReferences: [{kind: ReplicaSet, name: rs}]")
    found = [f.origin for f in run(SHOP_NS + dep() + owned) if f.code == "KIA1301"]
    assert found == ["Deployment shop/reviews"]
