"""Findings grouped the way the report shows them: severity -> code -> namespace, each code with its doc.

The report engineer's findings page and namespace pages read this; it computes, templates only display.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshreport.validation.model import SEVERITIES, Finding, ValidationResult
from meshreport.validation.registry import rules_by_code


@dataclass
class CodeGroup:
    """All active findings of one code at one severity, split by namespace."""

    code: str
    severity: str
    title: str
    doc: str
    equivalents: tuple[str, ...]
    by_namespace: dict[str, list[Finding]] = field(default_factory=dict)  # "" for cluster-scoped objects

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.by_namespace.values())


@dataclass
class FindingsView:
    by_severity: dict[str, list[CodeGroup]]  # "error" | "warning" | "info" -> groups sorted by code
    by_namespace: dict[str, list[Finding]]  # namespace -> its active findings (sorted like istioctl)
    counts: dict[str, int]  # error, warning, info, suppressed
    suppressed: list[Finding]
    objects: int


def group_findings(result: ValidationResult) -> FindingsView:
    """Group a validation result for the site: the findings page and each namespace page."""
    catalogue = rules_by_code()
    groups: dict[tuple[str, str], CodeGroup] = {}
    by_ns: dict[str, list[Finding]] = {}
    for f in result.active:
        key = (f.severity, f.code)
        g = groups.get(key)
        if g is None:
            fired = {x.rule for x in result.active if x.code == f.code}
            rules = [r for r in catalogue.get(f.code, []) if r.name in fired] or catalogue.get(f.code, [])
            titles = sorted({r.title for r in rules}) or [f.code]
            g = groups[key] = CodeGroup(
                code=f.code,
                severity=f.severity,
                title=titles[0] if len(titles) == 1 else "; ".join(titles),
                doc=" ".join(dict.fromkeys(r.doc for r in rules)) or f.doc,
                equivalents=tuple(sorted({e for r in rules for e in r.equivalents} | set(f.equivalents))),
            )
        g.by_namespace.setdefault(f.namespace or "", []).append(f)
        by_ns.setdefault(f.namespace or "", []).append(f)
    by_sev = {s: sorted((g for (sev, _), g in groups.items() if sev == s), key=lambda g: g.code) for s in SEVERITIES}
    return FindingsView(
        by_severity=by_sev,
        by_namespace={k: by_ns[k] for k in sorted(by_ns)},
        counts=result.counts(),
        suppressed=result.suppressed,
        objects=result.objects,
    )
