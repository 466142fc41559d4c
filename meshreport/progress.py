"""Progress for long collections: a bar on a terminal, one log line per phase otherwise.

A CronJob's log is read the next morning, so without a TTY every phase ends in exactly one line
with its counts and duration (`meshreport: queries: 240 run, 2 gaps, 1210 series in 3.4s`); a
person at a terminal gets a progress bar over the queries instead of silence.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

#: Seconds between two progress lines of a long phase in a log (no terminal).
STATUS_EVERY = 10.0


class Phase:
    """One running phase: advance the bar, attach counts for the summary line."""

    def __init__(self, name: str, total: int | None, bar: Any | None) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.counts: dict[str, Any] = {}
        self._bar = bar
        self._log: IO[str] | None = None  # set by Progress for a log (no terminal)
        self.started = time.monotonic()
        self._last_status = self.started
        self.duration = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def note(self, **counts: Any) -> None:
        self.counts.update(counts)

    def status(self, text: str) -> None:
        """What the phase is at besides its count (e.g. bytes read): shown next to the bar on a
        terminal, and in a `done/total` line at most every STATUS_EVERY seconds in a log."""
        now = time.monotonic()
        if self._bar is not None:
            self._bar.label = f"meshreport: {self.name} ({text})"
        elif self._log is not None and now - self._last_status >= STATUS_EVERY:
            total = f"/{self.total}" if self.total is not None else ""
            click.echo(
                f"meshreport: {self.name}: {self.done}{total} done, {text}, {now - self.started:.0f}s", file=self._log
            )
        else:
            return
        self._last_status = now


class Progress:
    """Reports phases to `stream` (stderr). `tty=None` asks the stream; `quiet` prints nothing."""

    def __init__(self, stream: IO[str] | None = None, *, tty: bool | None = None, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.quiet = quiet
        self.phases: list[Phase] = []

    @contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[Phase]:
        bar_cm = None
        if self.tty and not self.quiet and total:
            bar_cm = click.progressbar(length=total, label=f"meshreport: {name}", file=self.stream, show_pos=True)
        bar = bar_cm.__enter__() if bar_cm is not None else None
        ph = Phase(name, total, bar)
        if bar is None and not self.quiet and not self.tty:
            ph._log = self.stream
        try:
            yield ph
        finally:
            if bar_cm is not None:
                bar_cm.__exit__(None, None, None)
            ph.duration = time.monotonic() - ph.started
            self.phases.append(ph)
        if not self.quiet and (not self.tty or bar_cm is None or ph.counts):
            click.echo(self.line(ph), file=self.stream)

    @staticmethod
    def line(ph: Phase) -> str:
        parts = [
            f"{k.replace('_', ' ')} {v}" if isinstance(v, str) else f"{v} {k.replace('_', ' ')}"
            for k, v in ph.counts.items()
        ]
        if not parts and ph.total is not None:
            parts = [f"{ph.done}/{ph.total}"]
        return f"meshreport: {ph.name}: {', '.join(parts) or 'done'} in {ph.duration:.1f}s"

    def warn(self, message: str) -> None:
        """Warnings are always shown, also in quiet mode: they are about safety (e.g. skip-verify)."""
        click.echo(f"meshreport: warning: {message}", file=self.stream)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
