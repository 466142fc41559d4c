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

import math
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import graphviz

from meshreport.errors import InputError
from meshreport.graph.model import Edge, Node, TrafficGraph
from meshreport.report import format as fmt
from meshreport.report.model import LEVELS, edge_status, node_kind

FONT = "DejaVu Sans"
PAD_IN = 0.2  # Graphviz `pad`, inches around the drawing
DOT_MAX_NODES = 300
#: Pictures with more nodes go into the PDF as PNG (vector SVG stays for the site).
PRINT_VECTOR_MAX_NODES = 60
#: Above this many edges, rates move from edge labels into edge tooltips: dot lays each label out
#: as a node of its own, so a 500-edge namespace took 19 s instead of 2, and its labels could not
#: be read anyway (the namespace page's tables carry every rate).
LABEL_MAX_EDGES = 150
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

    @property
    def source(self) -> str:
        return self.dot.source


def _text(value: str) -> str:
    """A plain-text Graphviz label part: backslashes doubled, `&` kept literal."""
    return value.replace("\\", "\\\\").replace("&", "&amp;")


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
        attrs["penwidth"] = "2.2"
    if shape == "triangle":
        attrs["margin"] = "0.02,0.02"
    if shape in ("circle",):
        attrs["fixedsize"] = "false"
    return attrs


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
            lines.append(f"{fmt.pct(edge.error_pct)} err")
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


def _add_nodes(g, graph: TrafficGraph, ids: dict[str, str], nodes: Iterable[Node], focus: str | None, clusters: bool):
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
                sub.node(ids[n.id], label=_label(*_node_lines(n, graph.graph_type)), **_node_attrs(n, level, outside))


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


def graph_picture(graph: TrafficGraph, node_ids: set[str] | None = None, *, focus: str | None = None) -> Picture:
    """The picture of `node_ids` (default: all nodes) and the edges between them."""
    nodes = [n for nid, n in graph.nodes.items() if node_ids is None or nid in node_ids]
    engine = "dot" if len(nodes) <= DOT_MAX_NODES else "sfdp"
    g = _new_digraph("mesh" if focus is None else "namespace", engine)
    ids = {n.id: f"n{i}" for i, n in enumerate(sorted(nodes, key=lambda n: n.id))}
    _add_nodes(g, graph, ids, nodes, focus, clusters=engine == "dot")
    edges = [e for e in sorted(graph.edges.values(), key=lambda e: e.key) if e.source in ids and e.dest in ids]
    labelled = len(edges) <= LABEL_MAX_EDGES
    for e in edges:
        g.edge(ids[e.source], ids[e.dest], **_edge_attrs(e, labelled))
    if not nodes:
        g.node("empty", label="no traffic in this window", shape="plaintext", style="")
    if engine == "dot" and len(nodes) > PRINT_VECTOR_MAX_NODES:
        # Bounded network simplex: dot's exact ranking and placement took most of a big
        # picture's layout time (19 s -> 6 s at 137 nodes) for a layout no one reads that closely.
        g.attr("graph", nslimit="2", nslimit1="2")
    return Picture(g, engine, len(nodes), edge_labels=labelled)


def namespace_picture(graph: TrafficGraph, namespace: str) -> Picture:
    """A namespace's nodes plus their direct neighbours from elsewhere (drawn dashed)."""
    own = {nid for nid, n in graph.nodes.items() if n.namespace == namespace}
    near = set(own)
    for e in graph.edges.values():
        if e.source in own or e.dest in own:
            near.update((e.source, e.dest))
    if len(near) > DOT_MAX_NODES:
        near = own
    return graph_picture(graph, near, focus=namespace)


def mesh_picture(graph: TrafficGraph) -> Picture:
    """The whole mesh; above DOT_MAX_NODES with several namespaces, one node per namespace."""
    namespaces = {n.namespace for n in graph.nodes.values()}
    if len(graph.nodes) > DOT_MAX_NODES and len(namespaces) > 1:
        return namespace_aggregate_picture(graph)
    return graph_picture(graph)


def namespace_aggregate_picture(graph: TrafficGraph) -> Picture:
    """One node per namespace, one edge per (namespace, namespace, protocol) with summed rates."""
    counts: dict[str, int] = {}
    for n in graph.nodes.values():
        counts[n.namespace] = counts.get(n.namespace, 0) + 1
    agg: dict[tuple[str, str, str], Edge] = {}
    for e in graph.edges.values():
        src, dst = graph.nodes.get(e.source), graph.nodes.get(e.dest)
        if src is None or dst is None or src.node_type == "service":
            continue  # service-node edges repeat traffic already counted
        key = (src.namespace, dst.namespace, e.protocol)
        a = agg.setdefault(key, Edge(*key))
        for k, v in e.rates.items():
            a.rates[k] = a.rates.get(k, 0.0) + v
    engine = "dot" if len(counts) <= DOT_MAX_NODES else "sfdp"
    g = _new_digraph("namespaces", engine)
    ids = {ns: f"n{i}" for i, ns in enumerate(sorted(counts))}
    shape, fill, border, _ = SHAPES["namespace"]
    for ns, nid in ids.items():
        g.node(
            nid,
            label=_label(ns or "unknown", f"{counts[ns]} nodes"),
            shape=shape,
            fillcolor=fill,
            color=border,
        )
    for (s, d, _p), e in sorted(agg.items()):
        g.edge(ids[s], ids[d], **_edge_attrs(e))
    return Picture(g, engine, len(counts), aggregated=True)


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


_BB = re.compile(r'\bbb="([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)"')


def _print_dpi(layout: str) -> str:
    """Graphviz's 96 dpi, lowered so that the picture's longest side fits PRINT_PNG_MAX_PX."""
    m = _BB.search(layout)
    if m is None:
        return "96"
    x0, y0, x1, y1 = map(float, m.groups())
    longest_in = max(x1 - x0, y1 - y0, 1.0) / 72.0 + 2 * PAD_IN
    return f"{min(96.0, PRINT_PNG_MAX_PX / longest_in):.1f}"


def _run_layout(engine: str, source: str, outputs: list[str]) -> None:
    # The engine runs as `dot -K<engine>`, as python-graphviz does; only `dot` must be on PATH.
    subprocess.run(["dot", f"-K{engine}", *outputs], input=source.encode(), capture_output=True, check=True)


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
