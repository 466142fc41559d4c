"""IST0173 with the node topology labels istioctl adds to a pod's own when matching subsets."""

import pytest

from .cases import Case, assert_case


def mesh(subset_labels: str, node_labels: str, node_name: str = "node-1") -> str:
    return f"""
apiVersion: v1
kind: Service
metadata: {{name: httpbin, namespace: default}}
spec: {{selector: {{app: httpbin}}, ports: [{{name: http, port: 8000}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: httpbin-1, namespace: default, labels: {{app: httpbin, version: v1}}}}
spec: {{nodeName: {node_name}, containers: [{{name: httpbin, image: httpbin}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: node-1, labels: {node_labels}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: httpbin, namespace: default}}
spec:
  host: httpbin.default.svc.cluster.local
  subsets: [{{name: s, labels: {subset_labels}}}]
"""


REGION = "{topology.kubernetes.io/region: us-west-1, topology.kubernetes.io/zone: us-west-1a}"

CASES = [
    # a subset by region or zone selects the pods on nodes there
    Case(
        "dr_subset_no_pods",
        "IST0173",
        "DestinationRule default/httpbin",
        mesh("{topology.kubernetes.io/region: us-east-1}", REGION),
        mesh("{topology.kubernetes.io/region: us-west-1, version: v1}", REGION),
    ),
    Case(
        "dr_subset_no_pods",
        "IST0173",
        "DestinationRule default/httpbin",
        mesh("{kubernetes.io/hostname: node-2}", REGION),
        mesh("{kubernetes.io/hostname: node-1, topology.kubernetes.io/zone: us-west-1a}", REGION),
    ),
    # an empty node label is no locality: a subset asking for "" selects nothing
    Case(
        "dr_subset_no_pods",
        "IST0173",
        "DestinationRule default/httpbin",
        mesh("{topology.kubernetes.io/region: ''}", "{topology.kubernetes.io/region: ''}"),
        mesh("{version: v1}", "{topology.kubernetes.io/region: ''}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_topology_subsets(case):
    assert_case(case)
