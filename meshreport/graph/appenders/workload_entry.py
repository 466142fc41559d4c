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
        """Kiali's rule: a WorkloadEntry of the node's namespace backs a workload or app node when it
        has both an app and a version label and both equal the node's (a versionless app node only
        matches an entry whose version label is empty); entries are read from the node's own
        cluster; nodes outside the processed namespace or in an unreadable one are not badged."""
        entries = ctx.index.workload_entries_by_ns.get(ctx.namespace or "", [])
        if not entries:
            return
        labelled = []
        for we in entries:
            lb = we.spec.get("labels") or {}
            app, version = label_value(lb, APP_LABELS), label_value(lb, VERSION_LABELS)
            if app is not None and version is not None:
                labelled.append((we.cluster, we.name, app, version))
        for n in graph.nodes.values():
            if n.node_type not in ("workload", "app") or n.namespace != ctx.namespace:
                continue
            if not ctx.is_accessible(n.cluster, n.namespace):
                continue
            found = [
                {"name": name}
                for cluster, name, app, version in labelled
                if cluster == n.cluster and app == n.app and version == n.version
            ]
            if found:
                n.metadata["hasWorkloadEntry"] = found
