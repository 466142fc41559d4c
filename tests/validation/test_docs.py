"""docs/validation.md is generated from the registry; this keeps it in step.

Regenerate: MESHREPORT_UPDATE_DOCS=1 pytest tests/validation/test_docs.py (or python -m meshreport.validation.docs).
"""

import os
from pathlib import Path

from meshreport.validation.docs import rules_markdown
from meshreport.validation.registry import all_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"


def test_validation_doc_is_in_step_with_the_registry():
    text = rules_markdown()
    if os.environ.get("MESHREPORT_UPDATE_DOCS"):
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
    assert DOC.read_text() == text, "docs/validation.md is stale: run python -m meshreport.validation.docs"


def test_doc_lists_every_rule_with_its_doc():
    text = rules_markdown()
    for r in all_rules():
        assert f"### {r.code}: {r.title}" in text and r.doc in text
