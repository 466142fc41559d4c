"""`meshreport send REPORT_DIR`: email an existing report (the weekly job), as `run --email-to` does."""

from __future__ import annotations

from pathlib import Path

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.commands._setting_flags import config_file_option, setting_flags
from meshreport.settings import Settings

SEND_FLAGS = [
    ("email.to", ("--to", "--email-to"), {"multiple": True, "metavar": "ADDRESS"}),
    ("email.from", ("--from", "--email-from"), {"metavar": "ADDRESS"}),
    ("email.subject", ("--subject", "--email-subject"), {"metavar": "TEMPLATE"}),
    ("email.smtp.host", ("--smtp-host",), {"metavar": "HOST"}),
    ("email.smtp.port", ("--smtp-port",), {"type": int, "metavar": "PORT"}),
    ("email.smtp.tls", ("--smtp-tls",), {"type": click.Choice(["starttls", "tls", "none"])}),
    ("email.smtp.ca_file", ("--smtp-ca-file",), {"metavar": "FILE"}),
    ("email.smtp.username", ("--smtp-username",), {"metavar": "USER"}),
    ("email.smtp.password_file", ("--smtp-password-file",), {"metavar": "FILE"}),
    ("email.smtp.timeout", ("--smtp-timeout",), {"metavar": "DURATION"}),
    ("email.max_attachment", ("--max-attachment",), {"type": int, "metavar": "BYTES"}),
    ("email.report_url", ("--report-url",), {"metavar": "URL"}),
]


@cli.command("send")
@click.argument("report", type=click.Path(file_okay=False, path_type=Path))
@config_file_option
@setting_flags(SEND_FLAGS)
def send_cmd(report: Path, settings: Settings) -> None:
    """Email REPORT (a report folder, or an archive's `latest`) with its PDF attached.

    \b
    meshreport send /reports/latest --to sre@example.com,lead@example.com \\
        --smtp-host smtp.example.com --smtp-username meshreport --smtp-password-file /secrets/smtp

    \b
    The body is "Since the previous report" (the run's changes.json:
    regressions, improvements, new and resolved findings, ...) and the
    report's headline (summary.json), as HTML with inline styles and a
    plain-text part; no scripts, no images. A PDF bigger than
    --max-attachment is replaced by a note. TLS: starttls (port 587), tls
    (implicit, 465) or none (25; then no login). The password comes from
    MESHREPORT_EMAIL_SMTP_PASSWORD or --smtp-password-file, never a flag.
    Subject fields: {title} {start} {end} {window} {failing} {degraded}
    {errors} {warnings} {findings} {error_share} {request_rate} {gaps}.
    Exit 6 when the email could not be sent; 5 when REPORT has no summary.json.
    """
    sent = pipeline.send_report(settings, report)
    click.echo(f"meshreport: emailed {report} to {', '.join(sent)}")
