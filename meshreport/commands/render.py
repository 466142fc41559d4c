"""`meshreport render (SNAPSHOT | --prometheus URL --window D) -o DIR`: HTML site, pictures and PDF.

The snapshot comes from a file or, like `meshreport graph`, straight from Prometheus (the same
connection options, `@prometheus_options`). Findings are the validation of the snapshot's
config objects (`--mesh-config`, suppressions from `--config`); health uses the config file's
`health:` rules through the graph's health appender.
"""

from __future__ import annotations

from pathlib import Path

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.commands._setting_flags import LINK_FLAGS, setting_flags
from meshreport.errors import FindingsError, UsageError
from meshreport.settings import Settings

#: Settings that only shape a live collection: a snapshot's window and scope are already fixed.
LIVE_ONLY = (("window", "--window"), ("end", "--end"), ("all_namespaces", "-A/--all-namespaces"))


def _refuse_live_only_flags(settings: Settings) -> None:
    """`render SNAPSHOT --window 7d` used to be ignored silently; a flag that cannot apply is a usage error."""
    from meshreport.errors import UsageError

    given = [flag for key, flag in LIVE_ONLY if settings.origin(key) == "flag" and settings[key]]
    if given:
        raise UsageError(
            f"{', '.join(given)} only apply with --prometheus: a snapshot's window and namespaces were fixed "
            "when it was collected (use -n to narrow the report to some of its namespaces)"
        )


