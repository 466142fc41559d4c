"""deadNode: drop zero-traffic nodes with nothing behind them; flag workloads with no pods.

Matters mostly with idle edges: a 0-rate series names a workload that may be gone.
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext, remove_nodes
from meshreport.graph.model import TrafficGraph, is_ok

_RATES = ("httpIn", "httpOut", "grpcIn", "grpcOut", "tcpIn", "tcpOut")


class DeadNodeAppender:
    name = "deadNode"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        for _ in range(len(graph.nodes)):  # removals can orphan more nodes; bounded like Kiali's maxTries
            if not self._pass(graph, ctx):
                break

    def _pass(self, graph: TrafficGraph, ctx: AppenderContext) -> int:
        """Kiali's applyDeadNodes. The workload is looked up per cluster in the namespace being
        processed; a node whose (cluster, namespace) config could not be read is kept, since its
        workload cannot be checked."""
        sources = {k[0] for k in graph.edges}
        dead: set[str] = set()
        namespace = ctx.namespace or ""
        for nid, n in graph.nodes.items():
            if any(n.rates.get(r, 0.0) > 0 for r in _RATES):
                continue
            if n.node_type == "aggregate":
                continue
            md = n.metadata
            if n.node_type == "service":
                if nid in sources or md.get("isServiceEntry") or md.get("isEgressCluster"):
                    continue
                dead.add(nid)
                continue
            if n.node_type != "unknown":
                if not is_ok(n.workload) or not ctx.is_accessible(n.cluster, n.namespace):
                    continue
            w = ctx.index.workload(n.cluster, namespace, n.workload, strict=True)
            if w is None:
                dead.add(nid)  # always for the unknown source with no traffic
            elif w.pod_count == 0:
                md["isDead"] = True
        remove_nodes(graph, dead)
        return len(dead)
