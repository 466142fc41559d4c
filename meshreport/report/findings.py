"""Config-validation findings as the report shows them: the findings page, per-namespace lists, counts.

Grouping (severity -> code -> namespace) comes from `meshreport.validation.summary`; this module only
turns it into rows and texts, so templates format and never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from meshreport.validation.model import SEVERITIES, Finding, ValidationResult
from meshreport.validation.summary import group_findings

SEVERITY_TEXT = {"error": "Errors", "warning": "Warnings", "info": "Info"}
NOT_COLLECTED = (
    "Config was not collected for this snapshot (metrics only), so nothing was validated. "
    "Collect config with the Kubernetes API or YAML files to get findings."
)


@dataclass(frozen=True)
class FindingRow:
    """One finding as a table shows it."""

    severity: str
    code: str
    object_ref: str
    message: str
    namespace: str | None = None
    source: str = ""
    mapped: str = ""  # the other tool's codes, e.g. "KIA1101"
    suppressed: str = ""  # why, when suppressed


@dataclass(frozen=True)
class NamespaceFindings:
    namespace: str  # "(cluster-scoped)" for objects without one
    page: str | None
    rows: list[FindingRow]


@dataclass(frozen=True)
class CodeView:
    code: str
    severity: str
    title: str
    doc: str
    equivalents: str
    count: int
    namespaces: list[NamespaceFindings]
    has_source: bool = False  # any finding of this code came from a file (file:line column)


@dataclass(frozen=True)
class SeverityView:
    severity: str
    text: str
    count: int
    codes: list[CodeView]


@dataclass
class FindingsPage:
    """Everything the findings page shows; `collected` False means there was no config to validate."""

    collected: bool
    note: str = ""
    objects: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # error, warning, info, suppressed
    summary: str = ""
    severities: list[SeverityView] = field(default_factory=list)
    suppressed: list[FindingRow] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)

    @property
    def active(self) -> int:
        return sum(self.counts.get(s, 0) for s in SEVERITIES)

    @property
    def level(self) -> str:
        """The card colour: failure for errors, degraded for warnings, healthy otherwise."""
        if self.counts.get("error"):
            return "failure"
        if self.counts.get("warning"):
            return "degraded"
        return "healthy" if self.collected else "idle"


def row(f: Finding) -> FindingRow:
    src = ""
    if f.source is not None and getattr(f.source, "file", None):
        line = getattr(f.source, "line", None)
        src = f"{f.source.file}:{line}" if line else str(f.source.file)
    return FindingRow(
        severity=f.severity,
        code=f.code,
        object_ref=f.origin,
        message=f.message,
        namespace=f.namespace,
        source=src,
        mapped=", ".join(f.equivalents),
        suppressed=f.suppressed or "",
    )


def summary_text(counts: dict[str, int]) -> str:
    parts = [f"{counts.get(s, 0)} {s}{'' if counts.get(s, 0) == 1 or s == 'info' else 's'}" for s in SEVERITIES]
    return ", ".join(parts) + f"; {counts.get('suppressed', 0)} suppressed"


def not_collected() -> FindingsPage:
    return FindingsPage(collected=False, note=NOT_COLLECTED)


def findings_page(result: ValidationResult, pages: dict[str, str]) -> FindingsPage:
    """The findings page from a validation result; `pages` maps namespace -> its page (for links)."""
    view = group_findings(result)
    severities = []
    for sev in SEVERITIES:
        codes = [
            _with_source(
                CodeView(
                    code=g.code,
                    severity=g.severity,
                    title=g.title,
                    doc=g.doc,
                    equivalents=", ".join(g.equivalents),
                    count=g.count,
                    namespaces=[
                        NamespaceFindings(ns or "(cluster-scoped)", pages.get(ns), [row(f) for f in fs])
                        for ns, fs in sorted(g.by_namespace.items())
                    ],
                )
            )
            for g in view.by_severity.get(sev, [])
        ]
        severities.append(SeverityView(sev, SEVERITY_TEXT[sev], view.counts.get(sev, 0), codes))
    return FindingsPage(
        collected=True,
        objects=view.objects,
        counts=dict(view.counts),
        summary=summary_text(view.counts),
        severities=severities,
        suppressed=[row(f) for f in view.suppressed],
        expired=[f"{e.code}={e.resource} (expired {e.expires})" for e in result.expired],
    )


def _with_source(c: CodeView) -> CodeView:
    return replace(c, has_source=any(r.source for nsf in c.namespaces for r in nsf.rows))


def namespace_rows(result: ValidationResult | None, namespace: str) -> list[FindingRow]:
    """Active findings about objects in `namespace`, in istioctl's order."""
    if result is None:
        return []
    return [row(f) for f in result.active if f.namespace == namespace]
