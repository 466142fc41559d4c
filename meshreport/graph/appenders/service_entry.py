"""serviceEntry: replace the service nodes a ServiceEntry declares by one node per ServiceEntry.

Traffic to `api.example.com` and `www.example.com` is one dependency (the SE) for a reader, and
Kiali shows it as one `isServiceEntry` node with the SE's hosts and location.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from meshreport.graph.appenders.base import AppenderContext, in_index, out_index, remove_nodes
from meshreport.graph.ids import new_node
from meshreport.graph.model import Edge, Node, TrafficGraph, is_ok


def exported_to(export: list[str], se_namespace: str, viewer: str) -> bool:
    """Kiali's IsExportedTo: empty = everywhere; `*` everywhere; `.` the SE's own namespace; `~` nowhere."""
    if not export:
        return True
    for e in export:
        if e == "*" or e == viewer or (e == "." and se_namespace == viewer):
            return True
    return False


@dataclass
class VisibleEntry:
    """A ServiceEntry as seen from one client namespace (Kiali's `serviceEntry`): the node it becomes
    belongs to that namespace, so `namespace` is the viewer's, not the SE's own."""

    cluster: str
    name: str
    namespace: str
    location: str
    export_to: list[str]
    hosts: list[str] = field(default_factory=list)


def add_host(table: dict[str, list[VisibleEntry]], host: str, entry: VisibleEntry) -> None:
    """Kiali's addHost: of several SEs for one host, one exported to specific namespaces is tried first."""
    have = table.get(host)
    if have is None:
        table[host] = [entry]
    elif not entry.export_to or entry.export_to[0] == "*":
        have.append(entry)
    else:
        have.insert(0, entry)
    entry.hosts.append(host)


def match(table: dict[str, list[VisibleEntry]], service: str) -> VisibleEntry | None:
    """Kiali's getServiceEntry: a host equal to the service name (wildcard hosts too: Istio reports the
    wildcard as the name); for MESH_INTERNAL entries also a host whose first DNS label is the name,
    except three-label `<svc>.<ns>.global` multi-cluster hosts, which match exactly only."""
    for host, entries in table.items():
        for se in entries:
            if host == service:
                return se
            if se.location == "MESH_INTERNAL":
                parts = host.split(".")
                if len(parts) == 3 and parts[2] == "global":
                    continue
                if parts[0] == service:
                    return se
    return None


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
        if not graph.nodes or not ctx.index.service_entries:
            return
        tables: dict[tuple[str, str], dict[str, list[VisibleEntry]]] = {}

        def visible(cluster: str, namespace: str) -> dict[str, list[VisibleEntry]]:
            """host -> entries visible from the client namespace; empty when it is not readable."""
            key = (cluster, namespace)
            if key not in tables:
                table: dict[str, list[VisibleEntry]] = {}
                if ctx.is_accessible(cluster, namespace):
                    for se in ctx.index.service_entries:
                        se_ns = se.namespace or ""
                        if se.cluster != cluster or not ctx.is_accessible(se.cluster, se_ns):
                            continue
                        export = [str(x) for x in se.spec.get("exportTo") or []] or ctx.index.default_export_to(cluster)
                        hosts = se.spec.get("hosts") or []
                        if not isinstance(hosts, list) or not exported_to(export, se_ns, namespace):
                            continue
                        location = "MESH_INTERNAL" if se.spec.get("location") == "MESH_INTERNAL" else "MESH_EXTERNAL"
                        entry = VisibleEntry(cluster, se.name, namespace, location, export)
                        for host in hosts:
                            if isinstance(host, str):
                                add_host(table, host, entry)
                tables[key] = table
            return tables[key]

        outs = out_index(graph)
        groups: dict[int, tuple[VisibleEntry, list[Node]]] = {}

        def take(entry: VisibleEntry | None, node: Node) -> None:
            if entry is not None:
                groups.setdefault(id(entry), (entry, []))[1].append(node)

        for n in list(graph.nodes.values()):
            md = n.metadata
            if n.node_type == "service":
                # a non-injected service node with a known cluster and namespace may be a MESH_INTERNAL SE
                if md.get("isInjected") or not (is_ok(n.cluster) and is_ok(n.namespace)):
                    continue
                if not md.get("isEgressCluster"):
                    take(match(visible(n.cluster, n.namespace), n.service), n)
                continue
            # a caller of a non-injected service node: the SE must be visible from the caller
            edges = outs.get(n.id, [])
            if not any(
                graph.nodes[e.dest].node_type == "service" and not graph.nodes[e.dest].metadata.get("isInjected")
                for e in edges
            ):
                continue
            table = visible(n.cluster, n.namespace)
            for e in edges:
                dest = graph.nodes[e.dest]
                if dest.node_type == "service" and not dest.metadata.get("isEgressCluster"):
                    take(match(table, dest.service), dest)
        for entry, members in groups.values():
            self._replace(graph, ctx, entry, members)

    def _replace(self, graph: TrafficGraph, ctx: AppenderContext, entry: VisibleEntry, members: list[Node]) -> None:
        """Fold the entry's service nodes into one SE node in the namespace being processed.

        Callers in other clusters keep their edge to the original node (each cluster has its own SEs).
        """
        namespace = ctx.namespace or entry.namespace
        nid = f"svc_{entry.cluster}_{namespace}_{entry.name}"
        target = graph.nodes.get(nid)
        if target is None or "isServiceEntry" not in target.metadata:  # new, or a member of the same name
            target = new_node(nid, "service", entry.cluster, namespace, "", "", "", entry.name, ctx.graph_type)
            target.metadata["isServiceEntry"] = {
                "hosts": list(entry.hosts),
                "location": entry.location,
                "namespace": entry.namespace,
            }
        ins = in_index(graph)
        outs = out_index(graph)
        doomed: set[str] = set()
        moved: list[tuple[str, str, Edge]] = []
        unique = {m.id: m for m in members}
        for m in unique.values():
            if m.id not in graph.nodes or m is target:
                continue  # already folded by an overlapping entry
            for k, v in m.rates.items():
                target.rates[k] = target.rates.get(k, 0.0) + v
            target.dest_services |= m.dest_services
            keep = False
            for e in ins.get(m.id, []):
                src = graph.nodes.get(e.source)
                if src is not None and src.cluster != entry.cluster:
                    keep = True
                    continue
                moved.append((e.source if e.source != m.id else nid, nid, e))
                del graph.edges[e.key]
            for e in outs.get(m.id, []):
                if e.key in graph.edges and e.dest != m.id:
                    moved.append((nid, e.dest, e))
                    if not keep:
                        del graph.edges[e.key]
            if not keep:
                doomed.add(m.id)
        remove_nodes(graph, doomed)
        graph.nodes[nid] = target
        for source, dest, e in moved:
            _merge_edge(graph, source, dest, e)
