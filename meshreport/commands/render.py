"""`meshreport render (SNAPSHOT | --prometheus URL --window D) -o DIR`: HTML site, pictures and PDF.

The snapshot comes from a file or, like `meshreport graph`, straight from Prometheus (the same
connection options, `@prometheus_options`). Findings are the validation of the snapshot's
config objects (`--mesh-config`, suppressions from `--config`); health uses the config file's
`health:` rules through the graph's health appender.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from meshreport.cli import cli
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.deliver.publish import publish_dir
from meshreport.errors import FindingsError
from meshreport.graph.model import GRAPH_TYPES, TrafficGraph
from meshreport.report.findings import summary_text
from meshreport.settings import Settings
from meshreport.snapshot.model import Snapshot
from meshreport.validation.model import ValidationResult, at_or_above


@dataclass
class RenderOptions:
    """Everything `render_report` needs besides the snapshot; the CLI fills it from flags."""

    graph_type: str = "versionedApp"
    inject_service_nodes: bool = True
    pdf: bool = True
    title: str = "Service mesh report"
    namespaces: list[str] | None = None
    now: float | None = None  # generated-at; None = SOURCE_DATE_EPOCH or the wall clock
    health_rules: list | None = None  # meshreport.health.RateRule list; None = Kiali's defaults


def build_graph_for_report(snapshot: Snapshot, options: RenderOptions) -> TrafficGraph:
    """The traffic graph the report shows (Kiali semantics, meshreport.graph.build)."""
    from meshreport.graph.build import GraphOptions, build_graph

    return build_graph(
        snapshot,
        GraphOptions(
            graph_type=options.graph_type,
            namespaces=options.namespaces,
            inject_service_nodes=options.inject_service_nodes,
            health_rules=options.health_rules,
        ),
    )


def render_report(
    snapshot: Snapshot,
    out_dir: str | Path,
    options: RenderOptions | None = None,
    graph: TrafficGraph | None = None,
    validation: ValidationResult | None = None,
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
        write_report(
            snapshot, graph, staging, pdf=options.pdf, title=options.title, now=options.now, validation=validation
        )
    return target / "index.html"


def validate_snapshot(snapshot: Snapshot, settings: Settings, mesh_config: Path | None) -> ValidationResult | None:
    """Findings for the report: None when the snapshot holds no config objects (metrics only)."""
    if not snapshot.objects:
        return None
    from meshreport.validation import check
    from meshreport.validation import suppress as sup
    from meshreport.validation.meshconfig import MeshConfig

    mesh = MeshConfig.from_file(mesh_config) if mesh_config else MeshConfig.from_objects(snapshot.objects)
    rules = sup.from_config(settings.section("validation"), origin=settings.config_file or "config file")
    return check(snapshot.objects, mesh, rules, now=snapshot.window.end)


@cli.command("render")
@click.argument("snapshot", required=False, type=click.Path(path_type=Path))
@prometheus_options
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
@click.option("--title", default="Service mesh report", show_default=True, help="Title on every page.")
@click.option("--no-pdf", is_flag=True, help="Skip report.pdf (faster; the HTML site only).")
@click.option(
    "--mesh-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="MeshConfig YAML for validation (like istioctl --meshConfigFile) [the snapshot's istio ConfigMap].",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "none"]),
    default="none",
    show_default=True,
    help="After writing the report, exit 3 when an unsuppressed finding is at or above this severity.",
)
def render_cmd(
    snapshot: Path | None,
    settings: Settings,
    out_dir: Path,
    graph_type: str,
    inject_service_nodes: bool,
    title: str,
    no_pdf: bool,
    mesh_config: Path | None,
    fail_on: str,
) -> None:
    """Render SNAPSHOT (a .mrsnap file), or a live Prometheus, into a static HTML site and a PDF.

    \b
    Give exactly one source:
      meshreport render SNAPSHOT -o DIR
      meshreport render --prometheus URL --window 1h [--end T] -n NS -o DIR
    -n/--namespaces limits the report (and a live collection) to those namespaces.

    \b
    Writes OUTPUT/index.html (window, counts, health summary, findings count,
    mesh topology, busiest edges and edges with the most errors),
    OUTPUT/namespaces/<ns>.html (per-namespace topology, workload/service
    tables with health, findings), OUTPUT/findings.html (config-validation
    findings by severity, code and namespace, suppressed ones apart),
    OUTPUT/img/*.svg and OUTPUT/report.pdf.
    Health rules: the config file's `health:` section; suppressions: its
    `validation.suppressions`. A metrics-only snapshot (no config objects)
    says that config was not collected instead of listing findings.
    Needs Graphviz ('dot'); without it meshreport exits with code 5.
    Exit 3 (after the report is written) with --fail-on and matching findings.
    """
    from meshreport.commands.graph import load_snapshot
    from meshreport.health import rules_from_config

    health_rules = rules_from_config(settings.section("health"))
    snap = load_snapshot(snapshot, settings)
    namespaces = list(settings["namespaces"]) or None
    if namespaces and snapshot is not None:
        missing = [ns for ns in namespaces if ns not in snap.namespaces]
        if missing:
            from meshreport.errors import UsageError

            raise UsageError(
                f"namespace(s) {', '.join(missing)} not in the snapshot (it has: {', '.join(snap.namespaces)})"
            )
    validation = validate_snapshot(snap, settings, mesh_config)
    options = RenderOptions(
        graph_type=graph_type,
        inject_service_nodes=inject_service_nodes,
        pdf=not no_pdf,
        title=title,
        namespaces=namespaces,
        health_rules=health_rules,
    )
    index = render_report(snap, out_dir, options, validation=validation)
    click.echo(f"Report written to {index.parent}/")
    click.echo(f"  open {index.as_uri()}")
    if options.pdf:
        click.echo(f"  PDF  {index.parent / 'report.pdf'}")
    if validation is None:
        click.echo("  findings: config was not collected (metrics-only snapshot)")
        return
    click.echo("  findings: " + summary_text(validation.counts()))
    if validation.fails(fail_on):
        n = sum(1 for f in validation.active if at_or_above(f.severity, fail_on))
        raise FindingsError(f"{n} finding{'s' if n != 1 else ''} at or above --fail-on {fail_on} (report written)")
