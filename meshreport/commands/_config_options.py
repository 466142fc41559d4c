"""Shared click options for config collection: YAML files, or the Kubernetes API.

`@config_options` adds `--from-files` (with PATH... arguments, `-` for stdin), `--context`
(repeatable), `--kubeconfig`, `--in-cluster`, `--secret-names`, `--gateway-certs` and `--no-config`, and hands the
command ONE `config_source` argument. `collect_config_snapshot()` turns it into a config-only
Snapshot for `merge_config`.

Without explicit cluster options, config comes from wherever the `kubernetes` client would look
(in-cluster service account, then KUBECONFIG / ~/.kube/config); when that is missing or fails,
the snapshot records why instead of failing, because the metrics are still worth writing.
With explicit options a failure is the user's to fix: one line, exit 5.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from meshreport.errors import InputError, UsageError
from meshreport.snapshot.model import Gap, Snapshot, Source, Window

CONFIG_NOT_COLLECTED = "config"  # same `what` as the snapshot command's placeholder gap
_SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


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


def config_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add the config options to a command; it receives `config_source: ConfigSource`."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kw: Any) -> Any:
        src = ConfigSource(
            from_files=kw.pop("from_files"),
            paths=tuple(kw.pop("paths")),
            contexts=tuple(kw.pop("contexts")),
            kubeconfig=kw.pop("kubeconfig"),
            in_cluster=kw.pop("in_cluster"),
            secret_names=kw.pop("secret_names"),
            gateway_certs=kw.pop("gateway_certs"),
            skip=kw.pop("no_config"),
        )
        src.check()
        return f(*args, config_source=src, **kw)

    options = [
        click.argument("paths", nargs=-1, metavar="[PATH]..."),
        click.option(
            "--from-files",
            is_flag=True,
            help="Config-only snapshot from YAML: the PATH arguments are files, folders (recursive) or - for stdin.",
        ),
        click.option(
            "--context",
            "contexts",
            multiple=True,
            metavar="NAME",
            help="Kubeconfig context to collect config from; repeat for several clusters (objects are "
            "tagged with the context name).",
        ),
        click.option("--kubeconfig", metavar="FILE", help="Kubeconfig file [KUBECONFIG or ~/.kube/config]."),
        click.option("--in-cluster", is_flag=True, help="Use the pod's service account (CronJob)."),
        click.option(
            "--secret-names",
            is_flag=True,
            help="Also list Secret names (metadata only, never data) for gateway certificate checks; "
            "needs the opt-in role in deploy/rbac.yaml.",
        ),
        click.option(
            "--gateway-certs",
            is_flag=True,
            help="Also read the Secrets Gateways name in tls.credentialName and keep only facts about their "
            "certificate (validity, subject, key matches), never the data, for IST0161; implies --secret-names "
            "and needs both opt-in roles in deploy/rbac.yaml.",
        ),
        click.option("--no-config", is_flag=True, help="Metrics only: do not collect Kubernetes config."),
    ]
    for opt in reversed(options):
        wrapper = opt(wrapper)
    return wrapper


def collect_config_snapshot(src: ConfigSource, namespaces: list[str] | None, window: Window) -> Snapshot | None:
    """A config-only snapshot (no metrics gap) to merge into a metrics snapshot; None when skipped.

    `namespaces` None means every namespace.
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
