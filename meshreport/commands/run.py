"""`meshreport run`: collect, analyse, render, publish and (optionally) email, in one unattended command.

What a nightly CronJob or a CI step after a deploy runs. Everything is driven by settings (flag >
MESHREPORT_* env > config file), so a CronJob needs no flags at all. The report is written into
a staging folder and published only when complete; any failure leaves the previous report (or
archive run) as it was and says so. Gates (`--fail-on`) are judged after publishing, on the
summary the report carries, and exit 3 with the reasons printed.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click

from meshreport.cli import cli
from meshreport.commands._config_options import ConfigSource
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.commands._setting_flags import setting_flags
from meshreport.deliver import settings as _deliver_settings  # noqa: F401  (registers run/email settings)
from meshreport.errors import FindingsError, MeshreportError, UsageError
from meshreport.gates import failed, parse_gates
from meshreport.graph.model import GRAPH_TYPES
from meshreport.progress import Progress
from meshreport.settings import Settings, resolve_window
from meshreport.snapshot.model import Snapshot, Window

SNAPSHOT_FILE = "snapshot.mrsnap"

RUN_FLAGS = [
    ("output", ("-o", "--output"), {"metavar": "DIR"}),
    ("archive.dir", ("--archive",), {"metavar": "DIR"}),
    ("archive.keep", ("--keep",), {"type": int, "metavar": "N"}),
    ("title", ("--title",), {}),
    ("graph_type", ("--graph-type",), {"type": click.Choice(GRAPH_TYPES)}),
    ("pdf", ("--pdf/--no-pdf",), {}),
    ("fail_on", ("--fail-on",), {"multiple": True, "metavar": "GATE"}),
    ("outputs.sarif", ("--sarif",), {"is_flag": True}),
    ("outputs.junit", ("--junit",), {"is_flag": True}),
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
    ("email.to", ("--email-to",), {"multiple": True, "metavar": "ADDRESS"}),
]


@cli.command("run")
@prometheus_options
@setting_flags(RUN_FLAGS)
@click.option(
    "--from-snapshot",
    "snapshot_file",
    type=click.Path(dir_okay=False, path_type=Path),
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
    request findings.sarif, findings.xml (JUnit) and summary.md.
    A failed run leaves the previous report untouched and says so.

    \b
    --fail-on takes gates, comma-separated or repeated:
      error | warning | info   findings at or above that severity
      failure | degraded       an app, workload or service in that health
      error-share>5%           mesh error share above 5 %
      p95>500ms                worst request edge p95 latency above 500 ms
    A tripped gate exits 3 after the report is published, with the reasons.
    --email-to sends the report (SMTP settings: meshreport send --help).
    Every option is also a MESHREPORT_* variable and a config key (docs/configuration.md).
    """
    gates = parse_gates(settings["fail_on"])
    publisher = _publisher(settings)
    source = _config_source(settings)
    progress = Progress(quiet=quiet)
    try:
        snap = _snapshot(settings, source, progress, snapshot_file)
        publisher.for_window(snap.window)
        with publisher.staging() as staging:
            summary = _render(settings, snap, staging, gates)
    except MeshreportError as e:
        e.message += f"; {publisher.kept()}"
        raise
    except Exception:
        click.echo(f"meshreport: run failed; {publisher.kept()}", err=True)
        raise
    report = publisher.published()
    click.echo(f"Report written to {report}/")
    click.echo(f"  open {(report / 'index.html').as_uri()}")
    if settings["email.to"]:
        from meshreport.deliver.mail import send_report

        sent = send_report(settings, report, summary)
        click.echo(f"  emailed to {', '.join(sent)}")
    from meshreport.commands.snapshot import check_gaps

    check_gaps(snap, settings["max_gaps"])
    reasons = summary.get("gate", {}).get("reasons", [])
    if reasons:
        raise FindingsError("gate failed (report written): " + "; ".join(reasons))


class _Publisher:
    """Where a run goes: one folder replaced atomically (-o), or a new run of an archive (--archive)."""

    def __init__(self, output: str | None, archive: str | None, keep: int) -> None:
        self.output = Path(output).absolute() if output else None
        self.archive = None
        if archive:
            from meshreport.deliver.archive import Archive

            self.archive = Archive(archive)
        self.keep = keep
        self.run_id: str | None = None

    def check(self) -> None:
        if self.archive is not None:
            self.archive.check()
        elif self.output is not None:
            from meshreport.deliver.publish import _check_target

            _check_target(self.output)

    def for_window(self, window: Window) -> None:
        from meshreport.deliver.archive import run_id_for

        self.run_id = run_id_for(window.end)

    def staging(self) -> AbstractContextManager[Path]:
        if self.archive is not None:
            assert self.run_id is not None
            return self.archive.new_run(self.run_id, keep=self.keep)
        from meshreport.deliver.publish import publish_dir

        assert self.output is not None
        return publish_dir(self.output)

    def published(self) -> Path:
        if self.archive is not None:
            latest = self.archive.latest()
            assert latest is not None
            return self.archive.root / latest
        assert self.output is not None
        return self.output

    def kept(self) -> str:
        """What a failed run left in place, for its error message."""
        if self.archive is not None:
            latest = self.archive.latest()
            if latest is None:
                return f"nothing was published to {self.archive.root} (no earlier run)"
            return f"the previous report is untouched ({self.archive.root / 'latest'} -> {latest})"
        assert self.output is not None
        if (self.output / "index.html").is_file():
            return f"the previous report in {self.output} is untouched"
        return f"nothing was published to {self.output}"


