"""Node ids, node types and field trimming exactly as Kiali makes them (Kiali graph/types.go).

Ids are plain strings (`wl_<cluster>_<ns>_<workload>` ...) so that two namespace graphs, the
appenders and the exports all agree on node identity without sharing objects. JSON ids are the
SHA-256 of those strings, which is what Kiali's graph JSON carries.
"""

from __future__ import annotations

import hashlib

from meshreport.graph.model import Node, is_ok

UNKNOWN = "unknown"
PASSTHROUGH_CLUSTER = "PassthroughCluster"
BLACKHOLE_CLUSTER = "BlackHoleCluster"
EGRESS_CLUSTERS = (PASSTHROUGH_CLUSTER, BLACKHOLE_CLUSTER)


def node_id(
    cluster: str,
    svc_ns: str,
    svc: str,
    wl_ns: str,
    wl: str,
    app: str,
    version: str,
    graph_type: str,
) -> tuple[str, str] | None:
    """(id, node type) for one end of a series, or None when the labels name nothing (skip it).

    The service graph is built as a workload graph first, so it shares the workload rules.
    """
    namespace = wl_ns if is_ok(wl_ns) else svc_ns
    if namespace == UNKNOWN and wl == UNKNOWN and app == UNKNOWN and svc == "":
        return f"{cluster}_unknown_source", "unknown"
    if wl == UNKNOWN and app == UNKNOWN and svc == UNKNOWN:
        return f"svc_{cluster}_{namespace}_unknown", "service"
    wl_ok, app_ok, svc_ok = is_ok(wl), is_ok(app), is_ok(svc)
    if not (wl_ok or app_ok or svc_ok):
        return None
    service_ns = svc_ns if is_ok(svc_ns) else namespace
    if graph_type in ("workload", "service"):
        if not wl_ok and not svc_ok:
            return None
        if not wl_ok:
            return f"svc_{cluster}_{service_ns}_{svc}", "service"
        return f"wl_{cluster}_{namespace}_{wl}", "workload"
    if app_ok:
        if graph_type == "versionedApp":
            if wl_ok:
                return f"vapp_{cluster}_{namespace}_{wl}", "app"
            if is_ok(version) and version != "latest":
                return f"vapp_{cluster}_{namespace}_{app}_{version}", "app"
        return f"app_{cluster}_{namespace}_{app}", "app"
    if wl_ok:
        return f"wl_{cluster}_{namespace}_{wl}", "workload"
    return f"svc_{cluster}_{service_ns}_{svc}", "service"


def new_node(
    nid: str,
    node_type: str,
    cluster: str,
    namespace: str,
    workload: str,
    app: str,
    version: str,
    service: str,
    graph_type: str,
) -> Node:
    """A node with Kiali's field trimming (NewNodeExplicit): each type keeps only what names it."""
    if node_type == "workload":
        app = "" if app == UNKNOWN else app
        version = "" if version == UNKNOWN else version
        service = ""
    elif node_type == "app":
        if graph_type != "versionedApp":
            workload = ""
            version = ""
        service = ""
    elif node_type == "service":
        app = workload = version = ""
    node = Node(
        id=nid,
        node_type=node_type,
        cluster=cluster,
        namespace=namespace,
        workload=workload,
        app=app,
        version=version,
        service=service,
    )
    if node_type == "service" and service in EGRESS_CLUSTERS:
        node.metadata["isEgressCluster"] = True
    return node


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def json_node_id(internal_id: str) -> str:
    """The `id` Kiali puts in graph JSON for a node: hex SHA-256 of the internal id."""
    return _sha(internal_id)


def json_edge_id(source_id: str, dest_id: str, protocol: str) -> str:
    """Edge JSON id: SHA-256 of `<sourceHash>.<destHash>.<protocol>` (internal ids as input)."""
    return _sha(f"{_sha(source_id)}.{_sha(dest_id)}.{protocol}")


def box_id(cluster: str, namespace: str | None = None, app: str | None = None) -> str:
    """Compound node id: cluster, namespace or app box (`box_<cluster>[_<ns>[_<app>]]`)."""
    parts = ["box", cluster]
    if namespace is not None:
        parts.append(namespace)
        if app is not None:
            parts.append(app)
    return _sha("_".join(parts))
