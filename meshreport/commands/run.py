"""`meshreport run`: collect, analyse, render, publish and (optionally) email, in one unattended command.

What a nightly CronJob or a CI step after a deploy runs. Everything is driven by settings (flag >
MESHREPORT_* env > config file), so a CronJob needs no flags at all. The report is written into
a staging folder and published only when complete; any failure leaves the previous report (or
archive run) as it was and says so. Gates (`--fail-on`) are judged after publishing, on the
summary the report carries, and exit 3 with the reasons printed.
"""

from __future__ import annotations

from pathlib import Path

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.commands._setting_flags import LINK_FLAGS, setting_flags
from meshreport.errors import FindingsError, MeshreportError
from meshreport.progress import Progress
from meshreport.settings import Settings
from meshreport.visible import one_line

RUN_FLAGS = [
    ("output", ("-o", "--output"), {"metavar": "DIR"}),
    ("archive.dir", ("--archive",), {"metavar": "DIR"}),
    ("archive.keep", ("--keep",), {"type": int, "metavar": "N"}),
    ("archive.trend_runs", ("--trend-runs",), {"type": click.IntRange(0, 400), "metavar": "N"}),
    ("baseline", ("--baseline",), {"metavar": "SNAP"}),
    ("fail_on_regression", ("--fail-on-regression",), {"is_flag": True}),
    ("fail_on_new", ("--fail-on-new",), {"type": click.Choice(["error", "warning", "info", "none"])}),
    ("title", ("--title",), {}),
    ("graph_type", ("--graph-type",), {"type": click.Choice(pipeline.GRAPH_TYPES)}),
    ("pdf", ("--pdf/--no-pdf",), {}),
    ("single_file", ("--single-file",), {"is_flag": True}),
    ("fail_on", ("--fail-on",), {"multiple": True, "metavar": "GATE"}),
    ("outputs.sarif", ("--sarif",), {"is_flag": True}),
    ("outputs.junit", ("--junit",), {"is_flag": True}),
    ("outputs.codequality", ("--codequality",), {"is_flag": True}),
    ("outputs.markdown", ("--markdown",), {"is_flag": True}),
    ("mesh_config", ("--mesh-config",), {"metavar": "FILE"}),
    ("config.from_files", ("--from-files",), {"multiple": True, "metavar": "PATH"}),
    ("config.skip", ("--no-config",), {"is_flag": True}),
    ("kubernetes.contexts", ("--context",), {"multiple": True, "metavar": "NAME"}),
    ("kubernetes.kubeconfig", ("--kubeconfig",), {"metavar": "FILE"}),
    ("kubernetes.in_cluster", ("--in-cluster",), {"is_flag": True}),
    ("kubernetes.secret_names", ("--secret-names",), {"is_flag": True}),
    ("kubernetes.gateway_certs", ("--gateway-certs",), {"is_flag": True}),
    ("max_gaps", ("--max-gaps",), {"type": int, "metavar": "N"}),
    ("kubernetes.timeout", ("--kubernetes-timeout",), {"metavar": "DURATION"}),
    ("email.to", ("--email-to",), {"multiple": True, "metavar": "ADDRESS"}),
    *LINK_FLAGS,
]


@cli.command("run")
@prometheus_options
@setting_flags(RUN_FLAGS)
@click.option(
    "--from-snapshot",
    "snapshot_file",
    type=click.Path(path_type=Path),
    help="Render this .mrsnap file instead of collecting (no Prometheus needed).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output (warnings and the result are still shown).")
def run_cmd(settings: Settings, snapshot_file: Path | None, quiet: bool) -> None:
    """Collect, analyse, render, publish and optionally email a report, in one command.

    \b
    meshreport run --prometheus URL -A --in-cluster --archive /reports --keep 30
    meshreport run --prometheus URL -n shop --from-files k8s/ -o report --markdown --fail-on error,failure

    \b
    Metrics come from Prometheus; config from the Kubernetes API (by default
    wherever kubectl would look, or --context/--kubeconfig/--in-cluster), or
    from YAML with --from-files. Give -o DIR (one folder, replaced atomically)
    or --archive DIR (one dated folder per run, a `latest` link, an index page,
    runs beyond --keep deleted; docs/archive.md). Each report holds the site,
    report.pdf, summary.json (docs/summary-json.md) and snapshot.mrsnap, and on
    request findings.sarif, findings.xml (JUnit), gl-code-quality-report.json
    (GitLab Code Quality), summary.md and, with --single-file,
    report.html (the whole site in one self-contained file).
    A failed run leaves the previous report untouched and says so.

    \b
    --fail-on takes gates, comma-separated or repeated:
      error | warning | info   findings at or above that severity
      failure | degraded       an app, workload or service in that health
      error-share>5%           mesh error share above 5 %
      p95>500ms                worst request edge p95 latency above 500 ms
    A tripped gate exits 3 after the report is published, with the reasons.

    \b
    Every report is compared with the previous one: --baseline SNAP, or with
    --archive the archive's previous run. The overview opens with "Since the
    previous report" (regressions, improvements, new and resolved findings),
    changes.json and summary.json's `changes` record it, and the email body
    is that section. With --archive the overview also draws "Trends across
    runs" over the newest --trend-runs runs (default 14; 0: none).
    --fail-on-regression / --fail-on-new SEVERITY exit 3 for what got worse
    since then, not for debt that was already there (docs/compare.md).
    --email-to sends the report (SMTP settings: meshreport send --help).
    Every option is also a MESHREPORT_* variable and a config key (docs/configuration.md).
    """
    publisher = pipeline.Publisher(settings["output"], settings["archive.dir"], settings["archive.keep"])
    source = pipeline.run_config_source(settings)
    try:
        result = pipeline.run_report(
            settings, source, publisher, snapshot_file=snapshot_file, progress=Progress(quiet=quiet)
        )
    except MeshreportError:
        raise  # its message already says what was kept
    except Exception:
        click.echo(f"meshreport: run failed; {publisher.kept()}", err=True)
        raise
    report = result.report
    for warning in result.warnings:
        click.echo(one_line(f"meshreport: warning: {warning}"), err=True)
    click.echo(f"Report written to {report}/")
    click.echo(f"  open {(report / 'index.html').as_uri()}")
    if result.comparison is not None:
        click.echo(f"  since the previous report: {pipeline.changes_headline(result.comparison)}")
    if settings["email.to"]:
        sent = pipeline.send_report(settings, report, result.summary)
        click.echo(f"  emailed to {', '.join(sent)}")
    pipeline.check_gaps(result.snapshot, settings["max_gaps"], "the report was still published")
    reasons = result.summary.get("gate", {}).get("reasons", [])
    if reasons:
        raise FindingsError("gate failed (report written): " + "; ".join(reasons))
