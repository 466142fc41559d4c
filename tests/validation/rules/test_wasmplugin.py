"""WasmPlugin rules (Ambient attachment): each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case
from .fixtures_b import AMBIENT, obj

URL = "  url: oci://registry.example/plugin:1\n"


def wasm(spec, ns="amb"):
    return obj("WasmPlugin", "plugin", ns, spec, api="extensions.istio.io/v1alpha1")


CASES = [
    Case(
        "wasm_ambient_needs_waypoint",
        "KIA1111",
        "WasmPlugin amb/plugin",
        AMBIENT + wasm("  targetRefs: [{kind: Service, group: '', name: api}]\n" + URL),
        AMBIENT + wasm("  targetRefs: [{kind: Service, group: '', name: web}]\n" + URL),
    ),
    Case(
        "wasm_ambient_selector",
        "KIA1116",
        "WasmPlugin amb/plugin",
        AMBIENT + wasm("  selector: {matchLabels: {app: web}}\n" + URL),
        AMBIENT + wasm("  selector: {matchLabels: {app: web}}\n" + URL).replace("namespace: amb", "namespace: shop"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("wasmplugin", CASES)
