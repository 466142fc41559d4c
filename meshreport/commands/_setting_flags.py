"""`@setting_flags(...)`: click options that set declared settings, on top of `@prometheus_options`.

The command still receives ONE `settings` argument: the flags given here override what
`@prometheus_options` resolved (flag > MESHREPORT_* env > config file > default), so every
option of `meshreport run` and `meshreport send` has its environment variable and config key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from meshreport.settings import Settings, setting

#: (setting key, click parameter declarations, extra click attributes)
FlagSpec = tuple[str, tuple[str, ...], dict[str, Any]]

#: Deep links from the service pages (`render` and `run`).
LINK_FLAGS: list[FlagSpec] = [
    ("links.kiali", ("--kiali-url",), {"metavar": "URL"}),
    ("links.grafana", ("--grafana-url",), {"metavar": "URL"}),
    ("links.grafana_service_dashboard", ("--grafana-service-dashboard",), {"metavar": "PATH"}),
    ("links.grafana_workload_dashboard", ("--grafana-workload-dashboard",), {"metavar": "PATH"}),
    ("links.jaeger", ("--jaeger-url",), {"metavar": "URL"}),
]


def setting_flags(specs: list[FlagSpec]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, settings: Settings, **kwargs: Any) -> Any:
            flags: dict[str, Any] = {}
            for key, _decls, _attrs in specs:
                value = kwargs.pop(_param(key), None)
                if value is None or value == ():
                    continue
                # repeated list flags may also hold comma-separated items: one string, split by the setting
                flags[key] = ",".join(value) if isinstance(value, tuple) else value
            return f(*args, settings=settings.with_flags(flags), **kwargs)

        for key, decls, attrs in reversed(specs):
            s = setting(key)
            attrs = {"default": None, "help": s.doc + (f" [env {s.env}]"), **attrs}
            wrapper = click.option(*decls, _param(key), **attrs)(wrapper)
        return wrapper

    return decorate


def _param(key: str) -> str:
    return "s_" + key.replace(".", "_")


def config_file_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--config FILE` alone, for commands without the Prometheus options; hands on `settings`."""

    @functools.wraps(f)
    def wrapper(*args: Any, config_file: str | None = None, **kwargs: Any) -> Any:
        return f(*args, settings=Settings.load(config_file=config_file), **kwargs)

    return click.option("--config", "config_file", metavar="FILE", help="YAML config file (also MESHREPORT_CONFIG).")(
        wrapper
    )
