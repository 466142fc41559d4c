"""Every rule: one YAML input that must produce its finding and one that must not.

Fixtures: tests/fixtures/validation/<CODE>/<rule>.bad.yaml and <rule>.good.yaml, and optionally
<rule>.mesh.yaml (a MeshConfig used for both). Several rules share a code, so a finding is
matched by the rule that produced it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshreport.validation import validate
from meshreport.validation.meshconfig import MeshConfig
from meshreport.validation.registry import all_rules

from .helpers import objects

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validation"
# The modules whose rules this suite covers (validation engineer A's networking rules).
MODULES = {"virtualservice", "destinationrule", "gateway", "serviceentry", "sidecar", "envoyfilter"}


def _cases() -> list[tuple[str, str]]:
    return sorted((p.parent.name, p.name.split(".")[0]) for p in FIXTURES.glob("*/*.bad.yaml"))


def _run(code: str, name: str, which: str):
    folder = FIXTURES / code
    mesh_file = folder / f"{name}.mesh.yaml"
    mesh = MeshConfig.from_dict(yaml.safe_load(mesh_file.read_text())) if mesh_file.exists() else None
    path = folder / f"{name}.{which}.yaml"
    return validate(objects(path.read_text(), file=f"{code}/{path.name}"), mesh)


@pytest.mark.parametrize(("code", "name"), _cases())
def test_bad_input_produces_the_finding(code, name):
    hits = [f for f in _run(code, name, "bad") if f.rule == name]
    assert hits, f"{name} produced no finding on its bad input"
    assert {f.code for f in hits} == {code}
    for f in hits:
        assert f.message and f.doc and f.source is not None


@pytest.mark.parametrize(("code", "name"), _cases())
def test_good_input_does_not(code, name):
    hits = [f for f in _run(code, name, "good") if f.rule == name]
    assert not hits, [f"{f.origin}: {f.message}" for f in hits]


def test_every_networking_rule_has_both_fixtures():
    missing = []
    for r in all_rules():
        if r.module not in MODULES:
            continue
        for which in ("bad", "good"):
            if not (FIXTURES / r.code / f"{r.name}.{which}.yaml").exists():
                missing.append(f"{r.code}/{r.name}.{which}.yaml")
    assert not missing, missing
