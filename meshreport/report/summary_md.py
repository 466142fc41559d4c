"""summary.md: a run's headline and findings in Markdown, sized for a CI step summary.

GitHub refuses a job summary over 1 MiB (GitLab and others render the same Markdown), so the
text is cut at a line boundary below `LIMIT` with a note saying where the rest is.
"""

from __future__ import annotations

from typing import Any

from meshreport.report.headline import headline
from meshreport.report.machine import Baseline
from meshreport.report.machine import md_escape as _md
from meshreport.report.machine import render as render_findings
from meshreport.validation.model import ValidationResult

FILE_NAME = "summary.md"
LIMIT = 1024 * 1024 - 4096  # headroom for what a CI step appends after it
_CUT_NOTE = "\n_Cut to stay under 1 MiB; every finding is in findings.sarif and on the report's findings page._\n"


def markdown_summary(
    summary: dict[str, Any],
    validation: ValidationResult | None,
    *,
    limit: int = LIMIT,
    changes: str | None = None,
    baseline: Baseline | None = None,
) -> str:
    """Headline, then what changed since the previous report (`changes`: `diff --format markdown`
    of the run's comparison), then the findings (new ones marked when `baseline` is given)."""
    h = headline(summary)
    out = [f"## {_md(h.title)}", "", f"Window: {_md(h.window)}", ""]
    out += ["| | |", "|---|---|"]
    out.append(f"| Request rate | {_md(h.request_rate)} |")
    out.append(f"| Error share | {_md(h.error_share)} |")
    p95 = h.p95 + (f" ({_md(h.p95_edge)})" if h.p95_edge else "")
    out.append(f"| Worst p95 latency | {_md(p95)} |")
    out.append(f"| Health | {h.failing} failing, {h.degraded} degraded, {h.healthy} healthy |")
    out.append(f"| Findings | {_md(h.findings)} |")
    out.append(f"| Gaps | {h.gaps} |")
    out.append("")
    if h.gate:
        out += [f"**Gate failed:** {_md(h.gate)}", ""]
    text = "\n".join(out) + "\n"
    if changes:
        body = changes.replace("\n### ", "\n#### ")  # its lists sit one level below the section
        text += "\n" + body.replace("## meshreport: what changed", "### Since the previous report", 1)
    if validation is not None:
        findings = render_findings(validation, "markdown", baseline=baseline)
        text += "\n" + findings.replace("## meshreport validation", "### Findings", 1)
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    if len(text.encode()) <= limit:
        return text
    budget = limit - len(_CUT_NOTE.encode())
    head = text.encode()[:budget].decode("utf-8", errors="ignore")
    return head[: head.rfind("\n") + 1] + _CUT_NOTE
