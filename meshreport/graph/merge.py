"""Merging per-namespace graphs into one, the way Kiali's MergeTrafficMaps does (1.7)."""

from __future__ import annotations

from collections import defaultdict

from meshreport.graph.model import Edge, TrafficGraph
from meshreport.graph.traffic import add_outgoing


class GraphMerger:
    """Accumulates namespace graphs into `target`, keeping an out-edge index so a merge is linear."""

    def __init__(self, target: TrafficGraph) -> None:
        self.target = target
        self._out: dict[str, dict[tuple[str, str], Edge]] = defaultdict(dict)
        for e in target.edges.values():
            self._out[e.source][(e.dest, e.protocol)] = e

    def merge(self, ns_graph: TrafficGraph, namespace: str) -> None:
        """Nodes unique by id; on a duplicate the instance whose namespace is `namespace` wins
        (it had the namespace appenders applied). The loser's edges are added when the winner has
        no edge to the same (dest, protocol), and their totals count in the winner's `<proto>Out`."""
        target, out = self.target, self._out
        ns_out: dict[str, list[Edge]] = defaultdict(list)
        for e in ns_graph.edges.values():
            ns_out[e.source].append(e)
        for nid, ns_node in ns_graph.nodes.items():
            existing = target.nodes.get(nid)
            mine = ns_out.get(nid, [])
            if existing is None:
                target.nodes[nid] = ns_node
                for e in mine:
                    self._put(e)
                continue
            if ns_node.namespace == namespace:
                # Swap: the namespace's instance and its edges win; old edges fill the gaps.
                target.nodes[nid] = ns_node
                old = out.pop(nid, {})
                for e in mine:
                    self._put(e)
                now = out[nid]
                for key, e in old.items():
                    if key not in now:  # same key: already replaced by the winner's edge
                        now[key] = e
                        add_outgoing(ns_node, e)
            else:
                have = out[nid]
                for e in mine:
                    if (e.dest, e.protocol) not in have:
                        self._put(e)
                        add_outgoing(existing, e)

    def _put(self, e: Edge) -> None:
        self.target.edges[e.key] = e
        self._out[e.source][(e.dest, e.protocol)] = e
