"""Topology pictures: DOT built from the traffic graph, laid out by the real Graphviz.

Every label comes from the cluster, so each one goes through `_text()`: python-graphviz treats a
string that starts with `<` and ends with `>` as an HTML-like label, and Graphviz itself reads
backslash escapes and `&` entities in labels. Nodes get short synthetic ids (n0, n1, ...), so
no cluster value is ever used as a DOT identifier.

Big-graph strategy (benchmarks/report_scale.py measures it): `dot` up to DOT_MAX_NODES nodes; above that a
whole-mesh picture becomes one node per namespace, and a single big namespace is drawn with
`sfdp` and straight edges (dot fails at about 2000 nodes).
"""

from __future__ import annotations

import html
import math
import re
import subprocess
import xml.parsers.expat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from meshreport.errors import InputError
from meshreport.graph.model import Edge, Node, TrafficGraph
from meshreport.report import format as fmt
from meshreport.report.model import LEVELS, edge_status, node_kind
from meshreport.visible import one_line

FONT = "DejaVu Sans"
PAD_IN = 0.2  # Graphviz `pad`, inches around the drawing
DOT_MAX_NODES = 300
#: Pictures with more nodes go into the PDF as PNG (vector SVG stays for the site).
PRINT_VECTOR_MAX_NODES = 60
#: Above this many edges, rates move from edge labels into edge tooltips: dot lays each label out
#: as a node of its own, so a 500-edge namespace took 19 s instead of 2, and its labels could not
#: be read anyway (the namespace page's tables carry every rate).
LABEL_MAX_EDGES = 150
#: Above this many edges a picture shows the busiest and the most failing ones only (and their
#: nodes), and says what it left out: a 450-edge namespace is unreadable and took 3 s to lay out.
PICTURE_MAX_EDGES = 120
#: Of PICTURE_MAX_EDGES, how many are chosen by error share (the rest by traffic).
PICTURE_ERROR_EDGES = 40
#: A reduced namespace picture also keeps its failing and degraded nodes without a kept edge, up
#: to this many, failing first (at 10,000 workloads, 500 such nodes made a 600-node picture).
PICTURE_UNHEALTHY_NODES = 40
#: The longest side of a print PNG: enough for a PDF page at print resolution (a 100-inch
#: namespace picture at 96 dpi was a 13 MB PNG, and a 120 MB PDF for ten namespaces).
PRINT_PNG_MAX_PX = 2400

#: Colours per level (PatternFly palette, as Kiali uses).
COLORS = {
    "failure": "#c9190b",
    "degraded": "#f0ab00",
    "healthy": "#3e8635",
    "idle": "#8a8d90",
    "tcp": "#0066cc",
    "na": "#8a8d90",
}

#: Status never by colour alone: a node's (and an error edge's) label starts with its status symbol (the
#: tables' symbols, report/lean.py STATUS_TEXT) and a failing node has a double border.
GLYPHS = {"failure": "✖", "degraded": "▲", "healthy": "✔"}
#: (what the picture legend says) per level, after the symbol.
NODE_STATUS_LEGEND = (
    ("failure", "Failure: red double border"),
    ("degraded", "Degraded: amber border"),
    ("healthy", "Healthy: green border"),
)

#: (shape, fill, border, extra style) per node kind; the legend in the report shows the same.
SHAPES: dict[str, tuple[str, str, str, str]] = {
    "app": ("ellipse", "#e7f1fa", "#2b9af3", ""),
    "workload": ("box", "#e7f1fa", "#2b9af3", "rounded"),
    "gateway": ("box", "#f2f0fc", "#6753ac", "rounded"),
    "service": ("triangle", "#f0f0f0", "#4f5255", ""),
    "service entry": ("diamond", "#fdf7e7", "#c58c00", ""),
    "egress": ("octagon", "#fdf7e7", "#c58c00", ""),
    "unknown source": ("circle", "#ffffff", "#6a6e73", "dashed"),
    "operation": ("pentagon", "#f0f0f0", "#4f5255", ""),
    "namespace": ("box3d", "#e7f1fa", "#2b9af3", ""),
}


class GraphvizMissingError(InputError):
    """Graphviz's `dot` is not installed; exit code 5 like every other missing input."""


