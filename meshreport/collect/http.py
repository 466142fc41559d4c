"""Deadlines for network waits: every request ends by its own deadline and by the run's.

Why not the HTTP libraries' timeouts: `requests` and `urllib3` time each socket read, so a
server that sends one byte a second (in the headers or the body) is never timed out. Here a
request runs inside a `RequestDeadline`; the connection pools both collectors use (requests'
for Prometheus, the kubernetes client's) are `guard`ed so each connection they hand out is
attached to the deadline of the thread that asked for it, and one watchdog thread shuts the
socket down when that deadline passes. The blocked read then fails at once, and the caller sees
`DeadlineExceeded` instead of whatever error the library makes of a cut connection.

Bodies are read in chunks by `iter_body`/`read_body`, which also stop at a size limit
(`max_response_bytes`, MESHREPORT_MAX_RESPONSE_MB) so a huge answer cannot take the memory.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from meshreport.errors import InputError

ENV_MAX_RESPONSE_MB = "MESHREPORT_MAX_RESPONSE_MB"
DEFAULT_MAX_RESPONSE_MB = 512
CHUNK = 256 * 1024


class DeadlineExceeded(Exception):
    """The request did not complete by its deadline; `by_run` when the run's deadline was the earlier."""

    def __init__(self, seconds: float, by_run: bool) -> None:
        self.seconds = seconds
        self.by_run = by_run
        what = "the run's deadline" if by_run else "the request deadline"
        super().__init__(f"no complete answer within {what} ({seconds:g}s)")


class ResponseTooLarge(Exception):
    """The body grew past the response size limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"answer larger than {limit // (1024 * 1024)} MB ({ENV_MAX_RESPONSE_MB})")


def max_response_bytes() -> int:
    """The per-response size limit, from the environment (read on each call, like the other limits)."""
    text = os.environ.get(ENV_MAX_RESPONSE_MB, "")
    if not text:
        return DEFAULT_MAX_RESPONSE_MB * 1024 * 1024
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{ENV_MAX_RESPONSE_MB}={text!r}: not a whole number") from None
    if value < 1:
        raise InputError(f"{ENV_MAX_RESPONSE_MB}={text!r}: must be at least 1")
    return value * 1024 * 1024


class RunDeadline:
    """The point a whole collection must end by; None seconds means no limit."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds if seconds else float("inf")

    def remaining(self) -> float:
        return self.end - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    def reason(self) -> str:
        return f"not collected: the run's deadline ({self.seconds:g}s) passed"

    def request(self, timeout: float) -> RequestDeadline:
        """A deadline for one request: `timeout` from now, or the run's end when that is sooner."""
        return RequestDeadline(timeout, self)


class RequestDeadline:
    """One request's deadline, as a context manager around the request and the reading of its body."""

    def __init__(self, timeout: float, run: RunDeadline | None = None) -> None:
        now = time.monotonic()
        run_end = run.end if run is not None else float("inf")
        self.by_run = run_end < now + timeout
        self.seconds = run.seconds if (self.by_run and run is not None and run.seconds) else timeout
        self.end = min(now + timeout, run_end)
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._active = False

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def exceeded(self) -> DeadlineExceeded:
        return DeadlineExceeded(self.seconds, self.by_run)

    def check(self) -> None:
        """Raise DeadlineExceeded when the deadline has passed (between chunks, before a request)."""
        if self.expired or self.remaining() <= 0:
            self.expired = True
            raise self.exceeded()

    def __enter__(self) -> RequestDeadline:
        self.check()
        self._active = True
        _local.current = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _local.current = None
        with self._lock:
            self._active = False
            self._conns.clear()
        _WATCHDOG.discard(self)

    def attach(self, conn: Any) -> None:
        with self._lock:
            if self._active:
                self._conns.append(conn)
        if self.expired:
            self.cut()

    def cut(self) -> None:
        """Shut down the sockets of this request's connections: a blocked read returns at once."""
        with self._lock:
            if not self._active:
                return
            self.expired = True
            for conn in self._conns:
                sock = getattr(conn, "sock", None)
                if sock is None:
                    continue
                try:
                    # socket.socket's own shutdown: an SSLSocket's would also drop its TLS state
                    # under the thread reading it
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except (OSError, ValueError):
                    pass


_local = threading.local()


def current() -> RequestDeadline | None:
    return getattr(_local, "current", None)


class _Watchdog:
    """One daemon thread that cuts requests whose deadline passed (and keeps cutting connections
    they open afterwards, until the request gives up)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, RequestDeadline]] = []
        self._expired: set[RequestDeadline] = set()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, d: RequestDeadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (d.end, next(self._seq), d))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="meshreport-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def discard(self, d: RequestDeadline) -> None:
        with self._cond:
            self._expired.discard(d)
            # entries of finished requests are dropped lazily when they come due

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    d = heapq.heappop(self._heap)[2]
                    if d._active:
                        self._expired.add(d)
                self._expired = {d for d in self._expired if d._active}
                todo = list(self._expired)
                timeout = self._heap[0][0] - now if self._heap else None
                if todo:
                    timeout = 0.2 if timeout is None else min(timeout, 0.2)
                    self._cond.release()
                    try:
                        for d in todo:
                            d.cut()
                    finally:
                        self._cond.acquire()
                self._cond.wait(timeout)


_WATCHDOG = _Watchdog()


class _Watched:
    """Attaches each connection a pool hands out to the asking thread's deadline."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        d = current()
        if d is not None:
            d.attach(conn)
        return conn


class _WatchedPool(_Watched, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, HTTPSConnectionPool):
    pass


def guard(pool_manager: urllib3.PoolManager) -> None:
    """Make every connection `pool_manager` hands out watchable by the requesting thread's deadline."""
    pool_manager.clear()
    pool_manager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


def iter_body(resp: Any, deadline: RequestDeadline, limit: int | None = None) -> Iterator[bytes]:
    """The (decoded) body of a urllib3 response in chunks, ending by the deadline and the size limit.

    A read the watchdog cut, or one that fails after the deadline, ends as DeadlineExceeded."""
    limit = max_response_bytes() if limit is None else limit
    total = 0
    try:
        while True:
            deadline.check()
            try:
                chunk = resp.read(CHUNK, decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError, ValueError):
                if deadline.expired or deadline.remaining() <= 0:
                    raise deadline.exceeded() from None
                raise
            if not chunk:
                if deadline.expired:
                    raise deadline.exceeded()  # a cut connection reads as the end of the body
                return
            total += len(chunk)
            if total > limit:
                raise ResponseTooLarge(limit)
            yield chunk
    finally:
        if total > limit or deadline.expired:
            resp.close()


def read_body(resp: Any, deadline: RequestDeadline, limit: int | None = None) -> bytes:
    """The whole body of a urllib3 response, as `iter_body` bounds it."""
    return b"".join(iter_body(resp, deadline, limit))
