"""Every mTLS-dependent rule against the resolver's cases: workload- and port-level PeerAuthentications,
DestinationRules with DISABLE at namespace and mesh level, auto mTLS on and off. Each scenario says whether
the code must fire on its target or must not."""

from __future__ import annotations

import pytest

from .cases import run

WORKLOAD = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: reviews, image: reviews, ports: [{containerPort: 9080}]}, {name: istio-proxy}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
"""
AUTO_OFF = {"enableAutoMtls": False}


def pa(name, ns, mode=None, selector=None, ports=None):
    lines = []
    if selector:
        lines.append(f"  selector: {{matchLabels: {selector}}}")
    if mode:
        lines.append(f"  mtls: {{mode: {mode}}}")
    if ports:
        lines.append("  portLevelMtls:")
        lines += [f"    {p}: {{mode: {m}}}" for p, m in ports.items()]
    body = "\n".join(lines) or "  {}"
    return f"""
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: {name}, namespace: {ns}}}
spec:
{body}
"""


def dr(name, ns, host, mode=None):
    tp = (
        f"  trafficPolicy: {{tls: {{mode: {mode}}}}}"
        if mode
        else "  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}"
    )
    return f"""
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {name}, namespace: {ns}}}
spec:
  host: "{host}"
{tp}
"""


AP = """
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]
"""
NS_DR = "*.shop.svc.cluster.local"
AP_T = "AuthorizationPolicy shop/p"
MESH_PA = "PeerAuthentication istio-system/default"
NS_PA = "PeerAuthentication shop/default"

# (id, code, target, yaml, mesh config, must fire)
SCENARIOS = [
    # KIA0105: AuthorizationPolicy that needs mTLS
    ("ap-plain", "KIA0105", AP_T, WORKLOAD + AP, None, False),
    ("ap-workload-disable", "KIA0105", AP_T, WORKLOAD + AP + pa("r", "shop", "DISABLE", "{app: reviews}"), None, True),
    (
        "ap-workload-strict-over-ns-disable",
        "KIA0105",
        AP_T,
        WORKLOAD + AP + pa("default", "shop", "DISABLE") + pa("r", "shop", "STRICT", "{app: reviews}"),
        None,
        False,
    ),
    (
        "ap-port-disable",
        "KIA0105",
        AP_T,
        WORKLOAD + AP + pa("r", "shop", "STRICT", "{app: reviews}", {9080: "DISABLE"}),
        None,
        True,
    ),
    (
        "ap-port-unset-inherits-strict",
        "KIA0105",
        AP_T,
        WORKLOAD + AP + pa("default", "shop", "DISABLE") + pa("r", "shop", "STRICT", "{app: reviews}", {9080: "UNSET"}),
        None,
        False,
    ),
    ("ap-ns-dr-disable", "KIA0105", AP_T, WORKLOAD + AP + dr("d", "shop", NS_DR, "DISABLE"), None, True),
    ("ap-mesh-dr-disable", "KIA0105", AP_T, WORKLOAD + AP + dr("d", "istio-system", "*.local", "DISABLE"), None, True),
    (
        "ap-host-dr-beats-mesh-disable",
        "KIA0105",
        AP_T,
        WORKLOAD + AP + dr("d", "istio-system", "*.local", "DISABLE") + dr("r", "shop", "reviews", "ISTIO_MUTUAL"),
        None,
        False,
    ),
    (
        "ap-dr-of-other-namespace-ignored",
        "KIA0105",
        AP_T,
        WORKLOAD + AP + dr("d", "other", NS_DR, "DISABLE"),
        None,
        False,
    ),
    ("ap-auto-off", "KIA0105", AP_T, WORKLOAD + AP, AUTO_OFF, True),
    (
        "ap-auto-off-ns-dr-mutual",
        "KIA0105",
        AP_T,
        WORKLOAD + AP + dr("d", "shop", NS_DR, "ISTIO_MUTUAL"),
        AUTO_OFF,
        False,
    ),
    (
        "ap-auto-off-port-dr-mutual",
        "KIA0105",
        AP_T,
        WORKLOAD
        + AP
        + dr("d", "shop", NS_DR, "ISTIO_MUTUAL")
        + pa("r", "shop", None, "{app: reviews}", {9080: "DISABLE"}),
        AUTO_OFF,
        True,
    ),
    # KIA0204: a host DR without TLS hides a wider ISTIO_MUTUAL one
    (
        "dr-overrides-mesh",
        "KIA0204",
        "DestinationRule shop/r",
        dr("m", "istio-system", "*.local", "ISTIO_MUTUAL") + dr("r", "shop", "reviews"),
        None,
        True,
    ),
    (
        "dr-overrides-mesh-disable",
        "KIA0204",
        "DestinationRule shop/r",
        dr("m", "istio-system", "*.local", "DISABLE") + dr("r", "shop", "reviews"),
        None,
        False,
    ),
    (
        "dr-wide-rule-elsewhere",
        "KIA0204",
        "DestinationRule shop/r",
        dr("m", "other", NS_DR, "ISTIO_MUTUAL") + dr("r", "shop", "reviews"),
        None,
        False,
    ),
    # KIA0205: mesh-wide ISTIO_MUTUAL DR without a policy enabling mTLS (auto mTLS off)
    (
        "mesh-dr-no-pa",
        "KIA0205",
        "DestinationRule istio-system/m",
        dr("m", "istio-system", "*.local", "ISTIO_MUTUAL"),
        AUTO_OFF,
        True,
    ),
    (
        "mesh-dr-mesh-disable",
        "KIA0205",
        "DestinationRule istio-system/m",
        dr("m", "istio-system", "*.local", "ISTIO_MUTUAL") + pa("default", "istio-system", "DISABLE"),
        AUTO_OFF,
        True,
    ),
    (
        "mesh-dr-mesh-permissive",
        "KIA0205",
        "DestinationRule istio-system/m",
        dr("m", "istio-system", "*.local", "ISTIO_MUTUAL") + pa("default", "istio-system", "PERMISSIVE"),
        AUTO_OFF,
        False,
    ),
    (
        "mesh-dr-auto-on",
        "KIA0205",
        "DestinationRule istio-system/m",
        dr("m", "istio-system", "*.local", "ISTIO_MUTUAL"),
        None,
        False,
    ),
    # KIA0206: namespace-wide ISTIO_MUTUAL DR without a policy enabling mTLS
    ("ns-dr-no-pa", "KIA0206", "DestinationRule shop/d", dr("d", "shop", NS_DR, "ISTIO_MUTUAL"), AUTO_OFF, True),
    (
        "ns-dr-mesh-strict-inherited",
        "KIA0206",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "ISTIO_MUTUAL")
        + pa("default", "istio-system", "STRICT")
        + pa("default", "shop", "UNSET"),
        AUTO_OFF,
        False,
    ),
    (
        "ns-dr-ns-disable-over-mesh-strict",
        "KIA0206",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "ISTIO_MUTUAL")
        + pa("default", "istio-system", "STRICT")
        + pa("default", "shop", "DISABLE"),
        AUTO_OFF,
        True,
    ),
    (
        "ns-dr-workload-pa-only",
        "KIA0206",
        "DestinationRule shop/d",
        WORKLOAD + dr("d", "shop", NS_DR, "ISTIO_MUTUAL") + pa("r", "shop", "STRICT", "{app: reviews}"),
        AUTO_OFF,
        True,
    ),
    ("ns-dr-auto-on", "KIA0206", "DestinationRule shop/d", dr("d", "shop", NS_DR, "ISTIO_MUTUAL"), None, False),
    # KIA0207: namespace-wide DISABLE DR against the namespace's own STRICT
    (
        "ns-disable-ns-strict",
        "KIA0207",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "DISABLE") + pa("default", "shop", "STRICT"),
        None,
        True,
    ),
    (
        "ns-disable-mesh-strict",
        "KIA0207",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "DISABLE") + pa("default", "istio-system", "STRICT"),
        None,
        False,
    ),
    (
        "ns-disable-ns-permissive",
        "KIA0207",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "DISABLE") + pa("default", "shop", "PERMISSIVE"),
        AUTO_OFF,
        False,
    ),
    # KIA0208: DISABLE DR against STRICT from the mesh
    (
        "mesh-disable-mesh-strict",
        "KIA0208",
        "DestinationRule istio-system/m",
        dr("m", "istio-system", "*.local", "DISABLE") + pa("default", "istio-system", "STRICT"),
        None,
        True,
    ),
    (
        "ns-disable-inherits-mesh-strict",
        "KIA0208",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "DISABLE") + pa("default", "istio-system", "STRICT") + pa("default", "shop", "UNSET"),
        AUTO_OFF,
        True,
    ),
    (
        "ns-disable-ns-permissive-under-mesh-strict",
        "KIA0208",
        "DestinationRule shop/d",
        dr("d", "shop", NS_DR, "DISABLE")
        + pa("default", "istio-system", "STRICT")
        + pa("default", "shop", "PERMISSIVE"),
        None,
        False,
    ),
    (
        "mesh-disable-mesh-permissive",
        "KIA0208",
        "DestinationRule istio-system/m",
        dr("m", "istio-system", "*.local", "DISABLE") + pa("default", "istio-system", "PERMISSIVE"),
        None,
        False,
    ),
    # KIA0401 / KIA0501: STRICT with clients sending plain text because nothing sets TLS (auto mTLS off)
    ("mesh-strict-auto-off", "KIA0401", MESH_PA, pa("default", "istio-system", "STRICT"), AUTO_OFF, True),
    ("mesh-strict-auto-on", "KIA0401", MESH_PA, pa("default", "istio-system", "STRICT"), None, False),
    (
        "mesh-strict-mesh-dr-disable",
        "KIA0401",
        MESH_PA,
        pa("default", "istio-system", "STRICT") + dr("m", "istio-system", "*.local", "DISABLE"),
        AUTO_OFF,
        False,
    ),
    ("ns-strict-auto-off", "KIA0501", NS_PA, pa("default", "shop", "STRICT"), AUTO_OFF, True),
    (
        "ns-strict-auto-off-mesh-dr",
        "KIA0501",
        NS_PA,
        pa("default", "shop", "STRICT") + dr("m", "istio-system", "*.local", "ISTIO_MUTUAL"),
        AUTO_OFF,
        False,
    ),
    ("ns-strict-auto-on", "KIA0501", NS_PA, pa("default", "shop", "STRICT"), None, False),
    # KIA0505 / KIA0506: DISABLE servers while a DR makes clients send mTLS
    (
        "ns-disable-ns-dr-mutual",
        "KIA0505",
        NS_PA,
        pa("default", "shop", "DISABLE") + dr("d", "shop", NS_DR, "ISTIO_MUTUAL"),
        None,
        True,
    ),
    (
        "ns-disable-other-ns-clients-mutual",
        "KIA0505",
        NS_PA,
        pa("default", "shop", "DISABLE") + dr("d", "other", "*.local", "ISTIO_MUTUAL"),
        None,
        True,
    ),
    (
        "ns-disable-ns-dr-disable-over-mesh-mutual",
        "KIA0505",
        NS_PA,
        pa("default", "shop", "DISABLE")
        + dr("m", "istio-system", "*.local", "ISTIO_MUTUAL")
        + dr("d", "shop", NS_DR, "DISABLE"),
        None,
        False,
    ),
    ("ns-disable-auto-on", "KIA0505", NS_PA, pa("default", "shop", "DISABLE"), None, False),
    (
        "mesh-disable-mesh-dr-mutual",
        "KIA0506",
        MESH_PA,
        pa("default", "istio-system", "DISABLE") + dr("m", "istio-system", "*.local", "ISTIO_MUTUAL"),
        AUTO_OFF,
        True,
    ),
    (
        "mesh-disable-mesh-dr-disable",
        "KIA0506",
        MESH_PA,
        pa("default", "istio-system", "DISABLE") + dr("m", "istio-system", "*.local", "DISABLE"),
        None,
        False,
    ),
]


@pytest.mark.parametrize(("name", "code", "target", "text", "mesh", "fires"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_mtls_rule(name, code, target, text, mesh, fires):
    found = run(text, mesh)
    hits = [f for f in found if f.code == code and f.origin == target]
    assert bool(hits) == fires, [(f.code, f.origin, f.message) for f in found]


def test_kia0105_names_the_port_and_the_deciding_policy():
    found = run(WORKLOAD + AP + pa("r", "shop", "STRICT", "{app: reviews}", {9080: "DISABLE"}))
    (hit,) = [f for f in found if f.code == "KIA0105"]
    assert "port 9080" in hit.message and "PeerAuthentication shop/r" in hit.message


def test_every_mtls_code_has_both_outcomes():
    by_code: dict[str, set[bool]] = {}
    for _, code, _, _, _, fires in SCENARIOS:
        by_code.setdefault(code, set()).add(fires)
    codes = (
        "KIA0105",
        "KIA0204",
        "KIA0205",
        "KIA0206",
        "KIA0207",
        "KIA0208",
        "KIA0401",
        "KIA0501",
        "KIA0505",
        "KIA0506",
    )
    assert {c: by_code.get(c) for c in codes} == {c: {True, False} for c in codes}
