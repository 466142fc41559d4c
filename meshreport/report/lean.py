"""Where the report's time, memory and bytes are tuned; the rest of report/ stays plain.

A 10,000-workload mesh has ~46,000 edges, ~10,000 trend lines of ~60 points each, and namespace
pages of thousands of table rows. Three things here keep that lean (benchmarks/report_scale.py
measures them):

- `trend_lines`: the trend range queries are summed per workload and per namespace as numpy
  matrices read from the snapshot's packed columns (`QueryResult.table`). Unpacking them into
  `Series` with a tuple per point held ~270 MB for the whole render.
- `edge_rows` / `node_rows`: the body of the big traffic tables written as compact HTML in Python
  (no end tags where HTML allows it, no per-cell classes: CSS aligns the number columns, one
  `data-v` sort key only where the text does not sort: `templates/sort.js` reads the number and
  unit a cell shows). A jinja macro per row took most of the site's time and ~700 bytes per edge
  row; this is under 250. Every value is escaped (cluster names).
- `sparks_html`: a row's sparklines as one inline SVG (collinear points dropped, one <title> for all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from meshreport.snapshot.model import Snapshot

# --- Trend lines -----------------------------------------------------------------------------

#: Labels a trend series is grouped by (collect/queries.py's TREND_BY, destination workload).
TREND_LABELS = ("destination_workload_namespace", "destination_workload")
#: (query key, line, how points of several series at one time combine); p95 takes the highest
#: series at each point: quantiles do not add up.
TREND_QUERIES = (("trend/requests", "requests", "sum"), ("trend/errors", "errors", "sum"), ("trend/p95", "p95", "max"))


class TrendMatrix:
    """Lines on one time axis: `lines[attr][row]` is a float array, NaN where no series had a point."""

    def __init__(self, rows: int, steps: int) -> None:
        self.lines = {attr: np.full((rows, steps), np.nan) for _, attr, _ in TREND_QUERIES}


def trend_lines(
    snapshot: Snapshot, namespaces: Sequence[str]
) -> tuple[dict[tuple[str, str], int], dict[str, int], TrendMatrix, TrendMatrix]:
    """Requests/s, errors/s and p95 (ms) per destination workload and per namespace.

    Returns (workload (namespace, name) -> row, namespace -> row, workload lines, namespace
    lines). A namespace's lines sum every series of its queries; a workload's sum its series from
    any namespace's queries. Points are matched by their timestamp.
    """
    tables = []
    for ns in namespaces:
        for key, attr, how in TREND_QUERIES:
            q = snapshot.query(key, ns)
            if q is None:
                continue
            t = q.table(TREND_LABELS)
            if t.counts is not None:
                tables.append((ns, attr, how, t))
    ns_rows = {ns: i for i, ns in enumerate(dict.fromkeys(ns for ns, *_ in tables))}
    if not tables:
        return {}, ns_rows, TrendMatrix(0, 0), TrendMatrix(0, 0)
    axis = np.unique(np.concatenate([t.times for *_, t in tables]))
    wl_rows: dict[tuple[str, str], int] = {}
    per_table = []
    for ns, attr, how, t in tables:
        series_row = _workload_rows(t, ns, wl_rows)
        per_point = np.repeat(np.arange(len(t.counts)), t.counts)
        per_table.append((ns, attr, how, t, series_row[per_point]))
    steps = len(axis)
    wl, nsm = TrendMatrix(len(wl_rows), steps), TrendMatrix(len(ns_rows), steps)
    sums: dict[tuple[int, str], list] = {}
    for ns, attr, how, t, rows in per_table:
        ok = ~np.isnan(t.points)
        cols = np.searchsorted(axis, t.times[ok])
        values = t.points[ok]
        for target, r in ((wl, rows[ok]), (nsm, np.full(len(values), ns_rows[ns]))):
            flat = r * steps + cols
            if how == "max":
                out = target.lines[attr].reshape(-1)
                np.fmax.at(out, flat, values)
            else:
                acc = sums.setdefault((id(target), attr), [target, np.zeros(target.lines[attr].size), None])
                acc[1] += np.bincount(flat, weights=values, minlength=acc[1].size)
                seen = np.bincount(flat, minlength=acc[1].size) > 0
                acc[2] = seen if acc[2] is None else acc[2] | seen
    for (_, attr), (target, total, seen) in sums.items():
        m = target.lines[attr].reshape(-1)
        m[seen] = total[seen]
    return wl_rows, ns_rows, wl, nsm


def _workload_rows(t: Any, ns: str, rows: dict[tuple[str, str], int]) -> np.ndarray:
    """The workload row of every series of table `t` (new workloads are numbered on the way)."""
    if not len(t.ids):
        return np.zeros(0, dtype=np.intp)
    _, first, number = np.unique(t.ids, axis=0, return_index=True, return_inverse=True)
    number = number.reshape(-1)
    out = np.empty(len(first), dtype=np.intp)
    for g, i in enumerate(first.tolist()):
        wl_ns, wl = t.text(t.ids[i].tolist())
        out[g] = rows.setdefault((ns if wl_ns is None else wl_ns, wl or ""), len(rows))
    return out[number] if len(number) else np.zeros(0, dtype=np.intp)


# --- Sparklines ------------------------------------------------------------------------------


def polyline(xs: Iterable[float], ys: Iterable[float], every_point: bool = False) -> str:
    """SVG polyline points, rounded to whole units, with points on a straight run left out."""
    pts = [(round(x), round(y)) for x, y in zip(xs, ys, strict=True)]
    if every_point:
        return " ".join(f"{x},{y}" for x, y in pts)
    keep = [
        p
        for i, p in enumerate(pts)
        if i in (0, len(pts) - 1)
        or (p[1] - pts[i - 1][1]) * (pts[i + 1][0] - p[0]) != (pts[i + 1][1] - p[1]) * (p[0] - pts[i - 1][0])
    ]
    return " ".join(f"{x},{y}" for x, y in keep)


#: A sparkline's box (sparkline.py draws in it) and the gap between lines drawn side by side.
SPARK_W, SPARK_H, SPARK_GAP = 60, 16, 4


def sparks_html(items: Iterable[Any]) -> Markup:
    """Sparklines side by side as one SVG with one <title> naming them all: a namespace table has a
    row of three per workload, and an <svg> per line cost ~100 bytes more each."""
    lines = list(items)
    if not lines:
        return Markup("")
    width = len(lines) * (SPARK_W + SPARK_GAP) - SPARK_GAP
    body = "".join(
        f'<polyline points="{escape(s.points)}"/>'
        if i == 0
        else f'<polyline transform="translate({i * (SPARK_W + SPARK_GAP)})" points="{escape(s.points)}"/>'
        for i, s in enumerate(lines)
    )
    title = "; ".join(s.text for s in lines)
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {SPARK_H}" width="{width}" height="{SPARK_H}" role="img">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


# --- Big tables ------------------------------------------------------------------------------

#: Status in words and a symbol (never by colour alone); `_macros.html`'s `status` says the same.
STATUS_TEXT = {
    "failure": "✖ Failure",
    "degraded": "▲ Degraded",
    "healthy": "✔ Healthy",
    "idle": "○ Idle",
    "tcp": "◆ TCP",
    "na": "– n/a",
}
#: The status column sorts worst first.
STATUS_ORDER = {"failure": 0, "degraded": 1, "na": 2, "healthy": 3, "tcp": 4, "idle": 5}


def _status(level: str) -> str:
    return f'<span class="status st-{escape(level)}">{escape(STATUS_TEXT.get(level, level))}</span>'


def _ref(ref: Any, root: str, link: bool, here: str | None, current: str | None = None) -> str:
    name = escape(ref.name)
    linked = link and ref.page and ref.page != current  # no link from a page to itself
    out = f'<a href="{escape(root)}{escape(ref.page)}">{name}</a>' if linked else str(name)
    if ref.namespace and ref.namespace != "unknown" and ref.namespace != here:
        out += f' <span class="ns">{escape(ref.namespace)}</span>'
    return out


def edge_rows(
    rows: Iterable[Any],
    root: str,
    link: bool = True,
    compact: bool = False,
    here: str | None = None,
    current: str | None = None,
) -> Markup:
    """The <tbody> rows of a traffic table (`_macros.html` edge_table writes the head).

    `here`: the namespace of the page; its name is not repeated after every node in it.
    `current`: the page's own path; nodes whose page it is are not linked.
    """
    out = []
    for r in rows:
        err4 = f' class="err-{escape(r.level)}"' if r.pct_4xx else ""
        err5 = f' class="err-{escape(r.level)}"' if r.pct_5xx else ""
        dest = _ref(r.dest, root, link, here, current)
        if r.via:
            dest += f' <span class="muted">→ {escape(r.via)}</span>'
        if r.protocol != "http":
            dest += f' <span class="tag">{escape(r.protocol)}</span>'
        if r.change:
            dest += f' <span class="tag tag-change">{escape(r.change)}</span>'
        lat = r.latency_text or {}
        level = escape(r.level)
        status = escape(STATUS_TEXT.get(r.level, r.level))
        cells = [
            f"<tr><td>{_ref(r.source, root, link, here, current)}<td>{dest}",
            f'<td class="st-{level}" data-v="{STATUS_ORDER.get(r.level, 6)}">{status}',
            f"<td>{escape(r.rate_text)}<td{err4}>{escape(r.pct_4xx_text)}<td{err5}>{escape(r.pct_5xx_text)}",
        ]
        cells += [f"<td>{escape(lat.get(q, '–'))}" for q in (("95",) if compact else ("50", "95", "99"))]
        cells.append(f"<td>{escape(r.mtls_text)}")
        if not compact:
            flags = f'<div class="muted">flags {escape(r.flags_text)}</div>' if r.flags_text else ""
            cells.append(f"<td>{escape(r.codes_text)}{flags}")
        out.append("".join(cells) + "</tr>\n")
    return Markup("".join(out))


def unhealthy_rows(items: Iterable[Any], root: str, link: bool = True) -> Markup:
    """The <tbody> rows of a failing-and-degraded list (`_macros.html` unhealthy_table)."""
    out = []
    for u in items:
        name = escape(u.name)
        if link and u.page:
            name = Markup(f'<a href="{escape(root)}{escape(u.page)}">{name}</a>')
        out.append(
            f'<tr><td>{name} <span class="ns">{escape(u.namespace)}</span><td>{escape(u.kind)}'
            f'<td>{_status(u.level)}<td class="reason">{escape(u.reason)}</tr>\n'
        )
    return Markup("".join(out))


def node_rows(rows: Iterable[Any], has_health: bool, trends: bool = True, root: str = "") -> Markup:
    """The <tbody> rows of a namespace's workloads-and-services table (`_macros.html` node_table).

    A node with its own page (`self_page`, report/service_pages.py) has its name linked there. The
    number columns carry no class: the stylesheet aligns them by position (`table.nodes`).
    """
    out = []
    for n in rows:
        name = escape(n.name)
        if n.self_page:
            name = Markup(f'<a href="{escape(root)}{escape(n.self_page)}">{name}</a>')
        cells = [f'<tr><td class="name">{name}<td>{escape(n.kind)}']
        if has_health:
            h = n.health
            if h is None:
                cell = '<span class="muted">n/a</span>'
            elif h.level == "idle":
                cell = f'<span class="muted">{escape(h.text)}</span>'
            else:
                cell = _status(h.level)
            if h is not None and h.reason:
                cell += f'<div class="reason">{escape(h.reason)}</div>'
            if n.change:
                cell += f' <span class="tag tag-change">{escape(n.change)}</span>'
            cells.append(f"<td>{cell}")
        err = f' class="err-{escape(n.level)}"' if n.error_pct else ""
        cells.append(
            f"<td>{escape(n.req_in_text)}<td>{escape(n.req_out_text)}<td>{escape(n.pct_4xx_text)}"
            f"<td{err}>{escape(n.pct_5xx_text)}<td>{escape(n.tcp_text)}"
        )
        if trends:
            cells.append(f'<td class="trend">{sparks_html(n.sparks)}')
        cells.append("<td>" + "".join(f'<span class="tag">{escape(f)}</span>' for f in n.flags))
        out.append("".join(cells) + "\n")
    return Markup("".join(out))


def peer_rows(rows: Iterable[Any], root: str, here: str, peer: str, ns: str) -> Markup:
    """The <tbody> rows of a service page's inbound (`peer` "source") or outbound ("dest") table.

    10,000 pages exist at 10,000 workloads and each edge is on both its ends' pages, so a row is
    the least HTML that still says everything: end tags HTML allows to omit are left out, rates are
    req/s unless a unit says otherwise (the column head says so), and `sort.js` reads the numbers
    and statuses from the cells' text. A link to a page in the same folder (`here`) is just its name.
    """
    out = []
    for r in rows:
        p = r.source if peer == "source" else r.dest
        name = escape(p.name)
        if p.page:
            href = p.page[len(here) :] if p.page.startswith(here) else root + p.page
            cell = f'<a href="{escape(href)}">{name}</a>'
        else:
            cell = str(name)
        if p.namespace != ns and p.namespace != "unknown":
            cell += f' <span class="ns">{escape(p.namespace)}</span>'
        if r.via and peer == "dest":
            cell += f" → {escape(r.via)}"
        if r.protocol != "http":
            cell += f' <span class="tag">{escape(r.protocol)}</span>'
        rate = r.rate_text[:-6] if r.rate_text.endswith(" req/s") else r.rate_text
        lat = r.latency_text or {}
        codes = escape(r.codes_text) + (f"; flags {escape(r.flags_text)}" if r.flags_text else "")
        out.append(
            f"<tr><td>{cell}<td{_trouble_class(r.level)}>{escape(STATUS_TEXT.get(r.level, r.level))}"
            f"<td>{escape(rate)}<td>{escape(r.pct_4xx_text)}<td>{escape(r.pct_5xx_text)}"
            + "".join(f"<td>{escape(lat.get(q, '–'))}" for q in ("50", "95", "99"))
            + f"<td>{escape(r.mtls_text)}<td>{codes}\n"
        )
    return Markup("".join(out))


def _trouble_class(level: str) -> str:
    """A status cell's colour class, for failing and degraded rows only (the text says every status)."""
    return f' class="st-{level}"' if level in ("failure", "degraded") else ""


