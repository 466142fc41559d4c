"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real server (the real Prometheus).

`rule(path, params)` picks the fault for each request (None: pass the real answer through):

- `trickle`: the real headers, then the body one byte every `trickle_seconds`
- `trickle-headers`: the status line and headers themselves one byte at a time
- `hang`: nothing for `hang_seconds`
- `reset`: the connection is reset (RST) without an answer
- `500`: HTTP 500 with a Prometheus error body
- `not-json`: 200 with a truncated JSON body
- `bad-items`: 200 `success` whose result items are not series (numbers, strings, labels that are lists)
- `huge`: the real answer padded with `huge_bytes` of whitespace
- `html`: 200 with `Content-Type: text/html` and a login page
- `redirect-loop`: 302 to the same URL, forever

Every request is recorded in `requests` as (path, params, mode).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Rule = Callable[[str, dict[str, str]], "str | None"]


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        rule: Rule | None = None,
        *,
        trickle_seconds: float = 0.5,
        hang_seconds: float = 30.0,
        huge_bytes: int = 3 * 1024 * 1024,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.rule = rule or (lambda path, params: None)
        self.trickle_seconds = trickle_seconds
        self.hang_seconds = hang_seconds
        self.huge_bytes = huge_bytes
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                mode = proxy.rule(parts.path, params)
                with proxy.lock:
                    proxy.requests.append((parts.path, params, mode))
                try:
                    proxy.answer(self, mode)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def modes(self) -> list[str | None]:
        with self.lock:
            return [m for _, _, m in self.requests]

    # --- answers ---------------------------------------------------------------------------

    def fetch(self, path_qs: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.upstream + path_qs, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", "application/json"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", "application/json"), e.read()

    def answer(self, h: BaseHTTPRequestHandler, mode: str | None) -> None:
        if mode == "hang":
            time.sleep(self.hang_seconds)
            return
        if mode == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        if mode == "redirect-loop":
            return self.send(h, 302, "text/plain", b"moved", extra={"Location": h.path})
        if mode == "500":
            body = json.dumps({"status": "error", "errorType": "internal", "error": "injected failure"}).encode()
            return self.send(h, 500, "application/json", body)
        if mode == "html":
            return self.send(h, 200, "text/html", b"<html><body><form>Sign in</form></body></html>")
        if mode == "bad-items":
            data = {"resultType": "vector", "result": [7, "x", {"metric": ["a"], "value": [1, "2"]}]}
            return self.send(h, 200, "application/json", json.dumps({"status": "success", "data": data}).encode())
        status, ctype, body = self.fetch(h.path)
        if mode == "not-json":
            body = body[: max(1, len(body) // 2)]
        elif mode == "huge":
            body = body[:-1] + b" " * self.huge_bytes + body[-1:]
        if mode == "trickle-headers":
            head = f"HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            for i in range(len(head)):
                h.wfile.write(head[i : i + 1])
                h.wfile.flush()
                time.sleep(self.trickle_seconds)
            h.wfile.write(body)
            return
        if mode == "trickle":
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.flush()
            for i in range(len(body)):
                h.wfile.write(body[i : i + 1])
                h.wfile.flush()
                time.sleep(self.trickle_seconds)
            return
        self.send(h, status, ctype, body)

    @staticmethod
    def send(
        h: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
