"""The report email: an HTML summary that reads well in mail clients, with the PDF attached.

Mail clients strip <style> blocks and block remote content, so the body uses inline styles
only, no scripts and no images (a link to the report when `email.report_url` is set). A PDF
over `email.max_attachment` is not attached (large mails bounce); the body says where it is.
Sending is meshreport/deliver/smtp.py's job; pipeline.send_report joins the two.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from meshreport.errors import UsageError
from meshreport.report.headline import Headline, headline

PDF_FILE = "report.pdf"
_FIELD = re.compile(r"\{(\w*)\}")


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
    context = {"h": h, "note": note, "report_url": _safe_url(report_url), "attached": attach}
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
