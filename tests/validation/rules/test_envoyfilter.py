"""IST0151/IST0155 as istioctl's EnvoyPatchAnalyzer names filters: the patch value's `name`."""

import pytest

from .cases import Case, assert_case, run


def ef(second_name: str, second_op: str = "REPLACE", priority: str = "") -> str:
    return f"""
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {{name: lua, namespace: bookinfo}}
spec:
  {priority}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_OUTBOUND
      proxy: {{proxyVersion: '^1\\.11.*'}}
      listener: {{filterChain: {{filter: {{name: envoy.filters.network.http_connection_manager}}}}}}
    patch: {{operation: REPLACE, value: {{name: envoy.lua}}}}
  - applyTo: HTTP_FILTER
    match: {{context: SIDECAR_INBOUND}}
    patch: {{operation: {second_op}, value: {{name: {second_name}}}}}
"""


CASES = [
    # a later patch of the same EnvoyFilter on the same (value-named) filter as a proxyVersion patch
    Case("ef_relative_with_proxy_version", "IST0155", "EnvoyFilter bookinfo/lua", ef("envoy.lua"), ef("envoy.other")),
    Case(
        "ef_relative_with_proxy_version",
        "IST0155",
        "EnvoyFilter bookinfo/lua",
        ef("envoy.lua"),
        ef("envoy.lua", priority="priority: 10"),
    ),
    # REMOVE is relative on anything but routes
    Case(
        "ef_relative_without_priority",
        "IST0151",
        "EnvoyFilter bookinfo/lua",
        ef("x", second_op="REMOVE").replace(
            "applyTo: HTTP_FILTER\n    match: {context: SIDECAR_INBOUND}",
            "applyTo: CLUSTER\n    match: {context: SIDECAR_INBOUND}",
        ),
        ef("x", second_op="MERGE", priority="priority: 1"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_class(case):
    assert_case(case)


def test_first_proxy_version_patch_is_ist0151_and_the_later_one_ist0155():
    found = sorted((f.code, f.path) for f in run(ef("envoy.lua")) if f.code in ("IST0151", "IST0155"))
    assert found == [
        ("IST0151", "spec.configPatches[0].patch.operation"),
        ("IST0155", "spec.configPatches[1].patch.operation"),
    ]
