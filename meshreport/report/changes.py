"""A Comparison as text, JSON and Markdown (`meshreport diff`, the email body, CI summaries).

Pure functions of a `compare.Comparison`; every name in it came from the cluster, so the
Markdown escapes it and the JSON is data only. Regressions first, then improvements, then the
rest, in every format.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from meshreport.compare import (
    IMPROVEMENT,
    METRIC_TEXT,
    REGRESSION,
    Comparison,
    ConfigChange,
    HealthChange,
    Move,
    MtlsChange,
)
from meshreport.report import format as fmt
from meshreport.report.machine import finding_dict, md_escape, text_line
from meshreport.visible import one_line

FORMATS = ("text", "json", "markdown")
#: Version of the JSON document; bump on incompatible changes.
JSON_SCHEMA_VERSION = 1
MAX_ROWS = 200  # per list in text and Markdown; JSON has everything


def metric_text(metric: str, value: float) -> str:
    if metric == "error_share":
        return fmt.pct(value)
    if metric == "p95":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    return fmt.req_rate(value)


def describe(c: HealthChange | Move | MtlsChange) -> tuple[str, str]:
    """(subject, what happened): (`service bookinfo/ratings`, `health Degraded → Failure`)."""
    where = c.name if "/" in c.name or not c.namespace else f"{c.namespace}/{c.name}"
    if isinstance(c, HealthChange):
        return f"{c.what} {where}", f"health {c.old} → {c.new}"
    if isinstance(c, Move):
        return f"{c.what} {where}", (
            f"{METRIC_TEXT[c.metric]} {metric_text(c.metric, c.old)} → {metric_text(c.metric, c.new)}"
        )
    if c.new <= 0:
        return f"edge {where}", f"became plaintext (mTLS {fmt.pct(c.old)} → 0 %)"
    if c.old <= 0:
        return f"edge {where}", f"mTLS {fmt.pct(c.new)} (was plaintext)"
    return f"edge {where}", f"mTLS {fmt.pct(c.old)} → {fmt.pct(c.new)}"


def change_line(c: HealthChange | Move | MtlsChange) -> str:
    """One regression, improvement or move as a sentence: `service bookinfo/ratings: health Degraded → Failure`."""
    subject, text = describe(c)
    return f"{subject}: {text}"


def config_line(c: ConfigChange) -> str:
    if c.change != "changed":
        return f"{c.ref} {c.change}"
    parts = [f"{f.path}: {f.old or '(absent)'} → {f.new or '(absent)'}" for f in c.fields]
    if c.more_fields:
        parts.append(f"and {c.more_fields} more")
    return f"{c.ref} changed: " + "; ".join(parts)


def sections(c: Comparison) -> list[tuple[str, list[str]]]:
    """(heading, lines) in reading order; empty sections are left out."""
    others = [x for x in (*c.health, *c.moves, *c.mtls) if x.direction not in (REGRESSION, IMPROVEMENT)]
    out: list[tuple[str, list[str]]] = [
        ("Regressions", [change_line(x) for x in c.regressions()]),
        ("Improvements", [change_line(x) for x in c.improvements()]),
    ]
    if c.findings is not None:
        out.append(("New findings", [text_line(f) for f in c.findings.new]))
        out.append(("Resolved findings", [text_line(f) for f in c.findings.resolved]))
    appeared = [p for p in c.presence if p.change == "appeared"]
    gone = [p for p in c.presence if p.change == "disappeared"]
    out.append(("Appeared", [f"{p.what} {_where(p.name, p.namespace)}" for p in appeared]))
    out.append(("Disappeared", [f"{p.what} {_where(p.name, p.namespace)}" for p in gone]))
    out.append(("Other changes", [change_line(x) for x in others]))
    if c.config is not None:
        out.append(("Config changes", [config_line(x) for x in c.config]))
    out.append(("Data gaps", [f"{g.change}: {g.phase} {g.what}{_ns(g.namespace)}: {g.reason}" for g in c.gaps]))
    # every line is about untrusted names: one line each, control characters shown visibly
    return [(h, [one_line(x) for x in lines]) for h, lines in out if lines]


def _where(name: str, ns: str) -> str:
    return name if "/" in name or not ns else f"{ns}/{name}"


def _ns(ns: str) -> str:
    return f" ({ns})" if ns else ""


def headline(c: Comparison) -> str:
    """One line: the counts a reader looks for first."""
    if c.empty:
        return "No changes beyond the thresholds."
    parts = [_count(len(c.regressions()), "regression"), _count(len(c.improvements()), "improvement")]
    if c.findings is not None:
        parts.append(f"{_count(len(c.findings.new), 'new finding')}, {len(c.findings.resolved)} resolved")
    edges = sum(p.what == "edge" for p in c.presence)
    parts.append(f"{_count(edges, 'edge')} appeared or disappeared")
    if c.config is not None:
        parts.append(f"{_count(len(c.config), 'config object')} changed")
    return "; ".join(parts) + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def window_text(c: Comparison) -> str:
    return (
        f"{fmt.timestamp(c.old.start)} – {fmt.timestamp(c.old.end)}  →  "
        f"{fmt.timestamp(c.new.start)} – {fmt.timestamp(c.new.end)}"
    )


def _text(c: Comparison) -> str:
    out = ["What changed", f"  windows: {window_text(c)}", f"  {headline(c)}"]
    for n in c.notes:
        out.append(f"  note: {one_line(n)}")
    for heading, lines in sections(c):
        out.append("")
        out.append(f"{heading} ({len(lines)}):")
        out += [f"  {line}" for line in lines[:MAX_ROWS]]
        if len(lines) > MAX_ROWS:
            out.append(f"  ... and {len(lines) - MAX_ROWS} more (see --format json)")
    return "\n".join(out) + "\n"


def _markdown(c: Comparison) -> str:
    out = ["## meshreport: what changed", "", f"{md_escape(window_text(c))}", "", md_escape(headline(c))]
    for n in c.notes:
        out += ["", f"> note: {md_escape(n)}"]
    for heading, lines in sections(c):
        out += ["", f"### {heading} ({len(lines)})", ""]
        out += [f"- {md_escape(line)}" for line in lines[:MAX_ROWS]]
        if len(lines) > MAX_ROWS:
            out.append(f"- _… and {len(lines) - MAX_ROWS} more (see the JSON output)_")
    return "\n".join(out) + "\n"


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """The whole comparison as JSON-ready data (schema_version 1)."""

    def change(x: HealthChange | Move | MtlsChange) -> dict[str, Any]:
        d: dict[str, Any] = {"what": getattr(x, "what", "edge"), "key": x.key, "name": x.name, "namespace": x.namespace}
        if isinstance(x, HealthChange):
            d.update(type="health", old=x.old, new=x.new)
        elif isinstance(x, Move):
            d.update(type=x.metric, old=x.old, new=x.new)
        else:
            d.update(type="mtls", old=x.old, new=x.new)
        d["direction"] = x.direction
        d["text"] = change_line(x)
        return d

    f = c.findings
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "old": {"start": fmt.iso(c.old.start), "end": fmt.iso(c.old.end), "schema_version": c.old.schema_version},
        "new": {"start": fmt.iso(c.new.start), "end": fmt.iso(c.new.end), "schema_version": c.new.schema_version},
        "graph_type": c.graph_type,
        "thresholds": {k: getattr(c.thresholds, k) for k in c.thresholds.__dataclass_fields__},
        "notes": list(c.notes),
        "empty": c.empty,
        "regressions": [change(x) for x in c.regressions()],
        "improvements": [change(x) for x in c.improvements()],
        "other_changes": [
            change(x) for x in (*c.health, *c.moves, *c.mtls) if x.direction not in (REGRESSION, IMPROVEMENT)
        ],
        "appeared": [_presence(p) for p in c.presence if p.change == "appeared"],
        "disappeared": [_presence(p) for p in c.presence if p.change == "disappeared"],
        "findings": None
        if f is None
        else {
            "new": [finding_dict(x) for x in f.new],
            "resolved": [finding_dict(x) for x in f.resolved],
            "still_open": [finding_dict(x) for x in f.still_open],
        },
        "config": None
        if c.config is None
        else [
            {
                "cluster": x.cluster,
                "kind": x.kind,
                "namespace": x.namespace or None,
                "name": x.name,
                "change": x.change,
                "fields": [{"path": fc.path, "old": fc.old, "new": fc.new} for fc in x.fields],
                "more_fields": x.more_fields,
            }
            for x in c.config
        ],
        "gaps": [
            {"change": g.change, "phase": g.phase, "what": g.what, "namespace": g.namespace or None, "reason": g.reason}
            for g in c.gaps
        ],
    }


def _presence(p: Any) -> dict[str, Any]:
    return {"what": p.what, "key": p.key, "name": p.name, "namespace": p.namespace}


def _json(c: Comparison) -> str:
    return json.dumps(comparison_dict(c), indent=2, ensure_ascii=False) + "\n"


_WRITERS: dict[str, Callable[[Comparison], str]] = {"text": _text, "json": _json, "markdown": _markdown}


def render(c: Comparison, fmt_name: str) -> str:
    try:
        return _WRITERS[fmt_name](c)
    except KeyError:
        raise ValueError(f"unknown format {fmt_name!r}; one of {', '.join(FORMATS)}") from None


def changes_document(c: Comparison, previous: dict[str, Any]) -> dict[str, Any]:
    """A run's `changes.json`: the `diff --format json` document, what it was compared with, and
    the section as the report words it (headline, then titled lists of at most MAX_ROWS lines),
    which the email body shows without re-reading any snapshot."""
    doc = comparison_dict(c)
    doc["previous"] = {k: v for k, v in previous.items() if k in ("run", "baseline")}
    doc["headline"] = headline(c)
    doc["sections"] = [
        {"title": title, "lines": lines[:MAX_ROWS], "more": max(0, len(lines) - MAX_ROWS)}
        for title, lines in sections(c)
    ]
    return doc
