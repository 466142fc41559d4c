"""Sending a message over SMTP: STARTTLS, implicit TLS or plain; AUTH only over TLS.

The password comes from `email.smtp.password` (an environment variable from a Secret) or
`email.smtp.password_file` (a mounted Secret), and never appears in a message we print:
server replies are shown, our own credentials are scrubbed from them.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from meshreport.errors import DeliveryError, UsageError

TLS_MODES = ("starttls", "tls", "none")
_DEFAULT_PORT = {"tls": 465, "starttls": 587, "none": 25}
MAX_PASSWORD_FILE = 64 * 1024


@dataclass(frozen=True)
class SmtpOptions:
    host: str
    port: int
    tls: str
    ca_file: str | None
    username: str | None
    password: str | None
    timeout: float

    def __repr__(self) -> str:  # the password stays out of tracebacks and logs
        return f"SmtpOptions(host={self.host!r}, port={self.port}, tls={self.tls!r}, username={self.username!r})"

    @classmethod
    def of(
        cls,
        *,
        host: str | None,
        port: int | None,
        tls: str | None,
        ca_file: str | None,
        username: str | None,
        password: str | None,
        password_file: str | None,
        timeout: float,
    ) -> SmtpOptions:
        """Checked options from the `email.smtp.*` settings (the password file is read here)."""
        if not host:
            raise UsageError("no SMTP server: give --smtp-host (or MESHREPORT_EMAIL_SMTP_HOST, email.smtp.host)")
        tls = (tls or "starttls").lower()
        if tls not in TLS_MODES:
            raise UsageError(f"email.smtp.tls: expected one of {', '.join(TLS_MODES)}, got {tls!r}")
        if password and password_file:
            raise UsageError("give either email.smtp.password or email.smtp.password_file, not both")
        if password_file:
            password = _read_password(Path(password_file))
        if password and not username:
            raise UsageError("an SMTP password needs email.smtp.username too")
        if username and tls == "none":
            raise UsageError("SMTP AUTH needs TLS: set email.smtp.tls to starttls or tls (no password in clear)")
        return cls(host, port or _DEFAULT_PORT[tls], tls, ca_file, username, password, timeout)


def _read_password(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_PASSWORD_FILE:
            raise UsageError(f"{path}: too big for a password file")
        return path.read_text().rstrip("\r\n")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such password file") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read the password file: {e.strerror}") from None


def _context(options: SmtpOptions) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=options.ca_file)
    except (OSError, ssl.SSLError) as e:
        raise UsageError(f"email.smtp.ca_file {options.ca_file}: cannot load CA bundle ({e})") from None


class _Deadline:
    """The whole conversation ends by `timeout`: smtplib's timeout is per socket read, so a server
    that trickles a byte a second would otherwise hold the run forever. At the deadline the
    client's socket is shut down; its blocked read returns at once."""

    def __init__(self, seconds: float) -> None:
        self.client: smtplib.SMTP | None = None
        self.expired = False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def watch(self, client: smtplib.SMTP) -> None:
        self.client = client
        if self.expired:  # the deadline passed while connecting
            self._cut()

    def _cut(self) -> None:
        self.expired = True
        sock = getattr(self.client, "sock", None)
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # not SSLSocket's: no TLS teardown
            except (OSError, ValueError):
                pass

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def send(msg: EmailMessage, options: SmtpOptions) -> None:
    """Deliver `msg` to every To/Cc recipient; any failure is a DeliveryError (exit 6) naming the server."""
    where = f"{options.host}:{options.port}"
    with _Deadline(options.timeout) as deadline:
        try:
            refused = _converse(msg, options, where, deadline)
        except DeliveryError:
            raise
        except Exception as e:
            if deadline.expired:
                raise DeliveryError(
                    f"cannot send email via {where}: the server did not finish within {options.timeout:g} s "
                    "(email.smtp.timeout)"
                ) from None
            raise _delivery_error(e, options, where) from None
    if refused:
        raise DeliveryError(f"SMTP server {where} refused {', '.join(sorted(refused))} (the others got the email)")


def _converse(msg: EmailMessage, options: SmtpOptions, where: str, deadline: _Deadline) -> dict:
    # Made unconnected and watched first: connecting also reads the greeting, under the deadline.
    if options.tls == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(timeout=options.timeout, context=_context(options))
    else:
        client = smtplib.SMTP(timeout=options.timeout)
    client._host = options.host  # what __init__ would set: TLS checks the certificate against it
    deadline.watch(client)
    client.connect(options.host, options.port)
    with client:
        client.ehlo()
        if options.tls == "starttls":
            if not client.has_extn("starttls"):
                raise DeliveryError(f"SMTP server {where} does not offer STARTTLS (set email.smtp.tls)")
            client.starttls(context=_context(options))
            client.ehlo()
        if options.username:
            client.login(options.username, options.password or "")
        return client.send_message(msg)


def _delivery_error(e: Exception, options: SmtpOptions, where: str) -> DeliveryError:
    """One line for what went wrong, with our own password scrubbed from whatever the server said."""
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return DeliveryError(f"SMTP server {where} refused the login for {options.username!r}: {_reply(e)}")
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return DeliveryError(f"SMTP server {where} refused every recipient: {', '.join(e.recipients)}")
    if isinstance(e, smtplib.SMTPResponseException):
        return DeliveryError(f"SMTP server {where}: {_scrub(_reply(e), options)}")
    if isinstance(e, ssl.SSLError):
        return DeliveryError(f"TLS with SMTP server {where} failed: {e.reason or e}")
    return DeliveryError(f"cannot send email via {where}: {_scrub(str(e) or type(e).__name__, options)}")


def _reply(e: smtplib.SMTPResponseException) -> str:
    text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
    return f"{e.smtp_code} {' '.join(text.split())[:300]}"


def _scrub(text: str, options: SmtpOptions) -> str:
    return text.replace(options.password, "***") if options.password else text