@dataclass(frozen=True)
class Picture:
    """A DOT graph and the Graphviz engine that should lay it out."""

    dot: graphviz.Digraph
    engine: str
    nodes: int
    aggregated: bool = False
    #: False when there were too many edges to label (rates are in the edge tooltips then).
    edge_labels: bool = True
    #: Edges and nodes left out to keep the picture readable (the tables list them all).
    edges_total: int = 0
    edges_omitted: int = 0
    nodes_omitted: int = 0
    #: Our DOT id (n0, n1, ...) -> what the SVG <title> (the browser's tooltip) says instead.
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.dot.source


def _text(value: str) -> str:
    """A plain-text Graphviz label part: control characters shown visibly (`\\x1b`; Graphviz would copy
    them into the SVG, which is then not XML), backslashes doubled, `&` kept literal."""
    return one_line(value).replace("\\", "\\\\").replace("&", "&amp;")


def _label(*lines: str) -> graphviz.quoting.NoHtml:
    """Join escaped lines with DOT's centred line break, never as an HTML-like label."""
    return graphviz.nohtml("\\n".join(_text(line) for line in lines if line))


def _new_digraph(name: str, engine: str) -> graphviz.Digraph:
    g = graphviz.Digraph(name=name, engine=engine)
    g.attr("graph", fontname=FONT, fontsize="11", bgcolor="white", pad=str(PAD_IN), outputorder="edgesfirst")
    if engine == "dot":
        g.attr("graph", rankdir="LR", nodesep="0.3", ranksep="0.7", newrank="true")
    else:
        g.attr("graph", overlap="prism", splines="false", K="1.2")
    g.attr("node", fontname=FONT, fontsize="10", style="filled", penwidth="1.4", margin="0.12,0.05")
    g.attr("edge", fontname=FONT, fontsize="8", arrowsize="0.6", penwidth="1.2")
    return g


def _node_attrs(node: Node, level: str | None, outside: bool) -> dict[str, str]:
    kind = node_kind(node)
    shape, fill, border, extra = SHAPES.get(kind, SHAPES["workload"])
    styles = ["filled"] + ([extra] if extra else []) + (["dashed"] if outside and "dashed" != extra else [])
    attrs = {"shape": shape, "fillcolor": fill, "color": border, "style": ",".join(styles)}
    if level in ("failure", "degraded", "healthy"):
        attrs["color"] = COLORS[level]
        attrs["penwidth"] = "1.4" if level == "healthy" else "2.2"
    if level == "failure":
        attrs["peripheries"] = "2"
    if shape == "triangle":
        attrs["margin"] = "0.02,0.02"
    if shape in ("circle",):
        attrs["fixedsize"] = "false"
    return attrs


def _with_glyph(lines: list[str], level: str | None) -> list[str]:
    """`lines` with the status symbol before the first one (nothing for no verdict)."""
    glyph = GLYPHS.get(level or "")
    return [f"{glyph} {lines[0]}", *lines[1:]] if glyph and lines else lines


def _node_lines(node: Node, graph_type: str) -> list[str]:
    if node.node_type == "unknown":
        return ["unknown"]
    if node.node_type == "app" and node.version and graph_type == "versionedApp":
        return [node.app or node.workload, node.version]
    return [node.label]


def _edge_attrs(edge: Edge, labelled: bool = True) -> dict[str, str]:
    level = edge_status(edge)
    if edge.protocol == "tcp":
        lines = [fmt.byte_rate(edge.total)]
    else:
        lines = [f"{fmt.rate(edge.total)} rps"]
        if edge.errors > 0:
            glyph = GLYPHS.get(level) if level in ("failure", "degraded") else None
            lines.append(f"{glyph} {fmt.pct(edge.error_pct)} err" if glyph else f"{fmt.pct(edge.error_pct)} err")
    width = 1.0 + min(2.5, math.log10(1 + edge.total) / 1.5) if edge.protocol != "tcp" else 1.4
    attrs = {
        ("label" if labelled else "tooltip"): _label(*lines),
        "color": COLORS[level],
        "fontcolor": COLORS[level] if level in ("failure", "degraded") else "#383838",
        "penwidth": f"{width:.1f}",
    }
    if edge.protocol == "tcp":
        attrs["style"] = "dashed"
    if edge.total <= 0:
        attrs["style"] = "dotted"
    return attrs


