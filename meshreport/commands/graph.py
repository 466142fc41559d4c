"""`meshreport graph`: the traffic graph as Kiali JSON (`cytoscape`), meshreport JSON or DOT.

Options carry Kiali's graph API names and defaults (graph/options.go), so a graph here can be
compared with Kiali's for the same window. The Snapshot comes from a file or, with
`--prometheus`, straight from Prometheus; everything after that is the same pure build
(`meshreport.pipeline.analyse`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.commands._setting_flags import setting_flags
from meshreport.errors import UsageError
from meshreport.output import write_output
from meshreport.settings import Settings
from meshreport.visible import one_line

#: option -> GraphOptions field, so a bad value is named by the flag the user typed.
FLAGS = {
    "graph_type": "--graph-type",
    "rate_http": "--rate-http",
    "rate_grpc": "--rate-grpc",
    "rate_tcp": "--rate-tcp",
    "response_time": "--response-time",
    "throughput": "--throughput",
    "box_by": "--box-by",
    "aggregate": "--aggregate",
}


def parse_appenders(text: str | None) -> list[str] | None:
    """Kiali's `appenders` parameter: absent or `all` = every appender, `none` or empty = none."""
    if text is None or text.strip() == "all":
        return None
    if text.strip() in ("", "none"):
        return []
    return [n.strip() for n in text.split(",") if n.strip()]


def _aggregate(settings: Settings) -> str:
    """The one label the graph aggregates by: --aggregate (collected with it when live), else Kiali's default."""
    labels = [a for a in settings["aggregate"] or [] if a]
    if len(labels) > 1:
        raise UsageError(f"--aggregate: a graph aggregates by one label, got {', '.join(labels)}")
    return labels[0] if labels else pipeline.DEFAULT_AGGREGATE


def parse_box_by(text: str | None) -> list[str]:
    return [b.strip() for b in (text or "").split(",") if b.strip()]


@cli.command("graph")
@click.argument("snapshot", required=False, type=click.Path(path_type=Path))
@prometheus_options
@setting_flags(
    [
        (
            "max_gaps",
            ("--max-gaps",),
            {
                "type": int,
                "metavar": "N",
                "help": "With --prometheus: exit 4, after the graph is written, when the collection has more "
                "gaps than N [env MESHREPORT_MAX_GAPS; no limit].",
            },
        )
    ]
)
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
    "--aggregate-value",
    default="",
    metavar="VALUE",
    help="aggregateNode: only this value of the --aggregate label (Kiali's aggregate node graph).",
)
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

    \b
    Aggregate nodes (Kiali's aggregateNode appender) split requests by a
    metric label, default request_operation; collect it with the snapshot:
      meshreport snapshot --prometheus URL --aggregate request_operation -o S
      meshreport graph S --aggregate request_operation [--aggregate-value Top]
    """
    fmt = opts["fmt"]
    if fmt not in pipeline.GRAPH_FORMATS:
        raise UsageError(f"invalid --format {fmt!r}: expected one of {', '.join(pipeline.GRAPH_FORMATS)}")
    graph_options = pipeline.GraphOptions(
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
        box_by=parse_box_by(opts["box_by"]),
        health_rules=pipeline.health_rules(settings),
        aggregate=_aggregate(settings),
        aggregate_value=opts["aggregate_value"],
    )
    graph_options.validate(FLAGS)
    options = pipeline.AnalysisOptions(
        graph=graph_options, node=opts["node"], validate=False, mtls=False, node_config=False
    )
    options.check()  # a bad --node fails before any reading or collecting
    snap = pipeline.load_snapshot(snapshot, settings)
    pipeline.check_namespaces(snap, graph_options.namespaces)
    graph = pipeline.analyse(snap, options).graph
    gaps = pipeline.counted_gaps(snap)
    text = pipeline.graph_text(graph, fmt, graph_options.box_by, gaps)
    out: Path | None = opts["output"]
    if out is None:
        sys.stdout.write(text)
    else:
        write_output(out, text)
        click.echo(f"{fmt} graph ({len(graph.nodes)} nodes, {len(graph.edges)} edges) written to {out}", err=True)
    if gaps:
        first = gaps[0]
        where = f" in {first.namespace}" if first.namespace else ""
        click.echo(
            f"meshreport: note: the snapshot has {len(gaps)} gap(s), so the graph may be incomplete "
            f'(first: {first.what}{where}: {one_line(first.reason)}); the output lists them under "gaps"',
            err=True,
        )
    if snapshot is None:
        pipeline.check_gaps(snap, settings["max_gaps"], "the graph was still written")
