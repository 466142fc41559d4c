"""A run's headline, formatted from its summary.json: one view for the archive index and the email.

Summaries are read back from disk, so every value is checked for its type before it is shown;
a field that is missing or of the wrong type shows as a dash instead of failing the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshreport.report import format as fmt


@dataclass(frozen=True)
class Headline:
    title: str
    window: str
    request_rate: str
    error_share: str
    p95: str
    p95_edge: str
    failing: int
    degraded: int
    healthy: int
    findings: str
    findings_error: int
    findings_warning: int
    gaps: int
    level: str  # failure | degraded | healthy | idle: the colour of the row
    gate: str  # why a gate failed, "" when it passed or was not asked
    changes: str = "–"  # what changed since the previous report, in counts; "–" when not compared


def _num(doc: Any, *keys: str) -> float | None:
    for k in keys:
        doc = doc.get(k) if isinstance(doc, dict) else None
    return float(doc) if isinstance(doc, (int, float)) and not isinstance(doc, bool) else None


def _count(doc: Any, *keys: str) -> int:
    v = _num(doc, *keys)
    return int(v) if v is not None and v >= 0 else 0


def _text(doc: Any, *keys: str) -> str:
    for k in keys:
        doc = doc.get(k) if isinstance(doc, dict) else None
    return doc if isinstance(doc, str) else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def headline(summary: dict[str, Any] | None) -> Headline:
    s = summary or {}
    share = _num(s, "traffic", "errorShare")
    p95 = _num(s, "traffic", "p95LatencyMsMax")
    failing, degraded = _count(s, "health", "failure"), _count(s, "health", "degraded")
    errors, warnings = _count(s, "findings", "error"), _count(s, "findings", "warning")
    collected = isinstance(s.get("findings"), dict) and s["findings"].get("collected") is True
    start, end = _text(s, "window", "start"), _text(s, "window", "end")
    rate = _num(s, "traffic", "requestRate")
    gate = s.get("gate") if isinstance(s.get("gate"), dict) else {}
    given = gate.get("reasons")
    reasons = [r for r in given if isinstance(r, str)] if isinstance(given, list) else []
    if failing:
        level = "failure"
    elif degraded:
        level = "degraded"
    elif rate:
        level = "healthy"
    else:
        level = "idle"
    return Headline(
        title=_text(s, "title") or "Service mesh report",
        window=f"{start.replace('T', ' ').replace('Z', ' UTC')} – {end.replace('T', ' ').replace('Z', ' UTC')}"
        if start and end
        else "–",
        request_rate="–" if rate is None else fmt.req_rate(rate),
        error_share=fmt.pct(None if share is None else share * 100),
        p95="–" if p95 is None else f"{p95:.0f} ms",
        p95_edge=_text(s, "traffic", "p95LatencyMsMaxEdge"),
        failing=failing,
        degraded=degraded,
        healthy=_count(s, "health", "healthy"),
        findings=(
            f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {_count(s, 'findings', 'info')} info"
            if collected
            else "config not collected"
        ),
        findings_error=errors,
        findings_warning=warnings,
        gaps=_count(s, "gaps", "count"),
        level=level,
        gate="; ".join(reasons),
        changes=_changes(s.get("changes")),
    )


def _changes(c: Any) -> str:
    """`2 regressions, 1 improvement, 1 new finding, 0 resolved` from summary.json's `changes`."""
    if not isinstance(c, dict) or c.get("compared") is not True:
        return "–"
    parts = [_plural(_count(c, "regressions"), "regression"), _plural(_count(c, "improvements"), "improvement")]
    if _num(c, "newFindings") is not None:
        parts.append(f"{_plural(_count(c, 'newFindings'), 'new finding')}, {_count(c, 'resolvedFindings')} resolved")
    return ", ".join(parts)