@cli.command("render")
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
                "help": "With --prometheus: exit 4, after the report is written, when the collection has more "
                "gaps than N [env MESHREPORT_MAX_GAPS; no limit].",
            },
        ),
        *LINK_FLAGS,
    ]
)
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
    default="versionedApp",
    show_default=True,
    help="Kiali graph type for the pictures and tables: app | versionedApp | workload | service.",
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
    "--single-file",
    is_flag=True,
    help="Also write OUTPUT/report.html: the whole site in one self-contained file (CSS, script and "
    "pictures inline; nothing fetched) for email and CI artifact viewers.",
)
@click.option(
    "--mesh-config",
    type=click.Path(path_type=Path),
    help="MeshConfig YAML for validation (like istioctl --meshConfigFile) [the snapshot's istio ConfigMap].",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "none"]),
    default="none",
    show_default=True,
    help="After writing the report, exit 3 when an unsuppressed finding is at or above this severity.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help='Snapshot of the previous report: the overview opens with "Since the previous report" '
    "(regressions, improvements, new and resolved findings), tables mark new edges and changed health.",
)
@click.option(
    "--fail-on-regression",
    is_flag=True,
    help="With --baseline: after writing the report, exit 3 when a health, error share, p95 or mTLS "
    "regression beyond the thresholds appears.",
)
@click.option(
    "--fail-on-new",
    type=click.Choice(["error", "warning", "info", "none"]),
    default="none",
    show_default=True,
    help="With --baseline: after writing the report, exit 3 when a finding not in the baseline is at or above this.",
)
@click.option(
    "--trend-archive",
    type=click.Path(file_okay=False, path_type=Path),
    help='Report archive (folders of runs with their snapshots): add "Trends across runs" (requests, '
    "error share, p95 per namespace and for the mesh, one point per run).",
)
@click.option(
    "--trend-runs",
    type=click.IntRange(2, 400),
    default=14,
    show_default=True,
    help="How many of the archive's newest runs the trends cover (this report included when it is newer).",
)
def render_cmd(
    snapshot: Path | None,
    settings: Settings,
    out_dir: Path,
    graph_type: str,
    inject_service_nodes: bool,
    title: str,
    no_pdf: bool,
    single_file: bool,
    mesh_config: Path | None,
    fail_on: str,
    baseline: Path | None,
    fail_on_regression: bool,
    fail_on_new: str,
    trend_archive: Path | None,
    trend_runs: int,
) -> None:
    """Render SNAPSHOT (a .mrsnap file), or a live Prometheus, into a static HTML site and a PDF.

    \b
    Give exactly one source:
      meshreport render SNAPSHOT [-n NS] -o DIR
      meshreport render --prometheus URL --window 1h [--end T] -n NS -o DIR
    -n/--namespaces limits the report (every count, page and finding, and a
    live collection) to those namespaces. --window, --end and -A shape a live
    collection only: with SNAPSHOT they are a usage error (exit 2).

    \b
    Writes OUTPUT/index.html (worst first: health counts, failing and
    degraded apps with the reason, edges by error share, slowest edges by
    p95, findings by severity; then topology, busiest edges, the namespaces,
    worst first, and Mutual TLS), OUTPUT/namespaces/<ns>.html (topology,
    workloads and services with sparklines, every edge with rate, 4xx %,
    5xx %, p50/p95/p99, mTLS % and response codes; tables sort by any
    column), OUTPUT/health.html, OUTPUT/findings.html (config-validation and mTLS
    findings by severity, code and namespace, suppressed ones apart),
    OUTPUT/img/*.svg, OUTPUT/report.pdf (a summary of at most ~40 pages) and
    OUTPUT/report.html with --single-file (every page in one self-contained
    file), OUTPUT/mtls.json (configured mTLS vs the share of mutual-TLS traffic:
    Ready for STRICT / Blocks STRICT / Will break, findings MR0101-MR0103,
    also in the Mutual TLS section of the overview, the namespace pages
    and the PDF; traffic floors: the config file's `mtls:` section), and
    OUTPUT/services/<ns>/*.html:
    a page per app, workload and service (following --graph-type) with its
    traffic in and out, health and why, the Istio objects that apply to it,
    its findings and mTLS; table rows and picture nodes link to it. With
    --kiali-url, --grafana-url or --jaeger-url (or the config file's
    links:) each page links into those tools for the report's window.
    A config-only snapshot (no metrics) says so and shows no traffic.
    Health rules: the config file's `health:` section; suppressions: its
    `validation.suppressions`. A metrics-only snapshot (no config objects)
    says that config was not collected instead of listing findings.
    Needs Graphviz ('dot'); without it meshreport exits with code 5.
    Exit 3 (after the report is written) with --fail-on and matching findings.
    Live (--prometheus): exit 4 (after the report is written) when the
    collection has more gaps than --max-gaps (MESHREPORT_MAX_GAPS).
    See docs/report.md.

    \b
    With --baseline PREVIOUS.mrsnap the overview opens with "Since the
    previous report" and namespace pages show previous and current numbers
    side by side (thresholds: the config file's `compare:`, docs/compare.md).
    """
    if snapshot is not None:
        _refuse_live_only_flags(settings)
    if (fail_on_regression or fail_on_new != "none") and baseline is None:
        raise UsageError("--fail-on-regression and --fail-on-new need --baseline SNAP")
    links = pipeline.link_bases(settings)
    namespaces = list(settings["namespaces"]) or None
    rules = pipeline.health_rules(settings)
    options = pipeline.AnalysisOptions.for_report(
        graph_type=graph_type,
        inject_service_nodes=inject_service_nodes,
        namespaces=namespaces,
        health_rules=rules,
        mesh_config=mesh_config,
        suppressions=pipeline.suppressions(settings),
        mtls_floor=pipeline.mtls_floor(settings),
    )
    options.graph.validate({"graph_type": "--graph-type"})
    previous = None
    if baseline is not None:  # analysed first: its snapshot and graph are freed before ours are read
        previous = pipeline.digest_file(
            baseline,
            settings,
            graph_type=graph_type,
            inject_service_nodes=inject_service_nodes,
            mesh_config=mesh_config,
            namespaces=namespaces,
        )
    snap = pipeline.load_snapshot(snapshot, settings)
    if snapshot is not None:
        pipeline.check_namespaces(snap, namespaces)
    analysis = pipeline.analyse(snap, options)
    if previous is not None:
        analysis = pipeline.compare_analysis(previous, snap, analysis, settings)
    if trend_archive is not None:
        kw = {"graph_type": graph_type, "inject_service_nodes": inject_service_nodes, "namespaces": namespaces}
        points = pipeline.trend_points(trend_archive, trend_runs, settings, snap, analysis, **kw)
        analysis = analysis.with_trend(points)
    if namespaces:
        analysis = pipeline.scoped(analysis, namespaces)
    render_options = pipeline.RenderOptions(
        pdf=not no_pdf, title=title, health_rules=rules, links=links, single_file=single_file
    )
    index = pipeline.render(snap, analysis, out_dir, render_options)
    click.echo(f"Report written to {index.parent}/")
    click.echo(f"  open {index.as_uri()}")
    if not no_pdf:
        click.echo(f"  PDF  {index.parent / 'report.pdf'}")
    if snapshot is None:
        pipeline.check_gaps(snap, settings["max_gaps"], "the report was still written")
    if single_file:
        click.echo(f"  one file  {index.parent / 'report.html'}")
    reasons = []
    comparison = analysis.comparison
    if comparison is not None:
        from meshreport.commands.diff import gate

        click.echo(f"  since the previous report: {pipeline.changes_headline(comparison)}")
        if reason := gate(comparison, fail_on_regression, fail_on_new):
            reasons.append(reason)
    validation = analysis.validation
    if validation is None:
        click.echo("  findings: config was not collected (metrics-only snapshot)")
    else:
        click.echo("  findings: " + pipeline.summary_text(validation.counts()))
        if validation.fails(fail_on):
            n = sum(1 for f in validation.active if pipeline.at_or_above(f.severity, fail_on))
            reasons.append(f"{n} finding{'s' if n != 1 else ''} at or above --fail-on {fail_on}")
    if reasons:
        raise FindingsError("; ".join(reasons) + " (report written)")
