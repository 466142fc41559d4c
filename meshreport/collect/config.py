"""Config collection as the user asked for it (YAML files or the Kubernetes API), and how a
config-only snapshot is folded into a metrics snapshot.

Without explicit cluster options, config comes from wherever the `kubernetes` client would look
(in-cluster service account, then KUBECONFIG / ~/.kube/config); when that is missing or fails,
the snapshot records why instead of failing, because the metrics are still worth writing.
With explicit options a failure is the user's to fix: one line, exit 5.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshreport.collect.manifests import METRICS_NOT_COLLECTED, config_snapshot_from_files
from meshreport.errors import InputError, UsageError
from meshreport.snapshot.model import Gap, Snapshot, Source, Window

if TYPE_CHECKING:
    from meshreport.collect.http import RunDeadline
    from meshreport.progress import Progress
    from meshreport.settings import Settings

#: Istio's default cluster id, the cluster of YAML objects nothing else names.
DEFAULT_CLUSTER = "Kubernetes"
#: `what` of the gap recorded when config was not collected (a choice, not missing data).
CONFIG_NOT_COLLECTED = "config"
_SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: The cluster of file objects whose owner is known only once the metrics are in (never a cluster name).
_OWNER_PENDING = ""


@dataclass(frozen=True)
class ConfigSource:
    """Where config comes from, as the user asked."""

    from_files: bool = False
    paths: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    kubeconfig: str | None = None
    in_cluster: bool = False
    secret_names: bool = False
    gateway_certs: bool = False  # implies secret_names
    skip: bool = False

    @property
    def explicit_cluster(self) -> bool:
        return bool(self.contexts or self.kubeconfig or self.in_cluster)

    def check(self) -> None:
        """Flag combinations click cannot express."""
        if self.paths and not self.from_files:
            raise UsageError(f"unexpected argument {self.paths[0]!r} (input files need --from-files)")
        if self.from_files and not self.paths:
            raise UsageError("--from-files needs at least one PATH (a file, a folder or - for stdin)")
        if self.from_files and (self.explicit_cluster or self.secret_names or self.gateway_certs):
            raise UsageError(
                "--from-files cannot be combined with --context, --kubeconfig, --in-cluster, --secret-names, "
                "--gateway-certs (Secrets in files are always checked, as certificate facts only)"
            )
        if self.skip and (self.from_files or self.explicit_cluster):
            raise UsageError("--no-config cannot be combined with --from-files or cluster options")
        if self.in_cluster and (self.contexts or self.kubeconfig):
            raise UsageError("--in-cluster cannot be combined with --context or --kubeconfig")


def collect_config_snapshot(
    src: ConfigSource,
    namespaces: list[str] | None,
    window: Window,
    *,
    request_timeout: float = 60.0,
    run: RunDeadline | None = None,
) -> Snapshot | None:
    """A config-only snapshot (no metrics gap) to merge into a metrics snapshot; None when skipped.

    `namespaces` None means every namespace; `request_timeout` is each request's deadline and `run`
    the whole collection's (what it cuts off becomes gaps).
    """
    from meshreport.collect.kubernetes import config_snapshot_from_cluster

    if src.skip:
        return None
    kw: dict[str, Any] = {
        "now": window.end,
        "window_s": window.duration,
        "metrics_gap": False,
        "secret_names": src.secret_names,
        "gateway_certs": src.gateway_certs,
        "request_timeout": request_timeout,
        "run": run,
    }
    if src.explicit_cluster:
        return config_snapshot_from_cluster(
            list(src.contexts) or None, namespaces, in_cluster=src.in_cluster, kubeconfig=src.kubeconfig, **kw
        )
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and Path(_SA_TOKEN).exists()
    if not in_cluster and not _default_kubeconfig_exists():
        return None
    try:
        return config_snapshot_from_cluster(None, namespaces, in_cluster=in_cluster, **kw)
    except InputError as e:
        return Snapshot(
            window=window,
            source=Source(kind="kubernetes"),
            namespaces=[],
            gaps=[Gap(phase="config", what=CONFIG_NOT_COLLECTED, reason=f"config not collected: {e.message}")],
        )


def _default_kubeconfig_exists() -> bool:
    env = os.environ.get("KUBECONFIG")
    if env:
        return any(Path(p).expanduser().is_file() for p in env.split(os.pathsep) if p)
    return Path("~/.kube/config").expanduser().is_file()


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


def metrics_and_files(
    settings: Settings, window: Window, progress: Progress, paths: tuple[str, ...], cluster: str | None
) -> Snapshot:
    """Metrics from Prometheus plus config from YAML in one snapshot (the files are read first:
    bad YAML fails before any query runs). Inputs written `CLUSTER=PATH` keep their cluster; the
    others belong to `cluster`, else the one cluster the metrics name, else Istio's default."""
    config = config_snapshot_from_files(paths, now=window.end, window_s=window.duration, cluster=_OWNER_PENDING)
    config.gaps = [g for g in config.gaps if not (g.phase == "metrics" and g.what == METRICS_NOT_COLLECTED)]
    namespaces = None
    if not settings["namespaces"] and not settings["all_namespaces"]:
        namespaces = list(config.namespaces)
        if not namespaces:
            raise UsageError("the files define no namespace: say which to collect with --namespaces a,b or -A")
    from meshreport.collect.prometheus import collect

    metrics = collect(settings, window, progress=progress, namespaces=namespaces)
    owner = cluster or _only_cluster(metrics) or DEFAULT_CLUSTER
    for o in config.objects:
        if o.cluster == _OWNER_PENDING:
            o.cluster = owner
    config.source.clusters = sorted({o.cluster for o in config.objects}) or [owner]
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
