"""A real SMTP server for tests (aiosmtpd) on 127.0.0.1: STARTTLS, implicit TLS or plain, optional AUTH.

    with smtp_server(tmp_path, tls="starttls", login=("bot", "pw")) as srv:
        ... send to srv.host:srv.port, trusting srv.ca_file ...
    srv.messages  # [Received(mail_from, rcpt_tos, content bytes, tls, login)]

The certificate is self-signed for `localhost`, made per test (helpers/tls.py); clients connect
to `localhost` and trust it through `ca_file`.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers.prometheus import free_port
from helpers.tls import cert_pem, key_pem, utc

HOST = "localhost"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Server:
    host: str
    port: int
    ca_file: Path
    messages: list[Received] = field(default_factory=list)


class _Handler:
    def __init__(self, server: Server) -> None:
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.server.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                smtp.transport.get_extra_info("ssl_object") is not None,
                login,
            )
        )
        return "250 OK"


@contextmanager
def smtp_server(tmp_path: Path, *, tls: str = "starttls", login: tuple[str, str] | None = None) -> Iterator[Server]:
    cert, key = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert.write_bytes(cert_pem(utc(2020), utc(2120), seed=7, cn=HOST))
    key.write_bytes(key_pem(7))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server = Server(HOST, free_port(), cert)

    def authenticate(_server, _session, _envelope, _mechanism, auth_data):
        ok = login is not None and isinstance(auth_data, LoginPassword)
        ok = ok and (auth_data.login.decode(), auth_data.password.decode()) == login
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    # aiosmtpd counts only STARTTLS as TLS for AUTH; an implicit-TLS socket is TLS from the first byte.
    kwargs: dict = {"authenticator": authenticate if login else None, "auth_require_tls": tls != "tls"}
    if tls == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)
    elif tls == "tls":
        kwargs.update(ssl_context=ctx)
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port, server_hostname=HOST, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
