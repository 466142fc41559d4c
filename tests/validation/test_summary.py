"""group_findings: what the report's findings page and namespace pages read."""

import datetime as dt

from meshreport.validation import suppress as sup
from meshreport.validation import validate
from meshreport.validation.summary import group_findings

from .helpers import objects

TEXT = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: ns1}
spec: {hosts: [a], http: [{route: [{destination: {host: nowhere}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: ns2}
spec: {hosts: [b], http: [{route: [{destination: {host: nowhere}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: ns2, annotations: {galley.istio.io/analyze-suppress: "*"}}
spec: {hosts: [c], http: [{route: [{destination: {host: nowhere}}]}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ext, namespace: ns1}
spec: {host: api.example.com, trafficPolicy: {tls: {mode: SIMPLE}}}
"""


def test_grouped_by_severity_code_and_namespace_with_docs():
    objs = objects(TEXT)
    view = group_findings(sup.apply(validate(objs), objs, today=dt.date(2026, 1, 1)))
    errors = {g.code: g for g in view.by_severity["error"]}
    g = errors["IST0101"]
    assert g.count == 2 and sorted(g.by_namespace) == ["ns1", "ns2"]
    assert g.title == "Referenced host not found" and "ServiceEntry" in g.doc and g.equivalents == ("KIA1101",)
    warnings = [g.code for g in view.by_severity["warning"]]
    assert warnings == sorted(warnings) and "IST0128" in warnings
    assert [f.name for f in view.by_namespace["ns2"]] == ["b"]
    assert [f.name for f in view.suppressed] == ["c"]
    assert view.counts["suppressed"] == 1 and view.objects == 4
