"""Progress: a bar on a terminal, exactly one line per phase without one, nothing when quiet."""

from __future__ import annotations

import io

from meshreport.progress import Progress


def test_no_tty_one_line_per_phase_with_counts_and_duration():
    buf = io.StringIO()
    p = Progress(buf, tty=False)
    with p.phase("connect") as ph:
        ph.note(prometheus="2.42.0")
    with p.phase("queries", total=3) as ph:
        for _ in range(3):
            ph.advance()
        ph.note(queries=3, gaps=1)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("meshreport: connect: prometheus 2.42.0 in ")
    assert lines[1].startswith("meshreport: queries: 3 queries, 1 gaps in ") and lines[1].endswith("s")
    assert [ph.name for ph in p.phases] == ["connect", "queries"] and p.phases[1].done == 3


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_tty_shows_a_bar_and_quiet_shows_only_warnings():
    buf = Terminal()
    p = Progress(buf)  # asks the stream: a terminal
    with p.phase("queries", total=4) as ph:
        for _ in range(4):
            ph.advance()
    out = buf.getvalue()
    assert "meshreport: queries" in out and "4/4" in out

    buf = io.StringIO()
    p = Progress(buf, tty=False, quiet=True)
    with p.phase("queries", total=2) as ph:
        ph.advance(2)
    p.warn("TLS certificate is not verified")
    assert buf.getvalue() == "meshreport: warning: TLS certificate is not verified\n"
