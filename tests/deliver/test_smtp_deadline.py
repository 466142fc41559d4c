"""smtplib times each socket read, so a server that sends its greeting one byte every 0.2 s would
hold a weekly email job forever; the whole conversation has one deadline (email.smtp.timeout)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.hang import no_hang  # noqa: E402

from meshreport.deliver.smtp import SmtpOptions, send  # noqa: E402
from meshreport.errors import DeliveryError  # noqa: E402


class TricklingServer:
    """Accepts on 127.0.0.1 and sends an endless SMTP greeting, one byte every `every` seconds."""

    def __init__(self, every: float = 0.2) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.sendall(b"220-")
                    while not self.stop.is_set():
                        conn.sendall(b"x")
                        time.sleep(self.every)
                except OSError:
                    pass

    def __enter__(self) -> TricklingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "mesh@example.com", "sre@example.com", "report"
    msg.set_content("body")
    return msg


def test_a_trickling_server_is_cut_at_the_deadline():
    with TricklingServer() as server:
        options = SmtpOptions.of(
            host="127.0.0.1", port=server.port, tls="none", ca_file=None, username=None,
            password=None, password_file=None, timeout=1.5,
        )  # fmt: skip
        with no_hang(), pytest.raises(DeliveryError) as e:  # the greeting never ends: only the deadline can
            send(_message(), options)
    message = str(e.value)
    assert "did not finish within 1.5 s" in message and "\n" not in message


def test_a_refused_connection_is_still_its_own_message():
    s = socket.create_server(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    options = SmtpOptions.of(
        host="127.0.0.1", port=port, tls="none", ca_file=None, username=None,
        password=None, password_file=None, timeout=5,
    )  # fmt: skip
    with pytest.raises(DeliveryError, match="cannot send email via 127.0.0.1") as e:
        send(_message(), options)
    assert "did not finish" not in str(e.value)
