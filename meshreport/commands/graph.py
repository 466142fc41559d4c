"""`meshreport graph`: the traffic graph as Kiali JSON (`cytoscape`), meshreport JSON or DOT.

Options carry Kiali's graph API names and defaults (graph/options.go), so a graph here can be
compared with Kiali's for the same window. The Snapshot comes from a file or, with
`--prometheus`, straight from Prometheus; everything after that is the same pure build.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from meshreport.cli import cli
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.errors import UsageError
from meshreport.graph.model import GRAPH_TYPES, TrafficGraph
from meshreport.settings import Settings
from meshreport.snapshot.model import Snapshot

FORMATS = ("json", "cytoscape", "dot")

#: (option, allowed values) validated here so a bad value is one line and exit code 2.
CHOICES: dict[str, tuple[str, ...]] = {
    "--graph-type": GRAPH_TYPES,
    "--rate-http": ("requests", "none"),
    "--rate-grpc": ("requests", "sent", "received", "total", "none"),
    "--rate-tcp": ("sent", "received", "total", "none"),
    "--response-time": ("avg", "50", "95", "99"),
    "--throughput": ("request", "response"),
    "--format": FORMATS,
}
BOX_BY = ("cluster", "namespace", "app")


def _check(option: str, value: str) -> str:
    allowed = CHOICES[option]
    if value not in allowed:
        raise UsageError(f"invalid {option} {value!r}: expected one of {', '.join(allowed)}")
    return value


def parse_appenders(text: str | None) -> list[str] | None:
    """Kiali's `appenders` parameter: absent or `all` = every appender, `none` or empty = none."""
    if text is None or text.strip() == "all":
        return None
    if text.strip() in ("", "none"):
        return []
    from meshreport.graph import appenders as registry

    names = [n.strip() for n in text.split(",") if n.strip()]
    registry.selected_names(names)  # unknown names: UsageError "Invalid appender [x]"
    return names


def parse_box_by(text: str | None) -> list[str]:
    boxes = [b.strip() for b in (text or "").split(",") if b.strip()]
    for b in boxes:
        if b not in BOX_BY:
            raise UsageError(f"invalid --box-by {b!r}: expected a comma list of {', '.join(BOX_BY)}")
    return boxes


def load_snapshot(path: Path | None, settings: Settings) -> Snapshot:
    """From the file, or live from Prometheus when `--prometheus` is given (never both)."""
    live = settings["prometheus.url"]
    if path is not None and live:
        raise UsageError("give either a SNAPSHOT file or --prometheus, not both")
    if path is None and not live:
        raise UsageError("missing SNAPSHOT (a .mrsnap file) or --prometheus URL")
    if path is not None:
        from meshreport.snapshot.store import read

        return read(path)
    from meshreport.commands._prometheus_options import collect_live

    return collect_live(settings)


def render(graph: TrafficGraph, fmt: str, box_by: list[str]) -> str:
    """The graph in one of FORMATS, as text."""
    from meshreport.graph import export

    if fmt == "cytoscape":
        return json.dumps(export.to_cytoscape(graph, box_by), indent=2) + "\n"
    if fmt == "json":
        return json.dumps(export.to_json(graph), indent=2) + "\n"
    from meshreport.report.topology import graph_picture

    return graph_picture(graph).source


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold Python's cyclic GC while loading a snapshot and building its graph.

    Both create millions of small acyclic containers; the collector rescanning them made 10,000
    workloads cost 14x 1,000 (8.8x, linear, without it; benchmarks/graph_scale.py). Nothing built
    here needs collecting before the end, so collection simply waits.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def make_graph(snapshot: Snapshot, options: Any, node: str | None) -> TrafficGraph:
    from meshreport.graph.build import build_graph

    if node:
        from meshreport.graph.nodegraph import NodeRef, node_graph

        return node_graph(snapshot, NodeRef.parse(node), options)
    return build_graph(snapshot, options)


@cli.command("graph")
@click.argument("snapshot", required=False, type=click.Path(path_type=Path))
@prometheus_options
@click.option(
    "--graph-type", default="workload", show_default=True, help="app | versionedApp | workload | service (Kiali)."
)
@click.option(
    "--appenders",
    default=None,
    metavar="LIST|all|none",
    help="Kiali appenders to run, comma-separated [all].",
)
@click.option("--format", "fmt", default="json", show_default=True, help="json | cytoscape | dot.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here [stdout].")
@click.option("--inject-service-nodes", is_flag=True, help="Insert a service node between caller and workload.")
@click.option("--include-idle-edges", is_flag=True, help="Keep edges with no traffic in the window.")
@click.option("--rate-http", default="requests", show_default=True, help="requests | none.")
@click.option("--rate-grpc", default="requests", show_default=True, help="requests | sent | received | total | none.")
@click.option("--rate-tcp", default="sent", show_default=True, help="sent | received | total | none.")
@click.option("--response-time", default="95", show_default=True, help="avg | 50 | 95 | 99 (responseTime appender).")
@click.option("--throughput", default="response", show_default=True, help="request | response (throughput appender).")
@click.option("--box-by", default="", metavar="LIST", help="Compound boxes: comma list of cluster,namespace,app.")
@click.option(
    "--node",
    metavar="KIND:NAMESPACE/NAME[:VERSION]",
    help="A node graph: traffic into and out of one workload, app or service.",
)
def graph_cmd(snapshot: Path | None, settings: Settings, **opts: Any) -> None:
    """Build the traffic graph from SNAPSHOT (or --prometheus) and write it.

    \b
    Formats:
      json       meshreport's graph schema (docs/graph-schema.md), numbers as numbers
      cytoscape  the JSON Kiali's graph API returns (ids, rate strings, boxes, order)
      dot        the Graphviz source the report draws
    Health tolerances come from the config file's `health: {rate: [...]}` section.
    """
    from meshreport.graph.build import GraphOptions
    from meshreport.health import rules_from_config

    fmt = _check("--format", opts["fmt"])
    for opt in ("graph_type", "rate_http", "rate_grpc", "rate_tcp", "response_time", "throughput"):
        _check("--" + opt.replace("_", "-"), opts[opt])
    box_by = parse_box_by(opts["box_by"])
    options = GraphOptions(
        graph_type=opts["graph_type"],
        namespaces=list(settings["namespaces"]) or None,
        inject_service_nodes=opts["inject_service_nodes"],
        include_idle_edges=opts["include_idle_edges"],
        rate_http=opts["rate_http"],
        rate_grpc=opts["rate_grpc"],
        rate_tcp=opts["rate_tcp"],
        appenders=parse_appenders(opts["appenders"]),
        response_time=opts["response_time"],
        throughput=opts["throughput"],
        box_by=box_by,
        health_rules=rules_from_config(settings.section("health")),
    )
    if opts["node"]:
        from meshreport.graph.nodegraph import NodeRef

        NodeRef.parse(opts["node"])  # a bad --node fails before any reading or collecting
    with paused_gc():
        snap = load_snapshot(snapshot, settings)
        if options.namespaces:
            missing = [ns for ns in options.namespaces if ns not in snap.namespaces]
            if missing:
                raise UsageError(
                    f"namespace(s) {', '.join(missing)} not in the snapshot (it has: {', '.join(snap.namespaces)})"
                )
        graph = make_graph(snap, options, opts["node"])
    text = render(graph, fmt, box_by)
    out: Path | None = opts["output"]
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"{fmt} graph ({len(graph.nodes)} nodes, {len(graph.edges)} edges) written to {out}", err=True)
