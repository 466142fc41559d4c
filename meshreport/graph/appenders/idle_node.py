"""idleNode: add the namespace's services and workloads that had no traffic, flagged `isIdle`.

A report should show what is deployed but silent; Kiali adds them only on request (API default:
on, UI default: off).
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.ids import new_node, node_id
from meshreport.graph.model import TrafficGraph


class IdleNodeAppender:
    name = "idleNode"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        ns = ctx.namespace
        if ns is None:
            return
        gt = ctx.graph_type
        service_graph = ctx.options.graph_type == "service"
        if service_graph or ctx.inject_service_nodes:
            for svc in ctx.index.services_by_ns.get(ns, []):
                self._add(graph, gt, (svc.cluster, ns, svc.name, "", "", "", ""), ns)
        if not service_graph:
            for w in ctx.index.workloads_by_ns.get(ns, []):
                raw = (w.cluster, "", "", ns, w.name, w.app or "unknown", w.version or "unknown")
                self._add(graph, gt, raw, ns)

    @staticmethod
    def _add(graph: TrafficGraph, graph_type: str, raw: tuple, ns: str) -> None:
        r = node_id(*raw, graph_type)
        if r is None or r[0] in graph.nodes:
            return
        cluster, _svc_ns, svc, _wl_ns, wl, app, version = raw
        node = new_node(r[0], r[1], cluster, ns, wl, app, version, svc, graph_type)
        node.rates.update({"httpIn": 0.0, "httpOut": 0.0})
        node.metadata["isIdle"] = True
        graph.nodes[node.id] = node
