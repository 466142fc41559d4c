"""Shared click options for config collection: YAML files, or the Kubernetes API.

`@config_options` adds `--from-files` (with PATH... arguments, `-` for stdin), `--context`
(repeatable), `--kubeconfig`, `--in-cluster`, `--secret-names`, `--gateway-certs` and `--no-config`, and hands the
command ONE `config_source` argument (a `meshreport.pipeline.ConfigSource`) for `pipeline.collect`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from meshreport.pipeline import ConfigSource


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
            help="Config-only snapshot from YAML: the PATH arguments are files, folders (recursive) or - for stdin; "
            "CLUSTER=PATH says PATH's objects belong to that cluster (one per cluster of a multi-cluster mesh).",
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
            "needs the opt-in role in deploy/kubernetes/rbac.yaml.",
        ),
        click.option(
            "--gateway-certs",
            is_flag=True,
            help="Also read the Secrets Gateways name in tls.credentialName and keep only facts about their "
            "certificate (validity, subject, key matches), never the data, for IST0161; implies --secret-names "
            "and needs both opt-in roles in deploy/kubernetes/rbac.yaml.",
        ),
        click.option("--no-config", is_flag=True, help="Metrics only: do not collect Kubernetes config."),
    ]
    for opt in reversed(options):
        wrapper = opt(wrapper)
    return wrapper
