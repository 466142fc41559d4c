"""`meshreport send`: the email lands in a real SMTP server (aiosmtpd on 127.0.0.1) with the PDF attached."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.smtp import smtp_server  # noqa: E402

from meshreport.cli import main  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"
PASSWORD = "s3cret-Pa55"


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """One real report (site, PDF, summary.json) of the bookinfo sample."""
    out = tmp_path_factory.mktemp("mail") / "report"
    with pytest.raises(SystemExit) as exc:
        main(["run", "--from-snapshot", str(SAMPLE), "-o", str(out), "-q", "--title", "Shop <mesh> & co"])
    assert exc.value.code == 0
    return out


def _send(capsys, srv, report: Path, *extra: str) -> tuple[int, str, str]:
    return _cli(
        capsys, "send", str(report), "--smtp-host", srv.host, "--smtp-port", str(srv.port),
        "--smtp-ca-file", str(srv.ca_file), "--from", "meshreport@example.com", *extra,
    )  # fmt: skip


def _parts(msg):
    return [(p.get_content_type(), p.get_filename()) for p in msg.walk()]


def test_starttls_login_two_recipients_pdf_attached(tmp_path, report, capsys, monkeypatch):
    monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_PASSWORD", PASSWORD)
    with smtp_server(tmp_path, tls="starttls", login=("bot", PASSWORD)) as srv:
        code, out, err = _send(
            capsys, srv, report, "--to", "sre@example.com,lead@example.com", "--to", "ops@example.com",
            "--smtp-username", "bot", "--subject", "[mesh] {title}: {failing} failing, {errors} errors ({end})",
        )  # fmt: skip
    assert code == 0, err
    assert "sre@example.com, lead@example.com, ops@example.com" in out
    assert PASSWORD not in out + err
    (got,) = srv.messages
    assert got.tls and got.login == "bot"
    assert got.rcpt_tos == ["sre@example.com", "lead@example.com", "ops@example.com"]
    msg = got.message
    assert msg["Subject"] == "[mesh] Shop <mesh> & co: 0 failing, 3 errors (2024-01-01)"
    assert msg["From"] == "meshreport@example.com" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@example.com>") and msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    assert _parts(msg) == [
        ("multipart/mixed", None),
        ("multipart/alternative", None),
        ("text/plain", None),
        ("text/html", None),
        ("application/pdf", "meshreport-2024-01-01.pdf"),
    ]
    pdf = [p for p in msg.walk() if p.get_content_type() == "application/pdf"][0]
    assert pdf.get_content() == (report / "report.pdf").read_bytes()
    html = msg.get_body(("html",)).get_content()
    lowered = html.lower()
    for banned in ("<script", "<img", "src=", "<style", "<link", "javascript:", "url("):
        assert banned not in lowered, banned
    assert 'style="' in html  # inline styles only
    assert "Shop &lt;mesh&gt; &amp; co" in html  # the title is escaped
    assert "40.20 req/s" in html and "3 errors, 2 warnings, 0 info" in html
    text = msg.get_body(("plain",)).get_content()
    assert "Shop <mesh> & co" in text and "Request rate:       40.20 req/s" in text


def test_implicit_tls_password_file_and_report_link(tmp_path, report, capsys):
    pw = tmp_path / "smtp-password"
    pw.write_text(PASSWORD + "\n")
    with smtp_server(tmp_path, tls="tls", login=("bot", PASSWORD)) as srv:
        code, _, err = _send(
            capsys, srv, report, "--to", "sre@example.com", "--smtp-tls", "tls", "--smtp-username", "bot",
            "--smtp-password-file", str(pw), "--report-url", "https://reports.example.com/latest/",
        )  # fmt: skip
    assert code == 0, err
    (got,) = srv.messages
    assert got.tls and got.login == "bot"
    html = got.message.get_body(("html",)).get_content()
    assert '<a href="https://reports.example.com/latest/"' in html


def test_too_large_pdf_is_replaced_by_a_note(tmp_path, report, capsys):
    with smtp_server(tmp_path, tls="starttls") as srv:
        code, _, err = _send(capsys, srv, report, "--to", "sre@example.com", "--max-attachment", "1000")
    assert code == 0, err
    msg = srv.messages[0].message
    assert "application/pdf" not in [t for t, _ in _parts(msg)]
    text = msg.get_body(("plain",)).get_content()
    assert re.search(r"The PDF \(0\.\d MiB\) is larger than the 0\.0 MiB attachment limit", text)
    assert "report.pdf in the report" in msg.get_body(("html",)).get_content()


def test_wrong_password_exits_6_without_echoing_it(tmp_path, report, capsys, monkeypatch):
    monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_PASSWORD", "wrong-" + PASSWORD)
    with smtp_server(tmp_path, tls="starttls", login=("bot", PASSWORD)) as srv:
        code, out, err = _send(capsys, srv, report, "--to", "sre@example.com", "--smtp-username", "bot")
    assert code == 6
    assert "refused the login for 'bot'" in err and err.count("\n") == 1
    assert PASSWORD not in out + err
    assert srv.messages == []


def test_untrusted_certificate_and_missing_starttls(tmp_path, report, capsys):
    with smtp_server(tmp_path, tls="starttls") as srv:
        code, _, err = _cli(capsys, "send", str(report), "--to", "a@example.com", "--smtp-host", srv.host,
                            "--smtp-port", str(srv.port))  # fmt: skip
    assert code == 6 and "TLS with SMTP server" in err
    with smtp_server(tmp_path, tls="none") as srv:
        code, _, err = _send(capsys, srv, report, "--to", "a@example.com")
        assert code == 6 and "does not offer STARTTLS" in err
        code, _, err = _send(capsys, srv, report, "--to", "a@example.com", "--smtp-tls", "none")
    assert code == 0, err
    assert not srv.messages[0].tls


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--smtp-tls", "none", "--smtp-username", "bot"], "SMTP AUTH needs TLS"),
        (["--subject", "{nope}"], "unknown field {nope}"),
        (["--to", "not-an-address"], "is not an email address"),
    ],
)
def test_usage_errors(tmp_path, report, capsys, args, message):
    with smtp_server(tmp_path, tls="none") as srv:
        extra = [] if "--to" in args else ["--to", "a@example.com"]
        code, _, err = _send(capsys, srv, report, *extra, *args)
    assert code == 2 and message in err
    assert srv.messages == []


def test_folder_without_summary_is_exit_5(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = _cli(capsys, "send", str(tmp_path / "empty"), "--to", "a@example.com", "--smtp-host", "localhost")
    assert code == 5 and "summary.json" in err
