"""Number and time formatting shared by tables, pictures and the PDF, so they always agree."""

from __future__ import annotations

from datetime import datetime, timezone


def rate(value: float) -> str:
    """A request rate: 2 decimals, more below 1 so one significant digit shows (Kiali's rule)."""
    if value == 0:
        return "0"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    decimals = 2
    while decimals < 5 and round(value, decimals) == 0:
        decimals += 1
    return f"{value:.{decimals}f}"


def req_rate(value: float) -> str:
    return f"{rate(value)} req/s"


def byte_rate(value: float) -> str:
    """Bytes per second with binary-free SI units (what people read on dashboards)."""
    for unit, scale in (("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B/s"


def byte_count(value: float) -> str:
    """A number of bytes with SI units, as byte_rate."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B"


def pct(value: float | None) -> str:
    """Percentages as Kiali prints them (`%.1f`); tiny non-zero shares are not shown as 0.0."""
    if value is None:
        return "–"
    if value == 0:
        return "0 %"
    if value < 0.1:
        return "<0.1 %"
    return f"{value:.1f} %"


def timestamp(unix: float) -> str:
    return datetime.fromtimestamp(unix, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    """`1h`, `2h 30m`, `7d`, `45s`: the way people name windows."""
    s = int(round(seconds))
    if s <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return " ".join(parts[:2])


def ms(value: float) -> str:
    """A latency: whole milliseconds from 10 ms, one decimal below, seconds from 1 s."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"
