"""PeerAuthentication rules: one input that must produce each finding and one that must not."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case

WORKLOAD = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: reviews, image: reviews}]}
"""

NO_AUTO = {"enableAutoMtls": False}


def pa(name, ns, mode=None, selector=None):
    spec = []
    if selector:
        spec.append(f"  selector: {{matchLabels: {selector}}}")
    if mode:
        spec.append(f"  mtls: {{mode: {mode}}}")
    body = "\n".join(spec) or "  {}"
    return f"""
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: {name}, namespace: {ns}}}
spec:
{body}
"""


def dr(name, ns, host, mode):
    return f"""
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {name}, namespace: {ns}}}
spec:
  host: "{host}"
  trafficPolicy: {{tls: {{mode: {mode}}}}}
"""


CASES = [
    Case(
        "pa_multiple_selectorless",
        "KIA0002",
        "PeerAuthentication shop/a",
        pa("a", "shop", "STRICT") + pa("b", "shop", "PERMISSIVE"),
        pa("a", "shop", "STRICT") + pa("b", "other", "PERMISSIVE"),
    ),
    Case(
        "pa_multiple_match",
        "KIA0003",
        "PeerAuthentication shop/a",
        WORKLOAD + pa("a", "shop", "STRICT", "{app: reviews}") + pa("b", "shop", "STRICT", "{app: reviews}"),
        WORKLOAD + pa("a", "shop", "STRICT", "{app: reviews}") + pa("b", "shop", "STRICT", "{app: ratings}"),
    ),
    Case(
        "pa_selector_no_workload",
        "KIA0004",
        "PeerAuthentication shop/a",
        WORKLOAD + pa("a", "shop", "STRICT", "{app: reviewz}"),
        WORKLOAD + pa("a", "shop", "STRICT", "{app: reviews}"),
    ),
    Case(
        "pa_mesh_strict_without_dr",
        "KIA0401",
        "PeerAuthentication istio-system/default",
        pa("default", "istio-system", "STRICT"),
        pa("default", "istio-system", "STRICT") + dr("default", "istio-system", "*.local", "ISTIO_MUTUAL"),
        mesh=NO_AUTO,
    ),
    Case(
        "pa_ns_strict_without_dr",
        "KIA0501",
        "PeerAuthentication shop/default",
        pa("default", "shop", "STRICT"),
        pa("default", "shop", "STRICT") + dr("default", "shop", "*.shop.svc.cluster.local", "ISTIO_MUTUAL"),
        mesh=NO_AUTO,
    ),
    Case(
        "pa_ns_disable_with_mtls_dr",
        "KIA0505",
        "PeerAuthentication shop/default",
        pa("default", "shop", "DISABLE") + dr("default", "shop", "*.shop.svc.cluster.local", "ISTIO_MUTUAL"),
        pa("default", "shop", "DISABLE") + dr("default", "shop", "*.shop.svc.cluster.local", "DISABLE"),
    ),
    Case(
        "pa_mesh_disable_with_mtls_dr",
        "KIA0506",
        "PeerAuthentication istio-system/default",
        pa("default", "istio-system", "DISABLE") + dr("default", "istio-system", "*.local", "ISTIO_MUTUAL"),
        pa("default", "istio-system", "DISABLE") + dr("default", "istio-system", "*.local", "DISABLE"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("peerauthentication", CASES)


def test_auto_mtls_skips_strict_checks():
    from .cases import run

    found = run(pa("default", "istio-system", "STRICT") + pa("default", "shop", "STRICT"))
    assert not [f for f in found if f.code in ("KIA0401", "KIA0501")]


def test_mesh_wide_dr_disables_ns_policy_mismatch():
    from .cases import run

    text = pa("default", "shop", "DISABLE") + dr("default", "istio-system", "*.local", "ISTIO_MUTUAL")
    assert [f.code for f in run(text) if f.name == "default" and f.namespace == "shop"] == ["KIA0505"]