def _add_nodes(
    g,
    graph: TrafficGraph,
    ids: dict[str, str],
    nodes: Iterable[Node],
    focus: str | None,
    clusters: bool,
    links: dict[str, str] | None = None,
):
    by_ns: dict[str, list[Node]] = {}
    for n in nodes:
        by_ns.setdefault(n.namespace, []).append(n)
    for i, (ns, members) in enumerate(sorted(by_ns.items())):
        boxed = clusters and ns not in ("", "unknown")
        target = g.subgraph(name=f"cluster_{i}") if boxed else _Same(g)
        with target as sub:
            if boxed:
                outside = focus is not None and ns != focus
                sub.attr(
                    label=_label(ns if not outside else f"{ns} (other namespace)"),
                    style="rounded,dashed" if outside else "rounded",
                    color="#b8bbbe",
                    fontcolor="#4f5255",
                    labeljust="l",
                )
            for n in sorted(members, key=lambda n: (n.node_type, n.label)):
                level = _health_level(n)
                outside = focus is not None and n.namespace != focus
                extra = {}
                if links and n.id in links:
                    # The node's page, relative to the SVG's folder; `_top` so that a picture shown in
                    # an <object> opens the page in the window, not inside the picture's frame.
                    extra = {"URL": _text(links[n.id]), "target": "_top",
                             "tooltip": _label(_node_title(n, graph.graph_type))}  # fmt: skip
                lines = _with_glyph(_node_lines(n, graph.graph_type), level)
                sub.node(
                    ids[n.id],
                    label=_label(*lines),
                    id=ids[n.id],
                    **_node_attrs(n, level, outside),
                    **extra,
                )


class _Same:
    """Context manager that yields the graph itself (a node outside any cluster)."""

    def __init__(self, g: graphviz.Digraph) -> None:
        self.g = g

    def __enter__(self) -> graphviz.Digraph:
        return self.g

    def __exit__(self, *exc: object) -> None:
        return None


def _health_level(node: Node) -> str | None:
    h = node.health
    if h is None:
        return None
    status = str(getattr(getattr(h, "status", h), "value", getattr(h, "status", h)))
    return {"Failure": "failure", "Degraded": "degraded", "Healthy": "healthy"}.get(status)


def _readable_edges(edges: list[Edge]) -> list[Edge]:
    """At most PICTURE_MAX_EDGES: the most failing (by error share) and then the busiest."""
    if len(edges) <= PICTURE_MAX_EDGES:
        return edges
    failing = sorted((e for e in edges if e.errors > 0), key=lambda e: (-e.error_pct, -e.total))
    keep = {id(e) for e in failing[:PICTURE_ERROR_EDGES]}
    for e in sorted(edges, key=lambda e: -e.total):
        if len(keep) >= PICTURE_MAX_EDGES:
            break
        keep.add(id(e))
    return [e for e in edges if id(e) in keep]


def _worst_nodes(nodes: list[Node], focus: str, shown: set[str]) -> set[str]:
    """Up to PICTURE_UNHEALTHY_NODES failing, then degraded nodes of `focus` not shown yet."""
    rank = {"failure": 0, "degraded": 1}
    bad = [n for n in nodes if n.namespace == focus and n.id not in shown and _health_level(n) in rank]
    bad.sort(key=lambda n: (rank[_health_level(n) or ""], -float(getattr(n.health, "error_ratio", 0) or 0), n.id))
    return {n.id for n in bad[:PICTURE_UNHEALTHY_NODES]}


def _node_title(n: Node, graph_type: str) -> str:
    lines = " ".join(_node_lines(n, graph_type))
    where = f" ({n.namespace})" if n.namespace and n.namespace != "unknown" else ""
    status = _health_level(n)
    return f"{lines}{where}: {node_kind(n)}" + (f", {status}" if status else "")


def _edge_title(e: Edge, names: dict[str, str]) -> str:
    if e.protocol == "tcp":
        numbers = fmt.byte_rate(e.total)
    else:
        numbers = f"{fmt.req_rate(e.total)}, {fmt.pct(e.error_pct)} errors"
        rt = (e.metadata.get("responseTimes") or {}).get("95")
        if rt is not None:
            numbers += f", p95 {fmt.ms(rt)}"
    return f"{names.get(e.source, '?')} → {names.get(e.dest, '?')} ({e.protocol}): {numbers}"


