"""Appender registry and Kiali's selection rules (Kiali graph/telemetry/istio/appender/, graph/options.go).

Order is fixed and matters (serviceEntry before deadNode, outsider before istio, trafficGenerator
last). `extensions`, `outsider` and `trafficGenerator` always run, whatever the list says.
Each appender module is imported the first time the graph asks for it.
"""

from __future__ import annotations

import importlib

from meshreport.errors import UsageError
from meshreport.graph.appenders.base import Appender, AppenderContext

NAMESPACE_ORDER = (
    "serviceEntry",
    "deadNode",
    "workloadEntry",
    "responseTime",
    "securityPolicy",
    "throughput",
    "aggregateNode",
    "idleNode",
    "meshCheck",
)
FINALIZER_ORDER = ("extensions", "outsider", "istio", "ambient", "health", "labeler", "trafficGenerator")
ALWAYS = frozenset({"extensions", "outsider", "trafficGenerator"})
ALIASES = {"sidecarsCheck": "meshCheck"}

#: name -> (module, class). Kiali names not listed (ambient, labeler, extensions) are accepted and
#: do nothing: meshreport has no Ambient or extensions support.
IMPLEMENTED: dict[str, tuple[str, str]] = {
    "serviceEntry": ("meshreport.graph.appenders.service_entry", "ServiceEntryAppender"),
    "deadNode": ("meshreport.graph.appenders.dead_node", "DeadNodeAppender"),
    "workloadEntry": ("meshreport.graph.appenders.workload_entry", "WorkloadEntryAppender"),
    "responseTime": ("meshreport.graph.appenders.response_time", "ResponseTimeAppender"),
    "securityPolicy": ("meshreport.graph.appenders.security_policy", "SecurityPolicyAppender"),
    "throughput": ("meshreport.graph.appenders.throughput", "ThroughputAppender"),
    "aggregateNode": ("meshreport.graph.appenders.aggregate_node", "AggregateNodeAppender"),
    "idleNode": ("meshreport.graph.appenders.idle_node", "IdleNodeAppender"),
    "meshCheck": ("meshreport.graph.appenders.mesh_check", "MeshCheckAppender"),
    "outsider": ("meshreport.graph.appenders.outsider", "OutsiderAppender"),
    "istio": ("meshreport.graph.appenders.istio", "IstioAppender"),
    "health": ("meshreport.graph.appenders.node_health", "HealthAppender"),
    "trafficGenerator": ("meshreport.graph.appenders.traffic_generator", "TrafficGeneratorAppender"),
}
KNOWN = frozenset(NAMESPACE_ORDER) | frozenset(FINALIZER_ORDER) | frozenset(ALIASES)


def selected_names(names: list[str] | None) -> list[str]:
    """Kiali's ParseAppenders: None = every appender; a list = those plus the always-on ones.

    Unknown names are a usage error ("Invalid appender [x]"), as in Kiali's HTTP 400.
    """
    if names is None:
        wanted = set(NAMESPACE_ORDER) | set(FINALIZER_ORDER)
    else:
        wanted = set(ALWAYS)
        for raw in names:
            name = raw.strip()
            if not name:
                continue
            if name not in KNOWN:
                raise UsageError(f"Invalid appender [{name}]")
            wanted.add(ALIASES.get(name, name))
    return [n for n in NAMESPACE_ORDER + FINALIZER_ORDER if n in wanted]


def load(name: str) -> Appender | None:
    """An instance of the named appender, or None for a Kiali name meshreport does not implement."""
    spec = IMPLEMENTED.get(name)
    if spec is None:
        return None
    module_name, cls_name = spec
    return getattr(importlib.import_module(module_name), cls_name)()


def select(names: list[str] | None) -> tuple[list[Appender], list[Appender]]:
    """(namespace appenders, finalizers) to run, in Kiali's order."""
    ns_apps: list[Appender] = []
    finals: list[Appender] = []
    for name in selected_names(names):
        a = load(name)
        if a is None:
            continue
        (finals if a.finalizer else ns_apps).append(a)
    return ns_apps, finals


__all__ = ["Appender", "AppenderContext", "select", "selected_names", "load", "NAMESPACE_ORDER", "FINALIZER_ORDER"]
