"""Shared click options: Prometheus connection, window, namespaces and `--config`.

`@prometheus_options` adds the options to a command and hands it ONE resolved `settings`
argument (flag > MESHREPORT_* env > config file > default) instead of twenty keyword arguments,
so `snapshot`, `graph` and `render` (live mode) parse them identically. Usage:

    @cli.command("graph")
    @prometheus_options
    def graph_cmd(settings: Settings, ...):
        if settings["prometheus.url"]:
            snap = pipeline.collect_metrics(settings)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from meshreport.settings import Settings

#: (click parameter name, setting key, click option arguments)
_OPTIONS: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = [
    ("config_file", "", ("--config",), {"metavar": "FILE", "help": "YAML config file (also MESHREPORT_CONFIG)."}),
    ("prometheus_url", "prometheus.url", ("--prometheus",), {"metavar": "URL", "help": "Prometheus API base URL."}),
    ("window", "window", ("--window",), {"metavar": "DURATION", "help": "Window length, e.g. 1h, 24h, 7d [24h]."}),
    ("end", "end", ("--end",), {"metavar": "TIME", "help": "Window end: RFC 3339 or unix seconds [now]."}),
    (
        "namespaces",
        "namespaces",
        ("-n", "--namespaces"),
        {"metavar": "A,B", "help": "Namespaces to collect (comma-separated)."},
    ),
    (
        "aggregate",
        "aggregate",
        ("--aggregate",),
        {
            "metavar": "LABEL",
            "help": "Also collect requests grouped by this label for aggregate nodes (Kiali's aggregate, "
            "e.g. request_operation; comma-separated).",
        },
    ),
    (
        "all_namespaces",
        "all_namespaces",
        ("-A", "--all-namespaces"),
        {"is_flag": True, "default": None, "help": "Every namespace with Istio metrics in the window."},
    ),
    (
        "prom_auth_type",
        "prometheus.auth.type",
        ("--prometheus-auth-type",),
        {"type": click.Choice(["none", "basic", "bearer"]), "help": "Auth type [inferred]."},
    ),  # noqa: E501
    (
        "prom_token",
        "prometheus.auth.token",
        ("--prometheus-token",),
        {"metavar": "TOKEN", "help": "Bearer token (prefer the env var or a token file)."},
    ),  # noqa: E501
    (
        "prom_token_file",
        "prometheus.auth.token_file",
        ("--prometheus-token-file",),
        {"metavar": "FILE", "help": "File with the bearer token."},
    ),  # noqa: E501
    (
        "prom_username",
        "prometheus.auth.username",
        ("--prometheus-username",),
        {"metavar": "USER", "help": "Basic auth user."},
    ),  # noqa: E501
    (
        "prom_password",
        "prometheus.auth.password",
        ("--prometheus-password",),
        {"metavar": "PASSWORD", "help": "Basic auth password (prefer the env var)."},
    ),  # noqa: E501
    (
        "prom_ca_file",
        "prometheus.auth.ca_file",
        ("--prometheus-ca-file",),
        {"metavar": "FILE", "help": "CA bundle (PEM)."},
    ),  # noqa: E501
    (
        "prom_cert_file",
        "prometheus.auth.cert_file",
        ("--prometheus-cert-file",),
        {"metavar": "FILE", "help": "Client certificate (PEM)."},
    ),  # noqa: E501
    (
        "prom_key_file",
        "prometheus.auth.key_file",
        ("--prometheus-key-file",),
        {"metavar": "FILE", "help": "Client key (PEM)."},
    ),  # noqa: E501
    (
        "prom_insecure",
        "prometheus.auth.insecure_skip_verify",
        ("--prometheus-insecure-skip-verify",),
        {"is_flag": True, "default": None, "help": "Do not verify TLS (warned about)."},
    ),  # noqa: E501
    (
        "prom_headers",
        "prometheus.custom_headers",
        ("--prometheus-header",),
        {
            "metavar": "'NAME: VALUE'",
            "multiple": True,
            "help": "Extra header, repeatable (e.g. 'X-Scope-OrgID: team-a').",
        },
    ),  # noqa: E501
    (
        "query_scope",
        "prometheus.query_scope",
        ("--query-scope",),
        {"metavar": "LABEL=VALUE", "multiple": True, "help": "Label matcher added to every query, repeatable."},
    ),  # noqa: E501
    (
        "prom_timeout",
        "prometheus.timeout",
        ("--prometheus-timeout",),
        {"metavar": "DURATION", "help": "Deadline of each query, body included [30s]."},
    ),  # noqa: E501
    (
        "deadline",
        "deadline",
        ("--deadline",),
        {"metavar": "DURATION", "help": "Deadline of the whole collection; what is not done by then is a gap [30m]."},
    ),
    (
        "prom_retries",
        "prometheus.retries",
        ("--prometheus-retries",),
        {"type": int, "metavar": "N", "help": "Retries per query [2]."},
    ),  # noqa: E501
    (
        "prom_backoff",
        "prometheus.retry_backoff",
        ("--prometheus-retry-backoff",),
        {"metavar": "DURATION", "help": "First retry backoff, doubles [1s]."},
    ),  # noqa: E501
    (
        "concurrency",
        "prometheus.concurrency",
        ("--concurrency",),
        {"type": int, "metavar": "N", "help": "Queries in flight [8]."},
    ),  # noqa: E501
    (
        "batch_namespaces",
        "prometheus.batch_namespaces",
        ("--batch-namespaces",),
        {"type": int, "metavar": "N", "help": "Namespaces per request, split when too big [10]."},
    ),  # noqa: E501
    (
        "scrape_interval",
        "prometheus.scrape_interval",
        ("--scrape-interval",),
        {"metavar": "DURATION", "help": "Scrape interval to use instead of asking Prometheus [ask, else 15s]."},
    ),  # noqa: E501
]


def prometheus_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add connection/window/namespace/--config options; call `f(settings=Settings, **other_kwargs)`."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        config_file = kwargs.pop("config_file", None)
        flags: dict[str, Any] = {}
        for name, key, _, _ in _OPTIONS[1:]:
            value = kwargs.pop(name, None)
            if value is None or value == ():
                continue
            flags[key] = value
        kwargs["settings"] = Settings.load(config_file=config_file, flags=flags)
        return f(*args, **kwargs)

    for name, _key, decls, attrs in reversed(_OPTIONS):
        wrapper = click.option(*decls, name, **attrs)(wrapper)
    return wrapper
