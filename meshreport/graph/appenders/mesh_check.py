"""meshCheck (alias sidecarsCheck): `isOutOfMesh` for nodes whose workloads run without a proxy.

A report reader needs to see which services are outside the mesh: no mTLS, no telemetry of their own.
"""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.config_index import WorkloadInfo
from meshreport.graph.model import Node, TrafficGraph
from meshreport.istio_names import CONTROL_PLANE_NAMESPACES


def backing_workloads(node: Node, ctx: AppenderContext) -> list[WorkloadInfo]:
    """The workloads behind a workload or app node, in the node's own cluster as Kiali looks them
    up (app nodes: by app and version labels). node_config.py's `_Matcher.backing` (the service
    pages' config) still looks a workload up in any cluster and matches a version literally: its
    docstring says why the two are not one function yet."""
    if node.node_type == "workload":
        w = ctx.index.workload(node.cluster, node.namespace, node.workload, strict=True)
        return [w] if w is not None else []
    if node.node_type == "app":
        return ctx.index.app_workloads_in(node.cluster, node.namespace, node.app, node.version)
    return []


class MeshCheckAppender:
    name = "meshCheck"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        """Kiali's rule, on every node of the namespace's graph (a missing proxy means missing
        telemetry, so nodes are checked wherever they can be): a workload is in the mesh when its
        pods carry Istio's sidecar status (no pods cannot prove otherwise), is Ambient or is a
        gateway; an app node is out of mesh when any workload lacks a proxy, unless all of them are
        Ambient or all are gateways."""
        for n in graph.nodes.values():
            md = n.metadata
            if md.get("isOutOfMesh") or n.node_type not in ("workload", "app") or md.get("isDead"):
                continue
            if not ctx.is_accessible(n.cluster, n.namespace) or n.namespace in CONTROL_PLANE_NAMESPACES:
                continue
            ws = backing_workloads(n, ctx)
            sidecar = all(w.in_mesh_or_unknown for w in ws)
            ambient = all(w.is_ambient for w in ws)
            gateway = all(w.is_gateway for w in ws)
            waypoint = bool(md.get("isWaypoint"))
            if ambient or waypoint:
                md["isAmbient"] = True
            if not (sidecar or ambient or gateway or waypoint):
                md["isOutOfMesh"] = True
