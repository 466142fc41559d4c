"""AuthorizationPolicy rules: one input that must produce each finding and one that must not."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case, run

NS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: frontend}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: frontend}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: reviews, image: reviews}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
"""

AMBIENT = """
apiVersion: v1
kind: Namespace
metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: amb}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: amb, labels: {istio.io/use-waypoint: waypoint}}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
"""

# A ServiceAccount that exists only on the cluster `east` (the policy lives on `Kubernetes`).
REMOTE_SA = """
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: mobile, namespace: frontend, annotations: {test.meshreport/cluster: east}}
"""


def ap(body, name="p", ns="shop"):
    return f"""
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: {name}, namespace: {ns}}}
spec:
{body}
"""


def rules(frm="", to="", when=""):
    lines = ["  rules:", "  - {}"]
    parts = []
    if frm:
        parts.append(f"from: [{{source: {frm}}}]")
    if to:
        parts.append(f"to: [{{operation: {to}}}]")
    if when:
        parts.append(f"when: [{when}]")
    lines[1] = "  - {" + ", ".join(parts) + "}"
    return "\n".join(lines)


SEL = "  selector: {matchLabels: {app: reviews}}\n"

CASES = [
    Case(
        "ap_no_matching_workload",
        "IST0127",
        "AuthorizationPolicy shop/p",
        NS + ap("  selector: {matchLabels: {app: reviewz}}\n  action: ALLOW"),
        NS + ap(SEL + "  action: ALLOW"),
    ),
    Case(
        "ap_source_namespace_not_found",
        "IST0101",
        "AuthorizationPolicy shop/p",
        NS + ap(SEL + rules(frm="{namespaces: [frontent]}")),
        NS + ap(SEL + rules(frm='{namespaces: [frontend, "front*"]}')),
    ),
    Case(
        "ap_invalid_method",
        "KIA0102",
        "AuthorizationPolicy shop/p",
        NS + ap(SEL + rules(to="{methods: [get]}")),
        NS + ap(SEL + rules(to='{methods: [GET, "PO*"]}')),
    ),
    Case(
        "ap_host_not_found",
        "KIA0104",
        "AuthorizationPolicy shop/p",
        NS + ap(SEL + rules(to="{hosts: [reviewz]}")),
        NS + ap(SEL + rules(to='{hosts: ["reviews:9080", reviews.shop.svc.cluster.local]}')),
    ),
    Case(
        "ap_requires_mtls",
        "KIA0105",
        "AuthorizationPolicy shop/p",
        NS
        + ap(SEL + rules(frm="{namespaces: [frontend]}"))
        + ap("  mtls: {mode: DISABLE}", name="default").replace("AuthorizationPolicy", "PeerAuthentication"),
        NS + ap(SEL + rules(frm="{namespaces: [frontend]}")),
    ),
    Case(
        "ap_principal_not_found",
        "KIA0106",
        "AuthorizationPolicy shop/p",
        NS + ap(SEL + rules(frm="{principals: [cluster.local/ns/frontend/sa/wbe]}")),
        NS + ap(SEL + rules(frm='{principals: [cluster.local/ns/frontend/sa/web, "*/sa/web"]}')),
    ),
    Case(
        "ap_principal_remote_only",
        "KIA0107",
        "AuthorizationPolicy shop/p",
        NS + REMOTE_SA + ap(SEL + rules(frm="{principals: [cluster.local/ns/frontend/sa/mobile]}")),
        NS + REMOTE_SA + ap(SEL + rules(frm="{principals: [cluster.local/ns/frontend/sa/web]}")),
    ),
    Case(
        "ap_unknown_trust_domain",
        "KIA0108",
        "AuthorizationPolicy shop/p",
        NS + ap(SEL + rules(frm="{principals: [other.org/ns/frontend/sa/web]}")),
        NS + ap(SEL + rules(frm="{principals: [corp.example/ns/frontend/sa/web]}")),
        mesh={"trustDomain": "cluster.local", "trustDomainAliases": ["corp.example"]},
    ),
    Case(
        "ap_ambient_needs_waypoint",
        "KIA0109",
        "AuthorizationPolicy amb/p",
        AMBIENT
        + ap("  targetRefs: [{kind: Service, group: '', name: api}]\n" + rules(to="{methods: [GET]}"), ns="amb"),
        AMBIENT
        + ap("  targetRefs: [{kind: Service, group: '', name: web}]\n" + rules(to="{methods: [GET]}"), ns="amb"),
    ),
    Case(
        "ap_ambient_selector",
        "KIA0110",
        "AuthorizationPolicy amb/p",
        AMBIENT + ap("  selector: {matchLabels: {app: web}}\n" + rules(to="{paths: [/admin]}"), ns="amb"),
        AMBIENT + ap("  selector: {matchLabels: {app: web}}\n" + rules(frm="{namespaces: [amb]}"), ns="amb"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("authorizationpolicy", CASES)


def test_host_not_found_is_error_under_registry_only():
    text = NS + ap(SEL + rules(to="{hosts: [reviewz]}"))
    sev = {f.severity for f in run(text, {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}) if f.code == "KIA0104"}
    assert sev == {"error"}
    assert {f.severity for f in run(text) if f.code == "KIA0104"} == {"warning"}


def test_root_namespace_policy_matches_workloads_anywhere():
    text = NS + ap(SEL, name="global", ns="istio-system")
    assert not [f for f in run(text) if f.code == "IST0127"]


def test_remote_only_principal_is_kia0107_not_kia0106():
    text = NS + REMOTE_SA + ap(SEL + rules(frm='{principals: [cluster.local/ns/frontend/sa/mobile, "*/sa/mobile"]}'))
    found = [f for f in run(text) if f.kind == "AuthorizationPolicy"]
    assert sorted((f.code, f.path) for f in found if f.code in ("KIA0106", "KIA0107")) == [
        ("KIA0107", "spec.rules[0].from[0].source.principals[0]"),
        ("KIA0107", "spec.rules[0].from[0].source.principals[1]"),
    ]
    assert {f.severity for f in found if f.code == "KIA0107"} == {"info"}
    # One cluster, `mobile` in another namespace: the exact principal is simply missing (the wildcard matches).
    single = text.replace("namespace: frontend, annotations: {test.meshreport/cluster: east}", "namespace: elsewhere")
    assert [(f.code, f.path) for f in run(single) if f.code in ("KIA0106", "KIA0107")] == [
        ("KIA0106", "spec.rules[0].from[0].source.principals[0]")
    ]