def graph_picture(
    graph: TrafficGraph,
    node_ids: set[str] | None = None,
    *,
    focus: str | None = None,
    links: dict[str, str] | None = None,
) -> Picture:
    """The picture of `node_ids` (default: all nodes) and the edges between them; above
    PICTURE_MAX_EDGES edges, the most failing and busiest ones and the nodes they join.
    `links`: node id -> the URL (relative to the SVG) a click on the node opens."""
    nodes = [n for nid, n in graph.nodes.items() if node_ids is None or nid in node_ids]
    wanted = {n.id for n in nodes}
    all_edges = [
        e for e in sorted(graph.edges.values(), key=lambda e: e.key) if e.source in wanted and e.dest in wanted
    ]
    edges = _readable_edges(all_edges)
    omitted_nodes = 0
    if len(edges) < len(all_edges):
        ends = {e.source for e in edges} | {e.dest for e in edges}
        if focus is not None:
            ends |= _worst_nodes(nodes, focus, ends)
        omitted_nodes = len(nodes) - len([n for n in nodes if n.id in ends])
        nodes = [n for n in nodes if n.id in ends]
    engine = "dot" if len(nodes) <= DOT_MAX_NODES else "sfdp"
    g = _new_digraph("mesh" if focus is None else "namespace", engine)
    ids = {n.id: f"n{i}" for i, n in enumerate(sorted(nodes, key=lambda n: n.id))}
    _add_nodes(g, graph, ids, nodes, focus, clusters=engine == "dot", links=links)
    names = {n.id: " ".join(_node_lines(n, graph.graph_type)) for n in nodes}
    titles = {ids[n.id]: _node_title(n, graph.graph_type) for n in nodes}
    labelled = len(edges) <= LABEL_MAX_EDGES
    for i, e in enumerate(edges):
        eid = f"e{i}"
        titles[eid] = _edge_title(e, names)
        g.edge(ids[e.source], ids[e.dest], id=eid, **_edge_attrs(e, labelled))
    if not nodes:
        g.node("empty", label="no traffic in this window", shape="plaintext", style="")
    if engine == "dot" and len(nodes) > PRINT_VECTOR_MAX_NODES:
        # Bounded network simplex: dot's exact ranking and placement took most of a big
        # picture's layout time (19 s -> 6 s at 137 nodes) for a layout no one reads that closely.
        g.attr("graph", nslimit="2", nslimit1="2")
    return Picture(
        g,
        engine,
        len(nodes),
        edge_labels=labelled,
        edges_total=len(all_edges),
        edges_omitted=len(all_edges) - len(edges),
        nodes_omitted=omitted_nodes,
        titles=titles,
    )


def namespace_picture(graph: TrafficGraph, namespace: str, links: dict[str, str] | None = None) -> Picture:
    """A namespace's nodes plus their direct neighbours from elsewhere (drawn dashed)."""
    own = {nid for nid, n in graph.nodes.items() if n.namespace == namespace}
    near = set(own)
    for e in graph.edges.values():
        if e.source in own or e.dest in own:
            near.update((e.source, e.dest))
    if len(near) > DOT_MAX_NODES:
        near = own
    return graph_picture(graph, near, focus=namespace, links=links)


def mesh_picture(graph: TrafficGraph, links: dict[str, str] | None = None) -> Picture:
    """The whole mesh; above DOT_MAX_NODES with several namespaces, one node per namespace."""
    namespaces = {n.namespace for n in graph.nodes.values()}
    if len(graph.nodes) > DOT_MAX_NODES and len(namespaces) > 1:
        return namespace_aggregate_picture(graph)
    return graph_picture(graph, links=links)


