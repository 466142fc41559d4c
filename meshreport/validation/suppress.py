"""Suppressions from three places: object annotations, the config file, and `-S` on the command line.

Suppressed findings are kept (marked with the reason) so every output can count them and
`--show-suppressed` can list them. A config-file suppression may expire: after its date it
stops applying and is reported as expired, so a temporary exception cannot become permanent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from meshreport.errors import InputError, UsageError
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.model import ExpiredSuppression, Finding, ValidationResult

ISTIO_ANNOTATION = "galley.istio.io/analyze-suppress"
KIALI_ANNOTATION = "kiali.io/ignore-validations"


@dataclass(frozen=True)
class Suppression:
    """`code` and `resource` are glob patterns; `resource` is `Kind namespace/name` (or `Kind name`)."""

    code: str
    resource: str
    reason: str = ""
    origin: str = "cli"  # cli | config | default
    expires: dt.date | None = None

    @property
    def spec(self) -> str:
        return f"{self.code}={self.resource}"

    def matches(self, f: Finding) -> bool:
        if not any(fnmatchcase(c, self.code) for c in f.codes):
            return False
        return fnmatchcase(f.origin, self.resource) or fnmatchcase(f"{f.kind} {f.name}", self.resource)


def parse_cli(spec: str) -> Suppression:
    """`CODE=Kind namespace/name` (istioctl's `-S`, with `*` wildcards anywhere)."""
    code, sep, resource = spec.partition("=")
    code, resource = code.strip(), " ".join(resource.split())
    if not sep or not code or not resource:
        raise UsageError(f"invalid suppression {spec!r}: expected CODE=Kind namespace/name, e.g. IST0101=Pod shop/*")
    if resource != "*" and " " not in resource:
        raise UsageError(f"invalid suppression {spec!r}: the resource must be 'Kind namespace/name' (or '*')")
    return Suppression(code=code, resource=resource, reason=f"-S {code}={resource}", origin="cli")


#: Kiali's default `kiali_feature_flags.validations.ignore`: KIA1301 ("no AuthorizationPolicy
#: covers this workload") fires on nearly every workload of a mesh without AuthorizationPolicies.
DEFAULT_IGNORE = ("KIA1301",)


def from_config(section: dict[str, Any] | None, origin: str = "config file") -> list[Suppression]:
    """The config file's `validation:` section: `ignore:` (codes ignored everywhere, like Kiali's
    `validations.ignore`; default `[KIA1301]` as in Kiali, `ignore: []` shows it) and the
    `suppressions:` list. Each suppression: `code` (or `codes`), `resource` (default `*`),
    `reason`, optional `expires` (YYYY-MM-DD).
    """
    section = section or {}
    ignore = section.get("ignore", list(DEFAULT_IGNORE))
    if isinstance(ignore, str):
        ignore = [c.strip() for c in ignore.split(",") if c.strip()]
    if not isinstance(ignore, list):
        raise InputError(f"{origin}: validation.ignore must be a list of codes")
    explicit = "ignore" in section
    out: list[Suppression] = [
        Suppression(
            code=str(c),
            resource="*",
            reason=f"validation.ignore in {origin}"
            if explicit
            else "ignored by default, as in Kiali (validation.ignore)",
            origin="config" if explicit else "default",
        )
        for c in ignore
    ]
    entries = section.get("suppressions") or []
    if not isinstance(entries, list):
        raise InputError(f"{origin}: validation.suppressions must be a list")
    for i, e in enumerate(entries):
        where = f"{origin}: validation.suppressions[{i}]"
        if not isinstance(e, dict):
            raise InputError(f"{where} must be a mapping with code, resource, reason")
        codes = e.get("codes") or ([e["code"]] if e.get("code") else [])
        if isinstance(codes, str):
            codes = [codes]
        if not codes:
            raise InputError(f"{where}: code is required")
        resource = " ".join(str(e.get("resource") or "*").split())
        out.extend(
            Suppression(
                code=str(c),
                resource=resource,
                reason=str(e.get("reason") or "").strip() or f"config {c}={resource}",
                origin="config",
                expires=_date(e.get("expires"), where),
            )
            for c in codes
        )
    return out


def _date(v: Any, where: str) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise InputError(f"{where}: expires must be a date (YYYY-MM-DD), not {v!r}") from None


def annotation_codes(annotations: dict[str, str]) -> tuple[str, set[str]] | None:
    """(which annotation, codes) from an object's annotations; `*` in codes means all."""
    if ISTIO_ANNOTATION in annotations:
        return ISTIO_ANNOTATION, _codes(annotations[ISTIO_ANNOTATION]) or {"*"}
    if KIALI_ANNOTATION in annotations:
        return KIALI_ANNOTATION, _codes(annotations[KIALI_ANNOTATION]) or {"*"}  # empty = all (Kiali)
    return None


def _codes(text: Any) -> set[str]:
    return {c.strip() for c in str(text or "").split(",") if c.strip()}


def apply(
    findings: Iterable[Finding],
    objects: Iterable[ConfigObject] = (),
    suppressions: Iterable[Suppression] = (),
    *,
    today: dt.date | None = None,
    annotations: bool = True,
) -> ValidationResult:
    """Mark suppressed findings; report expired and unused suppressions. Annotations win, then config, then CLI."""
    today = today or dt.date.today()
    objs = list(objects)
    by_key: dict[tuple[str, str | None, str], dict[str, str]] = {}
    for o in objs:
        if annotations and o.annotations:
            by_key[(o.kind, o.namespace, o.name)] = o.annotations
    active_rules: list[Suppression] = []
    expired: list[ExpiredSuppression] = []
    for s in suppressions:
        if s.expires is not None and s.expires < today:
            expired.append(ExpiredSuppression(s.code, s.resource, s.reason, s.expires.isoformat()))
        else:
            active_rules.append(s)
    used: set[Suppression] = set()
    out: list[Finding] = []
    for f in findings:
        reason = None
        ann = annotation_codes(by_key.get((f.kind, f.namespace, f.name), {}))
        if ann is not None:
            name, codes = ann
            if "*" in codes or codes & set(f.codes):
                reason = f"annotation {name}"
        if reason is None:
            for s in active_rules:
                if s.matches(f):
                    reason = f"{s.origin}: {s.reason}" if s.origin == "config" else s.reason
                    used.add(s)
                    break
        out.append(f.with_suppression(reason) if reason else f)
    out.sort(key=Finding.sort_key)
    unused = sorted({s.spec for s in active_rules if s not in used and s.origin != "default"})
    return ValidationResult(findings=out, objects=len(objs), expired=expired, unused=unused)
