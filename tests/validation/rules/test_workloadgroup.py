"""WorkloadGroup rules: each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case

SA = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: vm, namespace: shop}
"""


def wg(name, sa="vm", labels="{app: ratings}"):
    return f"""
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {{name: {name}, namespace: shop}}
spec:
  metadata: {{labels: {labels}}}
  template: {{serviceAccount: {sa}, ports: {{http: 9080}}}}
"""


CASES = [
    Case("workload_group_service_account", "KIA1701", "WorkloadGroup shop/a", SA + wg("a", sa="vmm"), SA + wg("a")),
    Case(
        "workload_group_duplicate_labels",
        "KIA1702",
        "WorkloadGroup shop/a",
        SA + wg("a") + wg("b"),
        SA + wg("a") + wg("b", labels="{app: ratings, version: v2}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("workloadgroup", CASES)
