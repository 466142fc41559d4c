"""workloadEntry: list the WorkloadEntries (same namespace, same app/version labels) behind a node."""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.model import TrafficGraph
from meshreport.hosts import label_value
from meshreport.istio_names import APP_LABELS, VERSION_LABELS


class WorkloadEntryAppender:
    name = "workloadEntry"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        entries = ctx.index.workload_entries_by_ns.get(ctx.namespace or "", [])
        if not entries:
            return
        labelled = []
        for we in entries:
            lb = we.spec.get("labels") or {}
            labelled.append((we.name, label_value(lb, APP_LABELS), label_value(lb, VERSION_LABELS)))
        for n in graph.nodes.values():
            if n.node_type not in ("workload", "app") or n.namespace != ctx.namespace or not n.app:
                continue
            found = [
                {"name": name}
                for name, app, version in labelled
                if app == n.app and (not n.version or version == n.version)
            ]
            if found:
                n.metadata["hasWorkloadEntry"] = found