def finding_rows(rows: Iterable[Any], has_source: bool) -> Markup:
    """The <tbody> rows of a findings table (`_macros.html` findings_table): a namespace of 1,000
    workloads has a row per workload for some codes."""
    out = []
    for f in rows:
        sev = escape(f.severity)
        code = ('<span class="muted">(suppressed)</span> ' if f.suppressed else "") + str(escape(f.code))
        if f.mapped:
            code += f'<div class="muted">{escape(f.mapped)}</div>'
        source = f'<td class="mono">{escape(f.source)}' if has_source else ""
        out.append(
            f'<tr><td><span class="badge sev-{sev}">{sev}</span><td class="mono">{code}'
            f"<td>{escape(f.object_ref)}<td>{escape(f.message)}{source}\n"
        )
    return Markup("".join(out))


def finding_items(rows: Iterable[Any]) -> Markup:
    """A service page's findings as list items: severity, code, object and message on one line."""
    out = []
    for f in rows:
        sev = escape(f.severity)
        code = escape(f.code) + (f" ({escape(f.mapped)})" if f.mapped else "")
        source = f' <span class="mono">{escape(f.source)}</span>' if f.source else ""
        out.append(
            f'<li><span class="badge sev-{sev}">{sev}</span> <code>{code}</code> '
            f"{escape(f.object_ref)}: {escape(f.message)}{source}\n"
        )
    return Markup("".join(out))
