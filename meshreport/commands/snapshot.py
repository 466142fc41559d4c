"""`meshreport snapshot`: collect a window from Prometheus (and, later, config) into a `.mrsnap` file.

Thin: options -> Settings -> collect metrics -> merge config -> write -> exit code. Config
collection (Kubernetes API or YAML files) plugs in at `collect_config()`; until then the
snapshot records a config gap so the report says why it has no findings.
"""

from __future__ import annotations

import click

from meshreport.cli import cli
from meshreport.collect.manifests import METRICS_NOT_COLLECTED, config_snapshot_from_files
from meshreport.collect.prometheus import collect
from meshreport.commands._config_options import ConfigSource, collect_config_snapshot, config_options
from meshreport.commands._prometheus_options import prometheus_options
from meshreport.errors import GapsError, UsageError
from meshreport.progress import Progress
from meshreport.settings import Settings, resolve_window
from meshreport.snapshot import store
from meshreport.snapshot.model import Gap, Snapshot, Window

#: Istio's default cluster id, the cluster of YAML objects nothing else names.
DEFAULT_CLUSTER = "Kubernetes"
#: `what` of the placeholder gap written while config collection does not exist.
CONFIG_NOT_COLLECTED = "config"


@cli.command(
    "snapshot",
    help="Collect a window of Istio metrics from Prometheus into a snapshot file.\n\n"
    "Example: meshreport snapshot --prometheus http://prometheus.istio-system:9090 --window 24h "
    "--all-namespaces -o mesh.mrsnap\n\n"
    "Failed queries are recorded as gaps in the snapshot; with --max-gaps N more than N gaps "
    "exit with code 4 (the snapshot is still written). Unreachable Prometheus or 401/403: exit 5. "
    "A window shorter than twice the scrape interval: exit 2.\n\n"
    "Config (workloads, Istio and Gateway API objects) comes from the Kubernetes API (--context, "
    "--kubeconfig, --in-cluster; by default wherever kubectl would look). With --from-files PATH... "
    "it is a config-only snapshot of YAML files, folders or - (stdin); bad YAML: exit 5. With both "
    "--prometheus URL and --from-files PATH... one snapshot holds the metrics and the YAML config, so a "
    "graph with badges needs no Kubernetes API (namespaces default to those the files define; the objects "
    "belong to --cluster, else to the one cluster the metrics name, else to Kubernetes).",
)
@prometheus_options
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
def snapshot_cmd(
    settings: Settings,
    config_source: ConfigSource,
    output: str,
    max_gaps: int | None,
    cluster: str | None,
    quiet: bool,
) -> None:
    settings = settings.with_flags({"max_gaps": max_gaps})
    progress = Progress(quiet=quiet)
    window = resolve_window(settings)
    with_metrics = config_source.from_files and settings.origin("prometheus.url") == "flag"
    if cluster is not None and not with_metrics:
        raise UsageError("--cluster needs both --prometheus URL and --from-files PATH...")
    if with_metrics:
        snap = metrics_and_files(settings, window, progress, config_source.paths, cluster)
    elif config_source.from_files:
        snap = config_snapshot_from_files(config_source.paths, now=window.end, window_s=window.duration)
    else:
        metrics = collect(settings, window, progress=progress)
        snap = merge_config(metrics, collect_config(settings, window, progress, config_source))
    # For the report's appendix ("how was this collected"): secrets are *** in this view.
    snap.collector["settings"] = settings.redacted()
    store.write(snap, output)
    if not quiet:
        click.echo(
            f"meshreport: wrote {output}: {len(snap.namespaces)} namespaces, {len(snap.queries)} queries, "
            f"{len(snap.gaps)} gaps",
            err=True,
        )
    check_gaps(snap, settings["max_gaps"])


def metrics_and_files(
    settings: Settings, window: Window, progress: Progress, paths: tuple[str, ...], cluster: str | None
) -> Snapshot:
    """Metrics from Prometheus plus config from YAML in one snapshot (the files are read first:
    bad YAML fails before any query runs)."""
    config = config_snapshot_from_files(paths, now=window.end, window_s=window.duration)
    config.gaps = [g for g in config.gaps if not (g.phase == "metrics" and g.what == METRICS_NOT_COLLECTED)]
    namespaces = None
    if not settings["namespaces"] and not settings["all_namespaces"]:
        namespaces = list(config.namespaces)
        if not namespaces:
            raise UsageError("the files define no namespace: say which to collect with --namespaces a,b or -A")
    metrics = collect(settings, window, progress=progress, namespaces=namespaces)
    owner = cluster or _only_cluster(metrics) or DEFAULT_CLUSTER
    for o in config.objects:
        o.cluster = owner
    config.source.clusters = [owner]
    return merge_config(metrics, config)


def _only_cluster(snap: Snapshot) -> str | None:
    """The cluster every collected series names (source or destination), when there is just one."""
    seen: set[str] = set()
    for q in snap.queries:
        if not q.key.startswith("graph/"):
            continue
        for s in q.series:
            for key in ("source_cluster", "destination_cluster"):
                value = s.labels.get(key)
                if value and value != "unknown":
                    seen.add(value)
            if len(seen) > 1:
                return None
    return next(iter(seen)) if seen else None


def collect_config(
    settings: Settings, window: Window, progress: Progress, source: ConfigSource | None = None
) -> Snapshot | None:
    """Config from the Kubernetes API as a config-only snapshot (see commands/_config_options.py).

    None means "not collected"; `merge_config` then records a config gap.
    """
    if source is None:
        return None
    namespaces = None if settings["all_namespaces"] or not settings["namespaces"] else list(settings["namespaces"])
    return collect_config_snapshot(source, namespaces, window)


def merge_config(metrics: Snapshot, config: Snapshot | None) -> Snapshot:
    """Fold a config-only snapshot (objects, its gaps, diagnostics, facts) into the metrics snapshot."""
    if config is None:
        metrics.gaps.append(
            Gap(
                phase="config",
                what=CONFIG_NOT_COLLECTED,
                reason="config not collected: this snapshot holds metrics only, so no validation findings",
            )
        )
        return metrics
    metrics.objects.extend(config.objects)
    metrics.gaps.extend(config.gaps)
    metrics.diagnostics.extend(config.diagnostics)
    metrics.source.kind = "mixed"
    metrics.source.clusters = sorted(set(metrics.source.clusters) | set(config.source.clusters))
    metrics.source.versions.update(config.source.versions)
    for ns in config.namespaces:
        if ns not in metrics.namespaces:
            metrics.namespaces.append(ns)
    metrics.collector["config"] = config.collector.get("config", config.collector)
    return metrics


def counted_gaps(snap: Snapshot) -> list[Gap]:
    """Gaps that count against --max-gaps: everything except the 'config not collected' placeholder,
    which is a choice of what to collect, not data that went missing."""
    return [
        g
        for g in snap.gaps
        if not (g.phase == "config" and g.what == CONFIG_NOT_COLLECTED)
        and not (g.phase == "metrics" and g.what == METRICS_NOT_COLLECTED)
    ]


def check_gaps(snap: Snapshot, max_gaps: int | None) -> None:
    gaps = counted_gaps(snap)
    if max_gaps is not None and len(gaps) > max_gaps:
        first = gaps[0]
        where = f" in {first.namespace}" if first.namespace else ""
        raise GapsError(
            f"collection incomplete: {len(gaps)} gaps, more than --max-gaps {max_gaps} "
            f"(first: {first.what}{where}: {first.reason}); the snapshot was still written"
        )
