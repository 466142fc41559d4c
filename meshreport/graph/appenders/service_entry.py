"""serviceEntry: replace the service nodes a ServiceEntry declares by one node per ServiceEntry.

Traffic to `api.example.com` and `www.example.com` is one dependency (the SE) for a reader, and
Kiali shows it as one `isServiceEntry` node with the SE's hosts and location.
"""

from __future__ import annotations

import copy

from meshreport.graph.appenders.base import AppenderContext, in_index, out_index, remove_nodes
from meshreport.graph.ids import new_node
from meshreport.graph.model import Edge, Node, TrafficGraph, is_ok
from meshreport.snapshot.model import ConfigObject


def exported_to(se: ConfigObject, namespace: str) -> bool:
    """SE `exportTo` (default: everywhere, the mesh default `*`)."""
    export = se.spec.get("exportTo") or ["*"]
    return "*" in export or namespace in export or ("." in export and se.namespace == namespace)


def matches(se: ConfigObject, service: str) -> bool:
    """Host equals the reported service name; MESH_INTERNAL also matches by the host's first label."""
    internal = se.spec.get("location") == "MESH_INTERNAL"
    for host in se.spec.get("hosts") or []:
        if host == service:
            return True
        if internal:
            parts = host.split(".")
            if len(parts) == 3 and parts[2] == "global":
                continue
            if parts[0] == service:
                return True
    return False


def _merge_edge(graph: TrafficGraph, source: str, dest: str, e: Edge) -> None:
    key = (source, dest, e.protocol)
    have = graph.edges.get(key)
    if have is None:
        new = Edge(source, dest, e.protocol, rates=dict(e.rates), metadata=dict(e.metadata))
        new.responses = copy.deepcopy(e.responses)
        graph.edges[key] = new
        return
    for k, v in e.rates.items():
        have.rates[k] = have.rates.get(k, 0.0) + v
    for code, resp in e.responses.items():
        mine = have.responses.setdefault(code, {"flags": {}, "hosts": {}})
        for part in ("flags", "hosts"):
            for k, v in resp.get(part, {}).items():
                mine[part][k] = mine[part].get(k, 0.0) + v


class ServiceEntryAppender:
    name = "serviceEntry"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        ses = [se for se in ctx.index.service_entries if ctx.is_accessible(se.cluster, se.namespace or "")]
        if not ses:
            return
        visible: dict[str, list[ConfigObject]] = {}

        def visible_in(ns: str) -> list[ConfigObject]:
            if ns not in visible:
                visible[ns] = [se for se in ses if exported_to(se, ns)]
            return visible[ns]

        ins = in_index(graph)
        groups: dict[tuple[str, str, str], tuple[ConfigObject, list[Node]]] = {}
        for n in list(graph.nodes.values()):
            if n.node_type != "service" or n.metadata.get("isEgressCluster") or n.metadata.get("isInjected"):
                continue
            lookup: list[str] = []
            if is_ok(n.cluster) and is_ok(n.namespace):
                lookup.append(n.namespace)
            for e in ins.get(n.id, []):
                src = graph.nodes.get(e.source)
                if src is not None and src.node_type != "service" and src.namespace not in lookup:
                    lookup.append(src.namespace)
            for ns in lookup:
                se = next((se for se in visible_in(ns) if matches(se, n.service)), None)
                if se is not None:
                    groups.setdefault((n.cluster, se.namespace or "", se.name), (se, []))[1].append(n)
                    break
        if not groups:
            return
        outs = out_index(graph)
        remap: dict[str, str] = {}
        targets: list[Node] = []
        for (cluster, se_ns, se_name), (se, members) in groups.items():
            nid = f"svc_{cluster}_{se_ns}_{se_name}"
            target = new_node(nid, "service", cluster, se_ns, "", "", "", se_name, ctx.graph_type)
            target.metadata["isServiceEntry"] = {
                "hosts": list(se.spec.get("hosts") or []),
                "location": se.spec.get("location") or "MESH_EXTERNAL",
                "namespace": se_ns,
            }
            for m in members:
                remap[m.id] = nid
                for k, v in m.rates.items():
                    target.rates[k] = target.rates.get(k, 0.0) + v
                target.dest_services |= m.dest_services
            targets.append(target)
        moved = [e for mid in remap for e in ins.get(mid, []) + outs.get(mid, [])]
        remove_nodes(graph, set(remap))
        for t in targets:
            graph.nodes[t.id] = t
        done: set[tuple[str, str, str]] = set()
        for e in moved:
            if e.key in done:  # an edge between two members is both in and out
                continue
            done.add(e.key)
            _merge_edge(graph, remap.get(e.source, e.source), remap.get(e.dest, e.dest), e)