def namespace_aggregate_picture(graph: TrafficGraph) -> Picture:
    """One box per namespace, one edge per (namespace, namespace, protocol) with summed rates.

    Boxes and edges keep what a reader needs at this level: the box's border is the worst health
    of the namespace's nodes and its label says nodes, requests and error share; an edge's colour
    is the worst health of the edges it sums, its label the summed rate and error share.
    """
    counts: dict[str, int] = {}
    worst: dict[str, str] = {}
    for n in graph.nodes.values():
        counts[n.namespace] = counts.get(n.namespace, 0) + 1
        worst[n.namespace] = _worse(worst.get(n.namespace), _health_level(n))
    agg: dict[tuple[str, str, str], Edge] = {}
    inbound: dict[str, list[float]] = {}
    for e in graph.edges.values():
        src, dst = graph.nodes.get(e.source), graph.nodes.get(e.dest)
        if src is None or dst is None or src.node_type == "service":
            continue  # service-node edges repeat traffic already counted
        key = (src.namespace, dst.namespace, e.protocol)
        a = agg.setdefault(key, Edge(*key))
        for k, v in e.rates.items():
            a.rates[k] = a.rates.get(k, 0.0) + v
        level = edge_status(e)
        a.metadata["healthStatus"] = _STATUS_OF[_worse(_LEVEL_OF.get(a.metadata.get("healthStatus")), level)]
        if e.protocol != "tcp":
            acc = inbound.setdefault(dst.namespace, [0.0, 0.0])
            acc[0] += e.total
            acc[1] += e.errors
    engine = "dot" if len(counts) <= DOT_MAX_NODES else "sfdp"
    g = _new_digraph("namespaces", engine)
    ids = {ns: f"n{i}" for i, ns in enumerate(sorted(counts))}
    shape, fill, border, _ = SHAPES["namespace"]
    titles: dict[str, str] = {}
    for ns, nid in ids.items():
        req, err = inbound.get(ns, [0.0, 0.0])
        traffic = f"{fmt.rate(req)} rps in, {fmt.pct(err / req * 100.0)} err" if req > 0 else "no requests in"
        level = worst.get(ns)
        attrs = {"color": COLORS[level], "penwidth": "2.4"} if level else {"color": border}
        if level == "failure":
            attrs["peripheries"] = "2"
        name = ns or "unknown"
        g.node(nid, label=_label(*_with_glyph([name], level), f"{counts[ns]} nodes", traffic), shape=shape,
               fillcolor=fill, id=nid, **attrs)  # fmt: skip
        titles[nid] = f"namespace {ns or 'unknown'}: {counts[ns]} nodes, {traffic}" + (f", {level}" if level else "")
    names = {ns: f"namespace {ns or 'unknown'}" for ns in ids}
    for i, ((s_ns, d_ns, _p), e) in enumerate(sorted(agg.items())):
        eid = f"e{i}"
        titles[eid] = _edge_title(Edge(s_ns, d_ns, e.protocol, e.rates, {}, {}), names)
        g.edge(ids[s_ns], ids[d_ns], id=eid, **_edge_attrs(e))
    return Picture(g, engine, len(counts), aggregated=True, edges_total=len(agg), titles=titles)


_RANK = {None: 0, "healthy": 1, "degraded": 2, "failure": 3}
_LEVEL_OF = {"Failure": "failure", "Degraded": "degraded", "Healthy": "healthy"}
_STATUS_OF = {None: None, "healthy": "Healthy", "degraded": "Degraded", "failure": "Failure"}


def _worse(a: str | None, b: str | None) -> str | None:
    """The worse of two health levels (failure > degraded > healthy > none); others count as none."""
    a = a if a in _RANK else None
    b = b if b in _RANK else None
    return a if _RANK[a] >= _RANK[b] else b


def render_svg(picture: Picture) -> bytes:
    """Lay out with the real Graphviz; a failed `dot` layout falls back to `sfdp`."""
    try:
        return picture.dot.pipe(format="svg", engine=picture.engine)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissingError(
            "Graphviz is not installed (no 'dot' on PATH); install it, e.g. 'apt-get install graphviz'"
        ) from None
    except (subprocess.CalledProcessError, graphviz.CalledProcessError):
        if picture.engine == "sfdp":
            raise
        picture.dot.attr("graph", overlap="prism", splines="false")
        return picture.dot.pipe(format="svg", engine="sfdp")


def render_files(picture: Picture, svg_path: Path, png_path: Path | None = None) -> None:
    """Lay out once and write the SVG and, when asked, a PNG drawn from that same layout.

    The PNG is drawn from the laid-out graph (`-Tdot`, then `neato -n2`, which keeps every
    position) at a resolution that bounds its longest side by PRINT_PNG_MAX_PX.
    """
    positioned = svg_path.with_suffix(".layout.dot") if png_path else None
    outputs = ["-Tsvg", "-o", str(svg_path)] + (["-Tdot", "-o", str(positioned)] if positioned else [])
    try:
        try:
            _run_layout(picture.engine, picture.source, outputs)
        except subprocess.CalledProcessError:
            if picture.engine == "sfdp":
                raise
            picture.dot.attr("graph", overlap="prism", splines="false")
            _run_layout("sfdp", picture.source, outputs)
        if picture.titles:
            _retitle(svg_path, picture.titles)
        if png_path is not None and positioned is not None:
            layout = positioned.read_text()
            _run_layout("neato", layout, ["-n2", f"-Gdpi={_print_dpi(layout)}", "-Tpng", "-o", str(png_path)])
    except FileNotFoundError:
        raise GraphvizMissingError(
            "Graphviz is not installed (no 'dot' on PATH); install it, e.g. 'apt-get install graphviz'"
        ) from None
    finally:
        if positioned is not None:
            positioned.unlink(missing_ok=True)


