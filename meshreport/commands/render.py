"""`meshreport render SNAPSHOT -o DIR`: the HTML site, topology pictures and PDF from a snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from meshreport.cli import cli
from meshreport.deliver.publish import publish_dir
from meshreport.graph.model import GRAPH_TYPES, TrafficGraph
from meshreport.snapshot.model import Snapshot


@dataclass
class RenderOptions:
    """Everything `render_report` needs besides the snapshot; the CLI fills it from flags."""

    graph_type: str = "versionedApp"
    inject_service_nodes: bool = True
    pdf: bool = True
    title: str = "Service mesh report"
    namespaces: list[str] | None = None
    now: float | None = None  # generated-at; None = SOURCE_DATE_EPOCH or the wall clock


def build_graph_for_report(snapshot: Snapshot, options: RenderOptions) -> TrafficGraph:
    """The traffic graph the report shows (Kiali semantics, meshreport.graph.build)."""
    from meshreport.graph.build import GraphOptions, build_graph

    return build_graph(
        snapshot,
        GraphOptions(
            graph_type=options.graph_type,
            namespaces=options.namespaces,
            inject_service_nodes=options.inject_service_nodes,
        ),
    )


def render_report(
    snapshot: Snapshot, out_dir: str | Path, options: RenderOptions | None = None, graph: TrafficGraph | None = None
) -> Path:
    """Analyse and render into a staging folder, then publish it atomically as `out_dir`.

    Returns the path of the published index.html. A failure at any step leaves an existing
    report in `out_dir` untouched.
    """
    from meshreport.report.build import write_report

    options = options or RenderOptions()
    graph = graph if graph is not None else build_graph_for_report(snapshot, options)
    target = Path(out_dir).absolute()
    with publish_dir(target) as staging:
        write_report(snapshot, graph, staging, pdf=options.pdf, title=options.title, now=options.now)
    return target / "index.html"


@cli.command("render")
@click.argument("snapshot", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("report"),
    show_default=True,
    help="Folder to write the report into. It is replaced atomically; a failed run keeps the previous report.",
)
@click.option(
    "--graph-type",
    type=click.Choice(GRAPH_TYPES),
    default="versionedApp",
    show_default=True,
    help="Kiali graph type for the pictures and tables.",
)
@click.option(
    "--inject-service-nodes/--no-inject-service-nodes",
    default=True,
    show_default=True,
    help="Draw the service between caller and workload (Kiali's default view).",
)
@click.option("-n", "--namespace", "namespaces", multiple=True, help="Only these namespaces (repeatable).")
@click.option("--title", default="Service mesh report", show_default=True, help="Title on every page.")
@click.option("--no-pdf", is_flag=True, help="Skip report.pdf (faster; the HTML site only).")
def render_cmd(
    snapshot: Path,
    out_dir: Path,
    graph_type: str,
    inject_service_nodes: bool,
    namespaces: tuple[str, ...],
    title: str,
    no_pdf: bool,
) -> None:
    """Render SNAPSHOT (a .mrsnap file) into a static HTML site and a PDF.

    \b
    Writes OUTPUT/index.html (window, counts, mesh topology, busiest edges and
    edges with the most errors), OUTPUT/namespaces/<ns>.html (per-namespace
    topology and workload/service tables), OUTPUT/img/*.svg and OUTPUT/report.pdf.
    Needs Graphviz ('dot'); without it meshreport exits with code 5.
    """
    from meshreport.snapshot.store import read

    snap = read(snapshot)
    options = RenderOptions(
        graph_type=graph_type,
        inject_service_nodes=inject_service_nodes,
        pdf=not no_pdf,
        title=title,
        namespaces=list(namespaces) or None,
    )
    index = render_report(snap, out_dir, options)
    click.echo(f"Report written to {index.parent}/")
    click.echo(f"  open {index.as_uri()}")
    if options.pdf:
        click.echo(f"  PDF  {index.parent / 'report.pdf'}")
