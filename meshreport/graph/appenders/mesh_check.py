"""meshCheck (alias sidecarsCheck): `isOutOfMesh` for nodes whose workloads run without a proxy.

A report reader needs to see which services are outside the mesh: no mTLS, no telemetry of their own.
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.config_index import WorkloadInfo
from meshreport.graph.model import Node, TrafficGraph
from meshreport.istio_names import CONTROL_PLANE_NAMESPACES


def backing_workloads(node: Node, ctx: AppenderContext) -> list[WorkloadInfo]:
    """The workloads behind a workload or app node (app nodes: by app and version labels)."""
    if node.node_type == "workload":
        w = ctx.index.workload(node.cluster, node.namespace, node.workload)
        return [w] if w is not None else []
    if node.node_type == "app":
        return ctx.index.app_workloads_for(node.namespace, node.app, node.version)
    return []


class MeshCheckAppender:
    name = "meshCheck"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        for n in graph.nodes.values():
            if n.namespace != ctx.namespace or n.namespace in CONTROL_PLANE_NAMESPACES:
                continue
            if n.node_type not in ("workload", "app") or n.metadata.get("isDead"):
                continue
            if not ctx.is_accessible(n.cluster, n.namespace):
                continue
            ws = backing_workloads(n, ctx)
            if not ws:
                continue
            if all(w.is_ambient or w.is_waypoint for w in ws):
                n.metadata["isAmbient"] = True
            if any(not (w.has_sidecar or w.is_ambient or w.is_gateway or w.is_waypoint) for w in ws):
                n.metadata["isOutOfMesh"] = True
