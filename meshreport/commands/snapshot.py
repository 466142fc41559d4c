"""`meshreport snapshot`: collect a window of metrics from Prometheus and config from the
Kubernetes API (or config only, from YAML files, or metrics plus YAML files) into a `.mrsnap` file.

Thin: options -> Settings -> `pipeline.collect` -> write -> exit code. Config that was not
collected is recorded as a gap, so the report says why it has no findings.
"""

from __future__ import annotations

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.commands._config_options import config_options
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.commands._setting_flags import setting_flags
from meshreport.progress import Progress
from meshreport.settings import Settings
from meshreport.visible import one_line as visible


@cli.command(
    "snapshot",
    help="Collect a window of Istio metrics from Prometheus into a snapshot file.\n\n"
    "Example: meshreport snapshot --prometheus http://prometheus.istio-system:9090 --window 24h "
    "--all-namespaces -o mesh.mrsnap\n\n"
    "Failed queries are recorded as gaps in the snapshot; with --max-gaps N more than N gaps "
    "exit with code 4 (the snapshot is still written). Each query ends by --prometheus-timeout and each "
    "Kubernetes request by --kubernetes-timeout, bodies included; the whole collection by --deadline, after "
    "which what is left becomes gaps. Unreachable Prometheus or 401/403, or a Kubernetes API refusing "
    "explicit credentials (401): exit 5. "
    "A window shorter than twice the scrape interval: exit 2.\n\n"
    "Config (workloads, Istio and Gateway API objects) comes from the Kubernetes API (--context, "
    "--kubeconfig, --in-cluster; by default wherever kubectl would look). With --from-files PATH... "
    "it is a config-only snapshot of YAML files, folders or - (stdin); documents that are not Kubernetes objects "
    "become gaps (file:line), exit 5 only when no object could be read. With both "
    "--prometheus URL and --from-files PATH... one snapshot holds the metrics and the YAML config, so a "
    "graph with badges needs no Kubernetes API (namespaces default to those the files define; the objects "
    "belong to --cluster, else to the one cluster the metrics name, else to Kubernetes). A PATH written "
    "CLUSTER=PATH holds the config of that cluster (a multi-cluster mesh: cluster1=k8s/east cluster2=k8s/west); "
    "an argument naming an existing file as written stays a path.",
)
@prometheus_options
@setting_flags([("kubernetes.timeout", ("--kubernetes-timeout",), {"metavar": "DURATION"})])
@config_options
@click.option("-o", "--output", required=True, metavar="FILE", help="Snapshot file to write (.mrsnap).")
@click.option("--max-gaps", type=int, default=None, metavar="N", help="Exit 4 when more than N gaps [no limit].")
@click.option(
    "--cluster",
    metavar="NAME",
    default=None,
    help="With --prometheus and --from-files: the cluster the YAML objects belong to "
    "[the one cluster the metrics name, else Kubernetes].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output (warnings still shown).")
@click.option(
    "--explain",
    is_flag=True,
    help="After collecting, list the 10 slowest Prometheus requests (seconds, Prometheus' own time, "
    "MB, series, query key and namespaces) on stdout.",
)
def snapshot_cmd(
    settings: Settings,
    config_source: pipeline.ConfigSource,
    output: str,
    max_gaps: int | None,
    cluster: str | None,
    quiet: bool,
    explain: bool,
) -> None:
    settings = settings.with_flags({"max_gaps": max_gaps})
    snap = pipeline.collect(settings, config_source, Progress(quiet=quiet), cluster=cluster)
    # For the report's appendix ("how was this collected"): secrets are *** in this view.
    snap.collector["settings"] = settings.redacted()
    pipeline.save(snap, output)
    if not quiet:
        click.echo(
            f"meshreport: wrote {output}: {len(snap.namespaces)} namespaces, {len(snap.queries)} queries, "
            f"{len(snap.gaps)} gaps",
            err=True,
        )
    if explain:
        _explain(snap)
    pipeline.check_gaps(snap, settings["max_gaps"])


def _explain(snap) -> None:
    rows = pipeline.slowest_requests(snap)
    if not rows:
        click.echo("no Prometheus requests recorded in this snapshot")
        return
    click.echo(f"{'seconds':>8} {'prometheus':>10} {'MB':>8} {'series':>8}  query (namespaces)")
    for r in rows:
        own, size, series = r.get("prometheus_seconds"), r.get("bytes"), r.get("series")
        names = [visible(str(n)) for n in r.get("namespaces") or []]
        shown = ", ".join(names[:4]) + (f" +{len(names) - 4}" if len(names) > 4 else "")
        outcome = "" if r.get("outcome") == "ok" else f" {r.get('outcome')}"
        key = visible(str(r.get("key")))
        click.echo(
            f"{_num(r.get('seconds'), '.2f'):>8} {_num(own, '.2f'):>10} {_num(size, '.1f', 1e6):>8} "
            f"{_num(series, 'd'):>8}  {key} ({shown}){visible(outcome)}"
        )


def _num(x, fmt: str, unit: float = 1.0) -> str:
    """A recorded number as text; "-" when absent (or not a number: the file is untrusted)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "-"
    return format(int(x) if fmt == "d" else x / unit, fmt)
