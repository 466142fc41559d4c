"""Table-driven rule tests: for every rule, one YAML input that must produce the finding and one that must not."""

from __future__ import annotations

from dataclasses import dataclass

from meshreport.validation import validate
from meshreport.validation.meshconfig import MeshConfig
from meshreport.validation.model import Finding
from meshreport.validation.registry import all_rules

from ..helpers import objects

CLUSTER_SCOPED = (
    "Namespace",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "GatewayClass",
    "CustomResourceDefinition",
)

# Multi-cluster cases tag an object with this annotation to put it in another cluster (default `Kubernetes`).
TEST_CLUSTER = "test.meshreport/cluster"


@dataclass(frozen=True)
class Case:
    rule: str  # the check function's name
    code: str
    target: str  # `Kind ns/name` (or `Kind name` for cluster-scoped objects)
    bad: str  # YAML that must produce `code` on `target`
    good: str  # YAML that must not
    mesh: dict | None = None

    def __str__(self) -> str:
        return f"{self.code}-{self.rule}"


def run(text: str, mesh: dict | None = None) -> list[Finding]:
    objs = objects(text)
    for o in objs:
        if o.kind in CLUSTER_SCOPED and not (o.metadata.get("namespace")):
            o.namespace = None
        if o.annotations.get(TEST_CLUSTER):
            o.cluster = o.annotations[TEST_CLUSTER]
    # Opt-in rules (off by default, like istioctl's IST0136) are switched on so their cases test the check.
    optional = [r.code for r in all_rules() if not r.default]
    return validate(objs, MeshConfig.from_dict(mesh) if mesh is not None else None, enable=optional)


def on_target(findings: list[Finding], case: Case) -> list[Finding]:
    return [f for f in findings if f.code == case.code and f.origin == case.target]


def assert_case(case: Case) -> None:
    bad = run(case.bad, case.mesh)
    hits = on_target(bad, case)
    assert hits, f"{case}: expected {case.code} on {case.target}; got {[(f.code, f.origin, f.message) for f in bad]}"
    assert all(f.doc for f in hits)
    good = run(case.good, case.mesh)
    assert not on_target(good, case), f"{case}: unexpected {[(f.code, f.message) for f in on_target(good, case)]}"


def assert_every_rule_has_a_case(module: str, cases: list[Case]) -> None:
    names = {r.name for r in all_rules() if r.module == module}
    assert names, f"no rules registered by {module}"
    assert names == {c.rule for c in cases}, f"{module}: rules without a case {names - {c.rule for c in cases}}"
    codes = {r.name: r.code for r in all_rules() if r.module == module}
    assert all(codes[c.rule] == c.code for c in cases)
