"""What validation produces: findings, and the hits a rule yields before they become findings.

A finding carries both vocabularies users know (IST and KIA codes) so CI output and the
report can be mapped back to `istioctl analyze` and Kiali.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from meshreport.snapshot.model import SourceRef

SEVERITIES = ("error", "warning", "info")
# Lower rank = more severe; used for sorting and for --fail-on / --show thresholds.
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Hit:
    """One problem a rule found on the object it checks; the runner turns it into a Finding.

    `severity` overrides the rule's default where the source tool does (e.g. Kiali's
    downgrade to warning under ALLOW_ANY).
    """

    message: str
    path: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class Finding:
    """One validation result about one object."""

    code: str  # IST code where istioctl has the check, else KIA, else MRnnnn
    severity: str  # "error" | "warning" | "info"
    kind: str
    name: str
    namespace: str | None
    cluster: str
    message: str
    equivalents: tuple[str, ...] = ()
    source: SourceRef | None = None
    path: str | None = None
    doc: str = ""
    suppressed: str | None = None  # why it is suppressed; None when active
    rule: str = ""  # the registered check's name (several rules may share one code)

    @property
    def origin(self) -> str:
        """`Kind ns/name` as istioctl prints it."""
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    @property
    def resource_key(self) -> str:
        """Stable `cluster/namespace/Kind/name` key (namespace `_` for cluster-scoped objects)."""
        return f"{self.cluster}/{self.namespace or '_'}/{self.kind}/{self.name}"

    @property
    def codes(self) -> tuple[str, ...]:
        """The code and its equivalents: suppressions by either vocabulary apply."""
        return (self.code, *self.equivalents)

    def sort_key(self) -> tuple:
        """istioctl's order: level, code, origin, text."""
        return (SEVERITY_RANK.get(self.severity, 9), self.code, self.origin, self.message, self.path or "")

    def with_suppression(self, reason: str) -> Finding:
        return replace(self, suppressed=reason)


def at_or_above(severity: str, threshold: str) -> bool:
    """True when `severity` is as severe as `threshold` or more; threshold `none` never matches."""
    if threshold == "none":
        return False
    return SEVERITY_RANK.get(severity, 9) <= SEVERITY_RANK[threshold]


@dataclass(frozen=True)
class ExpiredSuppression:
    """A config-file suppression past its expiry date: it no longer applies and is reported."""

    code: str
    resource: str
    reason: str
    expires: str


@dataclass
class ValidationResult:
    """Everything a validation run produced; output writers and the report read only this."""

    findings: list[Finding]  # active and suppressed, sorted
    objects: int = 0
    expired: list[ExpiredSuppression] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # suppression specs that matched nothing

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is None]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is not None]

    def counts(self) -> dict[str, int]:
        """Active findings per severity, plus `suppressed`."""
        out = {s: 0 for s in SEVERITIES}
        for f in self.active:
            out[f.severity] = out.get(f.severity, 0) + 1
        out["suppressed"] = len(self.suppressed)
        return out

    def fails(self, fail_on: str) -> bool:
        return any(at_or_above(f.severity, fail_on) for f in self.active)
