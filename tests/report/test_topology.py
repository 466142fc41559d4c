"""Topology pictures made by the real Graphviz: shapes, colours, labels and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from report_mesh import EVIL, QUOTE_AMP, build_small_graph, build_small_graph_with_health

from meshreport.graph.model import Node, TrafficGraph
from meshreport.report import topology
from meshreport.report.topology import COLORS, GraphvizMissingError

SVG = "{http://www.w3.org/2000/svg}"


def _svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _node_attrs(source: str, label: str) -> str:
    bare = label.strip('"')
    labels = (f"label={label}", f'label="{label}"', *(f'label="{g} {bare}' for g in "✖▲✔"))  # status symbol
    line = next(ln for ln in source.splitlines() if any(x in ln for x in labels))
    return line


def test_mesh_svg_names_every_node_and_labels_edges():
    svg = topology.render_svg(topology.mesh_picture(build_small_graph()))
    texts = _svg_texts(svg)
    for name in ("unknown", "ingress-gw", "web-v1", "api-v1", "orders-db", "api", "shop", "edge"):
        assert name in texts
    assert "42.50 rps" in texts and "1.2 % err" in texts
    assert "20.00 rps" in texts and "10.0 % err" in texts
    assert "12.3 kB/s" in texts  # TCP edges show bytes per second


def test_hostile_names_are_text_in_the_svg_never_markup():
    svg = topology.render_svg(topology.mesh_picture(build_small_graph()))
    texts = _svg_texts(svg)
    assert EVIL in texts
    assert QUOTE_AMP in texts
    raw = svg.decode()
    assert "<script" not in raw and "<b>" not in raw
    assert "&lt;script&gt;" in raw


def test_dot_source_never_uses_html_like_labels_or_cluster_values_as_ids():
    pic = topology.mesh_picture(build_small_graph())
    src = pic.source
    assert f'label="{EVIL}"' in src  # quoted string, not label=<...>
    assert "label=<" not in src
    assert 'label="say \\"hi\\" &amp; <b>bye</b>"' in src
    ids = set(re.findall(r"^\s*(\S+) \[label", src, re.M))
    assert ids and all(re.fullmatch(r"n\d+", i) for i in ids)


def test_backslashes_in_names_stay_literal():
    g = TrafficGraph("workload", 0, 60, ["ns"])
    g.add_node(Node("a", "workload", "c", "ns", workload="back\\slash\\n"))
    svg = topology.render_svg(topology.graph_picture(g))
    assert "back\\slash\\n" in _svg_texts(svg)


def test_shapes_and_colours_by_kind_and_level():
    src = topology.mesh_picture(build_small_graph_with_health()).source
    assert "shape=triangle" in _node_attrs(src, "api")  # service
    assert "shape=box" in _node_attrs(src, '"web-v1"') and "rounded" in _node_attrs(src, '"web-v1"')
    assert "shape=circle" in _node_attrs(src, "unknown") and "dashed" in _node_attrs(src, "unknown")
    edges = [ln for ln in src.splitlines() if "->" in ln]
    failure = [ln for ln in edges if "10.0 % err" in ln]
    assert failure and all(COLORS["failure"] in ln for ln in failure)
    assert any(COLORS["degraded"] in ln and "1.0 % err" in ln for ln in edges)
    assert any(COLORS["healthy"] in ln and "3.25 rps" in ln for ln in edges)
    assert any(COLORS["tcp"] in ln and "style=dashed" in ln for ln in edges)
    # Node borders are the health appender's verdict too: api-v1 fails, ingress-gw is healthy.
    assert COLORS["failure"] in _node_attrs(src, '"api-v1"') and COLORS["healthy"] in _node_attrs(src, "ingress-gw")
    # ... and never by colour alone: a status symbol starts the label, a failing node has a double border
    api, gw = _node_attrs(src, '"api-v1"'), _node_attrs(src, "ingress-gw")
    assert 'label="✖ api-v1"' in api and "peripheries=2" in api
    assert 'label="✔ ingress-gw"' in gw and "peripheries" not in gw
    assert any("✖ 10.0 % err" in ln for ln in failure)
    texts = _svg_texts(topology.render_svg(topology.mesh_picture(build_small_graph_with_health())))
    assert "✖ api-v1" in texts and "✖ 10.0 % err" in texts
    assert 'fontname="DejaVu Sans"' in src.split("subgraph")[0]  # graph, node and edge defaults
    assert src.count('fontname="DejaVu Sans"') >= 3


def test_edges_without_a_health_verdict_are_grey_not_guessed():
    src = topology.mesh_picture(build_small_graph()).source  # no health appender ran
    edges = [ln for ln in src.splitlines() if "->" in ln and "rps" in ln]
    assert edges and all(COLORS["na"] in ln for ln in edges)


def test_namespace_picture_shows_neighbours_dashed():
    pic = topology.namespace_picture(build_small_graph(), "edge")
    src = pic.source
    assert "ingress-gw" in src and "web-v1" in src and "unknown" in src
    assert "api-v1" not in src  # not a direct neighbour of namespace edge
    assert "shop (other namespace)" in src
    assert "dashed" in _node_attrs(src, '"web-v1"')


def _big_graph(namespaces: int, per_ns: int) -> TrafficGraph:
    g = TrafficGraph("workload", 0, 60, [f"ns-{i}" for i in range(namespaces)])
    ids = []
    for i in range(namespaces):
        for j in range(per_ns):
            n = g.add_node(Node(f"wl-{i}-{j}", "workload", "c", f"ns-{i}", workload=f"svc-{i}-{j}"))
            ids.append(n.id)
    for k, nid in enumerate(ids):
        e = g.edge(nid, ids[(k + 7) % len(ids)], "http")
        e.rates = {"http": 1.0 + k % 5, "http5xx": 0.5 if k % 11 == 0 else 0.0}
    return g


def test_big_mesh_becomes_a_namespace_picture():
    g = _big_graph(namespaces=8, per_ns=50)  # 400 nodes > DOT_MAX_NODES
    pic = topology.mesh_picture(g)
    assert pic.aggregated and pic.engine == "dot" and pic.nodes == 8
    texts = _svg_texts(topology.render_svg(pic))
    assert "ns-0" in texts and "50 nodes" in texts


def test_big_single_namespace_is_laid_out_with_sfdp(monkeypatch):
    monkeypatch.setattr(topology, "PICTURE_MAX_EDGES", 10_000)  # draw every edge: the fallback engine
    g = _big_graph(namespaces=1, per_ns=topology.DOT_MAX_NODES + 20)
    pic = topology.mesh_picture(g)
    assert pic.engine == "sfdp" and not pic.aggregated
    assert "cluster_" not in pic.source and "splines=false" in pic.source
    svg = topology.render_svg(pic)
    assert "svc-0-0" in _svg_texts(svg)


def test_missing_graphviz_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no `dot` on it
    with pytest.raises(GraphvizMissingError, match="Graphviz is not installed") as err:
        topology.render_svg(topology.mesh_picture(build_small_graph()))
    assert err.value.exit_code == 5


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_too_many_edges_move_rates_into_tooltips(monkeypatch):
    monkeypatch.setattr(topology, "PICTURE_MAX_EDGES", 10_000)
    big = topology.graph_picture(_big_graph(namespaces=1, per_ns=topology.LABEL_MAX_EDGES + 10))
    assert not big.edge_labels and "nslimit=2" in big.source
    edges = [ln for ln in big.source.splitlines() if "->" in ln]
    assert edges and all("label=" not in ln and "tooltip=" in ln and "rps" in ln for ln in edges)
    small = topology.graph_picture(_big_graph(namespaces=1, per_ns=20))
    assert small.edge_labels and "nslimit" not in small.source
    assert all("label=" in ln for ln in small.source.splitlines() if "->" in ln)


def test_beyond_a_readable_size_the_picture_keeps_the_failing_and_busiest_edges():
    g = _big_graph(namespaces=1, per_ns=400)  # 400 edges; every 11th has 5xx
    pic = topology.graph_picture(g, focus="ns-0")
    assert pic.edges_total == 400 and pic.edges_omitted == 400 - topology.PICTURE_MAX_EDGES
    assert pic.nodes_omitted > 0 and pic.nodes + pic.nodes_omitted == 400
    drawn = [t for k, t in pic.titles.items() if k.startswith("e")]
    assert len(drawn) == topology.PICTURE_MAX_EDGES
    failing = sum(1 for e in g.edges.values() if e.errors > 0)  # 37 edges, all kept
    assert sum(1 for t in drawn if ", 0 % errors" not in t) == failing
    assert sum(1 for t in drawn if t.endswith("5.00 req/s, 0 % errors")) > 0  # then the busiest


def test_a_reduced_picture_keeps_only_the_worst_unhealthy_nodes_without_edges():
    g = _big_graph(namespaces=1, per_ns=400)
    for i, n in enumerate(g.nodes.values()):
        n.health = "Failure" if i % 50 == 0 else "Degraded"  # 8 failing, 392 degraded
    pic = topology.graph_picture(g, focus="ns-0")
    assert pic.edges_omitted and pic.nodes <= topology.PICTURE_MAX_EDGES * 2 + topology.PICTURE_UNHEALTHY_NODES
    assert pic.nodes + pic.nodes_omitted == 400
    failing = [t for k, t in pic.titles.items() if k.startswith("n") and t.endswith("failure")]
    assert len(failing) == 8  # failing nodes come first


def test_namespace_boxes_keep_health_volume_and_error_share():
    g = _big_graph(namespaces=8, per_ns=50)
    for e in g.edges.values():
        e.metadata["healthStatus"] = "Failure" if e.errors else "Healthy"
    g.nodes["wl-0-0"].health = "Failure"
    pic = topology.mesh_picture(g)
    src = pic.source
    assert pic.aggregated and topology.COLORS["failure"] in src  # a failing edge or box is red, not grey
    assert "rps in" in src and "% err" in src
    assert any(t.startswith("namespace ns-0: 50 nodes") and t.endswith("failure") for t in pic.titles.values())


def test_print_png_comes_from_the_same_layout_and_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(topology, "PRINT_PNG_MAX_PX", 600)
    pic = topology.graph_picture(_big_graph(namespaces=2, per_ns=40))
    svg, png = tmp_path / "ns.svg", tmp_path / "ns.png"
    topology.render_files(pic, svg, png)
    width, height = _png_size(png)
    assert max(width, height) <= 600 + 2  # Graphviz rounds and adds the pad
    # Same aspect ratio as the SVG: the PNG is drawn from the SVG's layout, not a second one.
    root = ET.fromstring(svg.read_bytes())
    svg_w, svg_h = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert abs(height - width * svg_h / svg_w) <= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ns.png", "ns.svg"]  # no layout file left
