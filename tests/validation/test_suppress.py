"""Suppression from annotations, the config file (with expiry) and -S, and how each is reported."""

import datetime as dt

import pytest

from meshreport.errors import InputError, UsageError
from meshreport.validation import suppress as sup
from meshreport.validation import validate

from .helpers import objects

BASE = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
  annotations: {ANNOTATIONS}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviewz}
"""


def _run(ann: str = "{}", rules=(), today=dt.date(2026, 6, 1), **kw):
    objs = objects(BASE.replace("{ANNOTATIONS}", ann))
    return sup.apply(validate(objs), objs, rules, today=today, **kw)


def test_unsuppressed_finding_is_active():
    r = _run()
    assert [f.code for f in r.active] == ["IST0101"] and r.counts()["suppressed"] == 0


@pytest.mark.parametrize(
    "annotation",
    [
        '{galley.istio.io/analyze-suppress: "IST0101"}',
        '{galley.istio.io/analyze-suppress: "IST0102,IST0101"}',
        '{galley.istio.io/analyze-suppress: "*"}',
        '{kiali.io/ignore-validations: ""}',
        '{kiali.io/ignore-validations: "KIA1101"}',  # Kiali's code for the same check
    ],
)
def test_annotations_suppress(annotation):
    r = _run(annotation)
    assert r.active == []
    assert [f.code for f in r.suppressed] == ["IST0101"]
    assert r.suppressed[0].suppressed.startswith("annotation ")
    assert r.counts()["suppressed"] == 1


def test_annotation_for_another_code_does_not_suppress():
    assert len(_run('{galley.istio.io/analyze-suppress: "IST0102"}').active) == 1
    assert len(_run('{kiali.io/ignore-validations: "KIA1102"}').active) == 1


def test_annotations_can_be_ignored():
    assert len(_run('{galley.istio.io/analyze-suppress: "*"}', annotations=False).active) == 1


def test_cli_suppression_with_wildcards_and_unused_report():
    rules = [sup.parse_cli("IST01*=VirtualService bookinfo/rev*"), sup.parse_cli("IST0101=Gateway */*")]
    r = _run(rules=rules)
    assert r.active == [] and r.suppressed[0].suppressed == "-S IST01*=VirtualService bookinfo/rev*"
    assert r.unused == ["IST0101=Gateway */*"]


def test_cli_suppression_must_match_kind_and_namespace():
    assert len(_run(rules=[sup.parse_cli("IST0101=VirtualService other/*")]).active) == 1


@pytest.mark.parametrize("spec", ["IST0101", "=VirtualService a/b", "IST0101=", "IST0101=reviews"])
def test_bad_cli_suppression_is_a_usage_error(spec):
    with pytest.raises(UsageError):
        sup.parse_cli(spec)


def test_config_suppression_applies_until_it_expires():
    section = {
        "suppressions": [
            {"code": "IST0101", "resource": "VirtualService bookinfo/*", "reason": "migrating", "expires": "2026-07-01"}
        ]
    }
    rules = sup.from_config(section)
    live = _run(rules=rules, today=dt.date(2026, 6, 30))
    assert live.active == [] and live.suppressed[0].suppressed == "config: migrating" and live.expired == []
    late = _run(rules=rules, today=dt.date(2026, 7, 2))
    assert [f.code for f in late.active] == ["IST0101"]
    assert [(e.code, e.expires, e.reason) for e in late.expired] == [("IST0101", "2026-07-01", "migrating")]


def test_config_suppression_errors_are_input_errors():
    with pytest.raises(InputError, match="code is required"):
        sup.from_config({"suppressions": [{"resource": "*"}]})
    with pytest.raises(InputError, match="expires must be a date"):
        sup.from_config({"suppressions": [{"code": "IST0101", "expires": "soon"}]})
    with pytest.raises(InputError, match="must be a list"):
        sup.from_config({"suppressions": {"code": "IST0101"}})


def test_check_validates_and_suppresses_in_one_call():
    from meshreport.validation import check

    objs = objects(BASE.replace("{ANNOTATIONS}", '{kiali.io/ignore-validations: ""}'))
    r = check(objs, today=dt.date(2026, 1, 1))
    assert r.objects == 1 and r.active == [] and [f.code for f in r.suppressed] == ["IST0101"]


WORKLOAD = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: cart, image: cart:1}]}
"""


def test_kia1301_is_ignored_by_default_like_kiali_and_can_be_shown():
    objs = objects(WORKLOAD)
    findings = validate(objs)
    assert "KIA1301" in {f.code for f in findings}, "fixture must trigger KIA1301"
    default = sup.apply(findings, objs, sup.from_config({}))
    assert "KIA1301" not in {f.code for f in default.active}
    assert "KIA1301" in {f.code for f in default.suppressed}
    assert default.unused == []  # a default ignore that never fires is not reported as unused
    shown = sup.apply(findings, objs, sup.from_config({"ignore": []}))
    assert "KIA1301" in {f.code for f in shown.active}
    custom = sup.apply(findings, objs, sup.from_config({"ignore": "KIA1301, IST0103"}))
    assert not {"KIA1301", "IST0103"} & {f.code for f in custom.active}
