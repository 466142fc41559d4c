"""The shape guard: wrong-typed fields (`annotations: 7`, `hosts: 5`, `spec: "oops"`, `subsets: "v1"`,
an integer beyond 64 bits, lists for maps and maps for lists, nulls) crash no rule and no schema check;
the object gets a finding naming the field and every other object is validated as before."""

from __future__ import annotations

import copy

import pytest

from meshreport.collect.manifests import parse_text
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.runner import validate
from meshreport.validation.shape import guard

BASE = """\
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop, labels: {app: reviews}, annotations: {team: a}}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec:
      containers: [{name: app, image: reviews:1, ports: [{containerPort: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: v1}}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-abc, namespace: shop, labels: {app: reviews, version: v1}}
spec:
  containers: [{name: app, image: reviews:1}, {name: istio-proxy, image: proxyv2:1.24}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data: {mesh: "defaultConfig: {}"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector}
webhooks: [{name: sidecar-injector.istio.io, clientConfig: {service: {name: istiod, namespace: istio-system}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
"""

BIG = int("9" * 400)
# (kind, path, value): the brief's examples and one of each kind of wrong shape.
CASES = [
    ("Service", ("metadata", "annotations"), 7),
    ("Service", ("metadata", "labels"), [1]),
    ("Service", ("spec", "ports"), {"port": 80}),
    ("Service", ("spec", "ports", 0, "port"), BIG),
    ("Service", ("spec", "selector"), "app=reviews"),
    ("Deployment", ("spec",), "oops"),
    ("Deployment", ("spec", "template", "spec", "containers"), 7),
    ("Deployment", ("spec", "template", "metadata", "labels"), ["app", "reviews"]),
    ("DestinationRule", ("spec", "subsets"), "v1"),
    ("DestinationRule", ("spec", "subsets", 0, "labels"), 7),
    ("DestinationRule", ("spec", "host"), ["reviews"]),
    ("VirtualService", ("spec", "hosts"), 5),
    ("VirtualService", ("spec",), "oops"),
    ("VirtualService", ("spec", "http", 0, "route"), {"destination": {"host": "reviews"}}),
    ("VirtualService", ("spec", "http", 0, "route", 0, "weight"), BIG),
    ("Gateway", ("spec", "servers", 0, "port"), 80),
    ("Gateway", ("spec", "selector"), ["istio"]),
    ("AuthorizationPolicy", ("spec", "rules"), {"from": []}),
    ("Sidecar", ("spec",), "oops"),
    ("Sidecar", ("spec", "egress", 0, "hosts"), "./*"),
    ("Pod", ("spec", "containers", 0), True),
    ("Pod", ("spec",), 1.5),
    ("ConfigMap", ("data",), True),
    ("ConfigMap", ("data", "mesh"), ["x"]),
    ("MutatingWebhookConfiguration", ("webhooks", 0, "clientConfig"), 7),
    ("MutatingWebhookConfiguration", ("webhooks",), {"name": "x"}),
    ("HTTPRoute", ("spec", "parentRefs", 0), "gw"),
    ("HTTPRoute", ("spec", "rules", 0, "backendRefs"), {"name": "reviews"}),
    ("HTTPRoute", ("spec", "rules", 0, "backendRefs", 0, "port"), "\x1b[31mred"),
]
NULLS = [(kind, path, None) for kind, path, _ in CASES]


def _docs():
    import yaml

    return list(yaml.safe_load_all(BASE))


def _mutated(kind: str, path: tuple, value) -> list[dict]:
    docs = _docs()
    doc = next(d for d in docs if d["kind"] == kind)
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return docs


def _objects(docs: list[dict]) -> list[ConfigObject]:
    import yaml

    return parse_text(yaml.safe_dump_all(docs), "shop.yaml")


def _keyed(findings) -> set[tuple[str, str, str, str]]:
    return {(f.kind, f.code, f.resource_key, f.message) for f in findings}


BASELINE = None


def _baseline():
    global BASELINE
    if BASELINE is None:
        BASELINE = validate(_objects(_docs()))
    return BASELINE


@pytest.mark.parametrize(("kind", "path", "value"), CASES + NULLS, ids=lambda v: str(v)[:30])
def test_wrong_type_is_a_finding_and_the_rest_still_validates(kind, path, value):
    objs = _objects(_mutated(kind, path, value))
    found = validate(objs)  # must not raise
    target = next(o for o in objs if o.kind == kind)
    about = [f for f in found if f.kind == kind and f.name == target.name and f.code in ("MR0002", "IST0106")]
    if value is not None:
        assert about, [f.message for f in found]
        where = ".".join(str(p) for p in path if not isinstance(p, int))
        assert any(f.path and where in f.path.replace("[0]", "") for f in about), [(f.path, f.message) for f in about]
        assert all("\n" not in f.message for f in about)
    # every finding about another object is the same as without the mutation, except those that
    # depend on the mutated one (references to it)
    others_before = {k for k in _keyed(_baseline()) if k[0] != kind}
    others_after = {k for k in _keyed(found) if k[0] != kind}
    assert others_after >= {k for k in others_before if "reviews" not in k[3]}, others_before - others_after


def test_well_typed_objects_pass_the_guard_unchanged():
    for o in _objects(_docs()):
        shaped, issues = guard(o)
        assert shaped is o and issues == []


def test_scalar_label_is_read_as_text_with_a_warning():
    docs = _mutated("Pod", ("metadata", "labels", "version"), 1)
    objs = _objects(docs)
    pod = next(o for o in objs if o.kind == "Pod")
    shaped, (issue,) = guard(pod)
    assert shaped.labels["version"] == "1" and issue.severity == "warning"
    (f,) = [f for f in validate(objs) if f.code == "MR0002"]
    assert f.severity == "warning" and "read as '1'" in f.message


def test_guard_does_not_change_the_input():
    docs = _mutated("VirtualService", ("spec", "hosts"), 5)
    objs = _objects(docs)
    before = copy.deepcopy([o.body for o in objs])
    validate(objs)
    assert [o.body for o in objs] == before


@pytest.mark.parametrize(("kind", "path", "value"), CASES[:6], ids=lambda v: str(v)[:30])
def test_objects_guarded_once_by_the_analysis_validate_the_same(kind, path, value):
    """`pipeline.analyse` guards a snapshot's objects once and hands the runner what it found
    (`guarded`): the findings are those of the runner guarding them itself."""
    from meshreport.validation.shape import guard_each

    objs = _objects(_mutated(kind, path, value))
    found = validate(objs, guarded=guard_each(objs))
    assert found == validate(objs)
    assert any(f.code in ("MR0002", "IST0106") for f in found)
    with pytest.raises(ValueError):
        validate(objs, guarded=guard_each(objs[1:]))
