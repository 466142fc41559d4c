"""Reducing a service-injected workload graph to a service graph (Kiali ReduceToServiceGraph, 1.7).

Traffic that ends at workloads disappears; a workload behind several services lends its outgoing
traffic to each of them. That loss is Kiali's, and a report must show the same picture.
"""

from __future__ import annotations

from collections import defaultdict

from meshreport.graph.model import Edge, TrafficGraph
from meshreport.graph.traffic import add_outgoing, reset_outgoing


def _add_edge_traffic(into: Edge, other: Edge) -> None:
    for k, v in other.rates.items():
        into.rates[k] = into.rates.get(k, 0.0) + v
    for code, resp in other.responses.items():
        mine = into.responses.setdefault(code, {"flags": {}, "hosts": {}})
        for part in ("flags", "hosts"):
            d = mine.setdefault(part, {})
            for k, v in resp.get(part, {}).items():
                d[k] = d.get(k, 0.0) + v


def _copy_edge(e: Edge, source: str) -> Edge:
    """A copy whose rates and responses can be added to without touching `e` (responses are
    code -> part -> {key: rate}, copied level by level: deepcopy took a second at 10,000
    workloads)."""
    responses = {code: {part: dict(d) for part, d in resp.items()} for code, resp in e.responses.items()}
    return Edge(source, e.dest, e.protocol, rates=dict(e.rates), responses=responses, metadata=dict(e.metadata))


def reduce_to_service_graph(graph: TrafficGraph) -> TrafficGraph:
    """Keep service nodes and root non-service nodes that call services; fold S->W->S2 into S->S2."""
    out_edges: dict[str, list[Edge]] = defaultdict(list)
    for e in graph.edges.values():
        out_edges[e.source].append(e)
    nodes = graph.nodes
    reduced = TrafficGraph(
        graph_type=graph.graph_type,
        timestamp=graph.timestamp,
        duration=graph.duration,
        namespaces=graph.namespaces,
        options=graph.options,
    )
    for nid, n in nodes.items():
        if n.node_type != "service":
            if not n.metadata.get("isRoot"):
                continue
            keep = [e for e in out_edges.get(nid, []) if nodes[e.dest].node_type == "service"]
            if not keep:
                continue
            reset_outgoing(n)
            reduced.nodes[nid] = n
            for e in keep:
                reduced.edges[e.key] = e
                add_outgoing(n, e)
            continue
        reduced.nodes[nid] = n
        reset_outgoing(n)
        merged: dict[tuple[str, str], Edge] = {}
        for to_workload in out_edges.get(nid, []):
            for e in out_edges.get(to_workload.dest, []):
                if nodes[e.dest].node_type != "service":
                    continue
                k = (e.dest, e.protocol)
                have = merged.get(k)
                if have is None:
                    merged[k] = _copy_edge(e, nid)
                else:
                    _add_edge_traffic(have, e)
        for e in merged.values():
            reduced.edges[e.key] = e
            add_outgoing(n, e)
    return reduced
