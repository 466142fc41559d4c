"""Deep links from a service page into Kiali, Grafana and Jaeger, for the report's own window.

Only for the tools whose base URL is configured (`links.*` settings, docs/configuration.md); every
path segment and query value is percent-encoded, since names come from the cluster.

- Kiali: `<base>/console/namespaces/<ns>/{services,workloads,applications}/<name>` with
  `duration` (seconds) and the window's bounds `from`/`to` (ms since the epoch), Kiali's URL
  parameters; `<base>` includes Kiali's web root (`/kiali` by default).
- Grafana: Istio's Service Dashboard (`var-service` = the service's host) and Workload Dashboard
  (`var-namespace`, `var-workload`), `from`/`to` in ms; the dashboards' paths default to the uids
  Istio publishes them with and can be configured.
- Jaeger: `<base>/search?service=<app>.<ns>&start=..&end=..` (µs) with `lookback=custom`; Istio names a
  proxy's traces `<app>.<namespace>` by default (`tracingServiceName: APP_LABEL_AND_NAMESPACE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from meshreport.hosts import service_fqdn

#: Istio's published dashboards (grafana.com 7636 and 7630) keep these uids.
GRAFANA_SERVICE_DASHBOARD = "/d/LJ_uJAvmk/istio-service-dashboard"
GRAFANA_WORKLOAD_DASHBOARD = "/d/UbsSZTDik/istio-workload-dashboard"
JAEGER_LIMIT = 20


@dataclass(frozen=True)
class LinkBases:
    """Base URLs (http or https, checked by the settings), None when a tool is not configured."""

    kiali: str | None = None
    grafana: str | None = None
    jaeger: str | None = None
    grafana_service_dashboard: str = GRAFANA_SERVICE_DASHBOARD
    grafana_workload_dashboard: str = GRAFANA_WORKLOAD_DASHBOARD

    @property
    def any(self) -> bool:
        return bool(self.kiali or self.grafana or self.jaeger)


@dataclass(frozen=True)
class DeepLink:
    tool: str
    label: str
    url: str


def _q(value: str) -> str:
    return quote(value, safe="")


def _query(params: list[tuple[str, Any]]) -> str:
    return urlencode([(k, str(v)) for k, v in params], quote_via=quote)


def _path(path: str) -> str:
    """A configured dashboard path, each segment encoded, always starting with `/`."""
    return "/" + "/".join(_q(p) for p in path.strip("/").split("/") if p)


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + path


def node_links(bases: LinkBases, node: Any, window: Any) -> list[DeepLink]:
    """Links for one graph node (app, workload or service) over `window` (start, end in seconds)."""
    start, end = float(window.start), float(window.end)
    ms = [("from", int(start * 1000)), ("to", int(end * 1000))]
    ns = node.namespace
    out: list[DeepLink] = []
    kind, name = _kiali_target(node)
    if bases.kiali and name:
        params = [("duration", int(round(end - start))), *ms]
        if node.cluster and node.cluster != "unknown":
            params.append(("clusterName", node.cluster))
        path = f"/console/namespaces/{_q(ns)}/{kind}/{_q(name)}?{_query(params)}"
        label = "Kiali " + {"services": "service", "workloads": "workload"}.get(kind, "application")
        out.append(DeepLink("Kiali", label, _join(bases.kiali, path)))
    if bases.grafana:
        if node.node_type == "service":
            params = [("var-service", service_fqdn(node.service, ns)), *ms]
            url = _join(bases.grafana, _path(bases.grafana_service_dashboard) + "?" + _query(params))
            out.append(DeepLink("Grafana", "Grafana service dashboard", url))
        elif node.workload:
            params = [("var-namespace", ns), ("var-workload", node.workload), *ms]
            url = _join(bases.grafana, _path(bases.grafana_workload_dashboard) + "?" + _query(params))
            out.append(DeepLink("Grafana", "Grafana workload dashboard", url))
    trace = node.app or node.service or node.workload
    if bases.jaeger and trace:
        params = [
            ("service", f"{trace}.{ns}"),
            ("start", int(start * 1_000_000)),
            ("end", int(end * 1_000_000)),
            ("lookback", "custom"),
            ("limit", JAEGER_LIMIT),
        ]
        out.append(DeepLink("Jaeger", "Jaeger traces", _join(bases.jaeger, "/search?" + _query(params))))
    return out


def _kiali_target(node: Any) -> tuple[str, str]:
    if node.node_type == "service":
        return "services", node.service
    if node.node_type == "workload":
        return "workloads", node.workload
    return "applications", node.app