def _publisher(settings: Settings) -> _Publisher:
    output, archive = settings["output"], settings["archive.dir"]
    if bool(output) == bool(archive):
        raise UsageError("give exactly one of -o/--output DIR (one folder) or --archive DIR (dated runs)")
    p = _Publisher(output, archive, settings["archive.keep"])
    p.check()  # refuse a wrong target before spending minutes collecting
    return p


def _config_source(settings: Settings) -> ConfigSource:
    files = tuple(settings["config.from_files"])
    src = ConfigSource(
        from_files=bool(files),
        paths=files,
        contexts=tuple(settings["kubernetes.contexts"]),
        kubeconfig=settings["kubernetes.kubeconfig"],
        in_cluster=settings["kubernetes.in_cluster"],
        secret_names=settings["kubernetes.secret_names"],
        gateway_certs=settings["kubernetes.gateway_certs"],
        skip=settings["config.skip"],
    )
    src.check()
    return src


def _snapshot(settings: Settings, source: ConfigSource, progress: Progress, snapshot_file: Path | None) -> Snapshot:
    """Metrics from Prometheus merged with config from the cluster or files; or a snapshot file."""
    from meshreport.commands.snapshot import collect_config, merge_config

    if snapshot_file is not None:
        if settings["prometheus.url"]:
            raise UsageError("give either --from-snapshot FILE or --prometheus URL, not both")
        from meshreport.snapshot.store import read

        snap = read(snapshot_file)
    else:
        if not settings["prometheus.url"]:
            raise UsageError("missing --prometheus URL (or MESHREPORT_PROMETHEUS_URL, or --from-snapshot FILE)")
        from meshreport.snapshot.prometheus import collect

        window = resolve_window(settings)
        metrics = collect(settings, window, progress=progress)
        if source.from_files:
            from meshreport.snapshot.manifests import METRICS_NOT_COLLECTED, config_snapshot_from_files

            config = config_snapshot_from_files(source.paths, now=window.end, window_s=window.duration)
            config.gaps = [g for g in config.gaps if g.what != METRICS_NOT_COLLECTED]
        else:
            config = collect_config(settings, window, progress, source)
        snap = merge_config(metrics, config)
        snap.collector["settings"] = settings.redacted()
    return snap


def _render(settings: Settings, snap: Snapshot, staging: Path, gates: list) -> dict[str, Any]:
    """Analyse `snap` and write every file of the report into `staging`; returns its summary."""
    from meshreport.commands.render import RenderOptions, build_graph_for_report, validate_snapshot
    from meshreport.health import rules_from_config
    from meshreport.report import machine
    from meshreport.report.build import write_report
    from meshreport.report.summary import build_summary, write_summary
    from meshreport.report.summary_md import FILE_NAME as MD_FILE
    from meshreport.report.summary_md import markdown_summary
    from meshreport.snapshot import store

    mesh_config = Path(settings["mesh_config"]) if settings["mesh_config"] else None
    validation = validate_snapshot(snap, settings, mesh_config)
    options = RenderOptions(
        graph_type=settings["graph_type"],
        pdf=settings["pdf"],
        title=settings["title"],
        namespaces=list(settings["namespaces"]) or None,
        health_rules=rules_from_config(settings.section("health")),
    )
    graph = build_graph_for_report(snap, options)
    write_report(snap, graph, staging, pdf=options.pdf, title=options.title, validation=validation)
    store.write(snap, staging / SNAPSHOT_FILE)
    (staging / SNAPSHOT_FILE).chmod(0o644)  # published with the report; secrets never reach a snapshot
    files: dict[str, str | None] = {"html": "index.html", "pdf": "report.pdf" if options.pdf else None}
    files["snapshot"] = SNAPSHOT_FILE
    for key, fmt, name in (("outputs.sarif", "sarif", "findings.sarif"), ("outputs.junit", "junit", "findings.xml")):
        files[fmt] = None
        if settings[key]:
            from meshreport.validation.model import ValidationResult

            (staging / name).write_text(machine.render(validation or ValidationResult(findings=[]), fmt))
            files[fmt] = name
    files["markdown"] = MD_FILE if settings["outputs.markdown"] else None
    summary = build_summary(snap, graph, validation, title=options.title, files=files)
    if gates:
        reasons = failed(gates, summary)
        summary["gate"] = {"failOn": [g.text for g in gates], "failed": bool(reasons), "reasons": reasons}
    write_summary(summary, staging)
    if settings["outputs.markdown"]:
        (staging / MD_FILE).write_text(markdown_summary(summary, validation))
    return summary