_COMMENT = re.compile(r"<!-- .*? -->\n")
_TITLE = re.compile(r'<g id="([ne]\d+)" class="(node|edge)">\n<title>[^<]*</title>')


def _retitle(svg_path: Path, titles: dict[str, str]) -> None:
    """Graphviz titles a node or edge with its DOT id (`n17`, `n3->n9`), which is what a browser's
    tooltip shows; say the workload and its numbers instead (escaped: names come from the cluster)."""
    text = svg_path.read_text(encoding="utf-8")

    def sub(m: re.Match[str]) -> str:
        title = titles.get(m.group(1))
        if title is None:
            return m.group(0)
        return f'<g id="{m.group(1)}" class="{m.group(2)}">\n<title>{html.escape(one_line(title), quote=False)}</title>'

    text = _COMMENT.sub("", text)  # Graphviz's `<!-- n0&#45;&gt;n1 -->` before every node and edge
    svg_path.write_text(_TITLE.sub(sub, text), encoding="utf-8")


_BB = re.compile(r'\bbb="([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)"')


def _print_dpi(layout: str) -> str:
    """Graphviz's 96 dpi, lowered so that the picture's longest side fits PRINT_PNG_MAX_PX."""
    m = _BB.search(layout)
    if m is None:
        return "96"
    x0, y0, x1, y1 = map(float, m.groups())
    longest_in = max(x1 - x0, y1 - y0, 1.0) / 72.0 + 2 * PAD_IN
    return f"{min(96.0, PRINT_PNG_MAX_PX / longest_in):.1f}"


def well_formed(svg_path: Path) -> bool:
    """Whether the SVG Graphviz wrote is XML a browser and WeasyPrint will draw (streamed, so a big
    picture is not held twice)."""
    parser = xml.parsers.expat.ParserCreate()
    try:
        with svg_path.open("rb") as f:
            parser.ParseFile(f)
    except (xml.parsers.expat.ExpatError, OSError):
        return False
    return True


def unavailable_svg(svg_path: Path, why: str) -> None:
    """A small SVG that says the picture could not be drawn and why, in place of the picture: the
    site and the PDF show it where the picture would be, instead of a broken image."""
    text = html.escape(one_line(why)[:200], quote=False)
    svg_path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="80" viewBox="0 0 640 80">'
        '<rect width="640" height="80" fill="#fdf3f2" stroke="#c9190b"/>'
        f'<text x="16" y="32" font-family="{FONT}" font-size="14" fill="#2e3133">'
        "This picture could not be drawn.</text>"
        f'<text x="16" y="56" font-family="{FONT}" font-size="11" fill="#4f5255">{text}</text></svg>\n',
        encoding="utf-8",
    )


def _run_layout(engine: str, source: str, outputs: list[str]) -> None:
    # The engine runs as `dot -K<engine>`, as python-graphviz does; only `dot` must be on PATH.
    subprocess.run(["dot", f"-K{engine}", *outputs], input=source.encode(), capture_output=True, check=True)


def legend_statuses() -> list[tuple[str, str, str]]:
    """(level, symbol, text) for the picture legend's node statuses, worst first."""
    return [(level, GLYPHS[level], text) for level, text in NODE_STATUS_LEGEND]


def legend_shapes() -> list[tuple[str, str]]:
    """(kind, shape) pairs in the order the report's legend lists them."""
    return [(kind, shape) for kind, (shape, *_rest) in SHAPES.items()]


__all__ = [
    "COLORS",
    "DOT_MAX_NODES",
    "LEVELS",
    "GraphvizMissingError",
    "Picture",
    "graph_picture",
    "mesh_picture",
    "namespace_aggregate_picture",
    "namespace_picture",
    "render_files",
    "render_svg",
]
