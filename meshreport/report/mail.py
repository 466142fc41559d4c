"""The report email: "Since the previous report" and the headline numbers, as HTML that reads well
in mail clients and as plain text, with the PDF attached.

The body opens with what changed since the previous report (the run's `changes.json`, written by
`meshreport run`: regressions, improvements, new and resolved findings, then the rest), so a
weekly mail is read for what a deploy made better or worse. Mail clients strip <style> blocks
and block remote content, so the body uses inline styles only, no scripts and no images (a link
to the report when `email.report_url` is set). A PDF over `email.max_attachment` is not attached
(large mails bounce); the body says where it is. Sending is meshreport/deliver/smtp.py's job;
pipeline.send_report joins the two.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from meshreport.errors import UsageError
from meshreport.report.headline import Headline, headline
from meshreport.visible import one_line

PDF_FILE = "report.pdf"
CHANGES_FILE = "changes.json"
_FIELD = re.compile(r"\{(\w*)\}")
#: Lines per list in the mail; the report (and changes.json) has them all.
MAX_MAIL_LINES = 50
#: A changes.json bigger than this is not one we wrote.
MAX_CHANGES_BYTES = 32 * 1024 * 1024
#: Lists whose lines are regressions (red) and improvements (green) in the HTML part.
_COLOURS = {
    "Regressions": "#c62828",
    "New findings": "#c62828",
    "Improvements": "#2e7d32",
    "Resolved findings": "#2e7d32",
}


@dataclass(frozen=True)
class MailList:
    title: str
    lines: list[str]
    more: int
    colour: str


@dataclass
class Since:
    """The "Since the previous report" part of the body."""

    compared: bool
    previous: str  # `run 2026-01-30T020000Z`, `baseline old.mrsnap`, or ""
    headline: str  # the counts, or why nothing was compared
    lists: list[MailList] = field(default_factory=list)


def since(summary: dict[str, Any], report_dir: Path) -> Since:
    """What changed, from the run's summary (`changes`) and its changes.json. Both are read back from
    disk: every value is type-checked, a file that is not ours reads as "not compared"."""
    info = summary.get("changes") if isinstance(summary.get("changes"), dict) else {}
    previous = _previous(info)
    if not info.get("compared"):
        reason = info.get("reason") if isinstance(info.get("reason"), str) else "no previous report"
        return Since(False, previous, one_line(f"Not compared: {reason}."))
    doc = _read_changes(report_dir / CHANGES_FILE)  # never a path the summary names
    if doc is None:
        text = info.get("headline") if isinstance(info.get("headline"), str) else "the comparison could not be read"
        return Since(True, previous, one_line(text))
    out = Since(True, previous, one_line(str(doc.get("headline") or "")))
    for sec in doc.get("sections") or []:
        if not isinstance(sec, dict) or not isinstance(sec.get("title"), str) or not isinstance(sec.get("lines"), list):
            continue
        lines = [one_line(x) for x in sec["lines"] if isinstance(x, str)]
        more = sec.get("more") if isinstance(sec.get("more"), int) and sec["more"] > 0 else 0
        title = one_line(sec["title"])
        shown = lines[:MAX_MAIL_LINES]
        out.lists.append(MailList(title, shown, more + len(lines) - len(shown), _COLOURS.get(title, "#1f2933")))
    return out


def _previous(info: dict[str, Any]) -> str:
    if isinstance(info.get("run"), str):
        return one_line(f"run {info['run']}")
    if isinstance(info.get("baseline"), str):
        return one_line(f"baseline {info['baseline']}")
    return ""


def _read_changes(path: Path) -> dict[str, Any] | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_CHANGES_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def subject_fields(h: Headline, summary: dict[str, Any]) -> dict[str, str]:
    window = summary.get("window") if isinstance(summary.get("window"), dict) else {}
    end = window.get("end") if isinstance(window.get("end"), str) else ""
    start = window.get("start") if isinstance(window.get("start"), str) else ""
    return {
        "title": h.title,
        "start": start[:10],
        "end": end[:10],
        "window": h.window,
        "failing": str(h.failing),
        "degraded": str(h.degraded),
        "errors": str(h.findings_error),
        "warnings": str(h.findings_warning),
        "findings": h.findings,
        "error_share": h.error_share,
        "request_rate": h.request_rate,
        "gaps": str(h.gaps),
    }


def render_subject(template: str, fields: dict[str, str]) -> str:
    """`{name}` fields only (no format specs, no attribute access); unknown names are a usage error."""

    def field(m: re.Match[str]) -> str:
        if m.group(1) not in fields:
            raise UsageError(f"email.subject: unknown field {{{m.group(1)}}} (known: {', '.join(sorted(fields))})")
        return fields[m.group(1)]

    subject = _FIELD.sub(field, template)
    return re.sub(r"[\x00-\x1f\x7f]+", " ", subject).strip()[:250]  # no header injection, no folding surprises


def compose(
    summary: dict[str, Any],
    report_dir: Path,
    *,
    sender: str,
    to: list[str],
    subject_template: str,
    max_attachment: int,
    report_url: str | None = None,
) -> EmailMessage:
    from meshreport.report.site import environment

    h = headline(summary)
    msg = EmailMessage()
    msg["Subject"] = render_subject(subject_template, subject_fields(h, summary))
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid("meshreport", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot

    pdf = report_dir / PDF_FILE
    size = pdf.stat().st_size if pdf.is_file() and not pdf.is_symlink() else None
    attach = size is not None and size <= max_attachment
    note = ""
    if size is None:
        note = "This run has no PDF (it was rendered with --no-pdf)."
    elif not attach:
        note = (
            f"The PDF ({_mib(size)}) is larger than the {_mib(max_attachment)} attachment limit, so it is not "
            f"attached; it is {PDF_FILE} in the report" + (f" at {report_url}." if report_url else f" {report_dir}.")
        )
    context = {
        "h": h,
        "since": since(summary, report_dir),
        "note": note,
        "report_url": _safe_url(report_url),
        "attached": attach,
    }
    env = environment()
    msg.set_content(env.get_template("email.txt").render(**context))
    msg.add_alternative(env.get_template("email.html").render(**context), subtype="html")
    if attach:
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=_pdf_name(summary))
    return msg


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links go into the body (a `javascript:` URL from a config file must not)."""
    if url and re.match(r"^https?://[^\s\"'<>]+$", url):
        return url
    return None


def _pdf_name(summary: dict[str, Any]) -> str:
    window = summary.get("window") if isinstance(summary.get("window"), dict) else {}
    end = window.get("end") if isinstance(window.get("end"), str) else ""
    day = end[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", end[:10]) else ""
    return f"meshreport-{day}.pdf" if day else "meshreport.pdf"
