"""Adding one series' value to a graph: nodes, the edge, rates, responses (Kiali 1.5-1.6).

Kept apart from build.py so the per-series hot loop is small and readable; a 50,000-edge mesh
runs it a few hundred thousand times.
"""

from __future__ import annotations

from meshreport.graph.ids import new_node, node_id
from meshreport.graph.model import Edge, Node, TrafficGraph, is_ok
from meshreport.graph.telemetry import Ends, Raw


class NodeFactory:
    """Creates nodes for raw label tuples, caching id resolution (it is pure in its inputs)."""

    def __init__(self, graph_type: str, ids: dict[Raw, tuple[str, str] | None] | None = None) -> None:
        self.graph_type = graph_type
        #: May be shared by every factory of one build (same graph type): ids never change.
        self._ids: dict[Raw, tuple[str, str] | None] = {} if ids is None else ids

    def resolve(self, raw: Raw) -> tuple[str, str] | None:
        try:
            return self._ids[raw]
        except KeyError:
            r = self._ids[raw] = node_id(*raw, self.graph_type)
            return r

    def get(self, graph: TrafficGraph, raw: Raw) -> Node | None:
        try:
            r = self._ids[raw]
        except KeyError:
            r = self.resolve(raw)
        if r is None:
            return None
        nid, ntype = r
        node = graph.nodes.get(nid)
        if node is None:
            cluster, svc_ns, svc, wl_ns, wl, app, version = raw
            namespace = wl_ns if is_ok(wl_ns) else svc_ns
            node = new_node(nid, ntype, cluster, namespace, wl, app, version, svc, self.graph_type)
            graph.nodes[nid] = node
        return node


def response_code(labels: dict[str, str], protocol: str) -> str:
    """Kiali's code for a request series: 0 -> "-", gRPC status unless the HTTP code is an error."""
    return code_of(labels.get("response_code", ""), labels.get("grpc_response_status"), protocol)


def code_of(code: str, grpc: str | None, protocol: str) -> str:
    """`response_code` from the two label values themselves."""
    if code == "0":
        return "-"
    if protocol == "grpc":
        is_http_err = len(code) == 3 and code[0] in "45"
        if not is_http_err and grpc:
            return grpc
    return code


def add_series(
    graph: TrafficGraph,
    nodes: NodeFactory,
    ends: Ends,
    metric: str,
    protocol: str,
    value: float,
    code: str,
    flags: str,
    *,
    errors: bool = True,
    ends_nodes: dict[int, tuple[Node | None, Node | None, Node | None]] | None = None,
) -> None:
    """Apply one series (both hops when a service node is injected), skipping duplicates.

    Kiali hashes the series once from its source and final destination; the service->dest hop is
    applied only when the source->service hop was new, so two workloads behind one service never
    collapse into one value on the injected edge.

    `ends` must come from a `Resolver`, which hands out one object per distinct value, so its
    identity stands for its value: `ends_nodes` (one dict per namespace graph) remembers the
    nodes of each flow, and the series hash holds `id(ends)` instead of both ends' labels.
    """
    found = ends_nodes.get(id(ends)) if ends_nodes is not None else None
    if found is None:
        get = nodes.get
        src = get(graph, ends.source)
        dst = get(graph, ends.dest) if src is not None else None
        svc = get(graph, ends.service) if ends.service is not None and dst is not None else None
        found = (src, dst, svc)
        if ends_nodes is not None:
            ends_nodes[id(ends)] = found
    src, dst, svc = found
    if src is None or dst is None:
        return
    # Kiali's series hash (metric, both ends, code, flags, host): the ends object is that value.
    seen = (metric, id(ends), code, flags)
    if ends.service is None:
        if _add_edge_traffic(graph, src, dst, protocol, value, code, flags, ends.host, seen, errors):
            if ends.dest_service is not None:
                dst.dest_services.add(ends.dest_service)
        return
    if svc is None:
        return
    svc.metadata["isInjected"] = True
    if _add_edge_traffic(graph, src, svc, protocol, value, code, flags, ends.host, seen, errors):
        if ends.dest_service is not None:
            svc.dest_services.add(ends.dest_service)
            dst.dest_services.add(ends.dest_service)
        _add_edge_traffic(graph, svc, dst, protocol, value, code, flags, ends.host, seen, errors)


def _add_edge_traffic(
    graph: TrafficGraph,
    src: Node,
    dst: Node,
    protocol: str,
    value: float,
    code: str,
    flags: str,
    host: str,
    seen: tuple,
    errors: bool,
) -> bool:
    """The one edge per (source, dest, protocol); False when this series was already applied."""
    key = (src.id, dst.id, protocol)
    edge = graph.edges.get(key)
    if edge is None:
        edge = graph.edges[key] = Edge(src.id, dst.id, protocol)
    applied = edge.seen
    if seen in applied:
        return False
    applied.add(seen)
    if value > 0:
        add_value(src, dst, edge, protocol, value, code, flags, host, errors=errors)
    return True


_OUT_IN = {p: (p + "Out", p + "In") for p in ("http", "grpc", "tcp")}


def add_value(
    src: Node,
    dst: Node,
    edge: Edge,
    protocol: str,
    value: float,
    code: str,
    flags: str,
    host: str,
    *,
    errors: bool = True,
) -> None:
    """Kiali's AddToMetadata: node in/out totals, edge total, error classes, responses."""
    sr, dr, er = src.rates, dst.rates, edge.rates
    out_k, in_k = _OUT_IN.get(protocol) or (protocol + "Out", protocol + "In")
    sr[out_k] = sr.get(out_k, 0.0) + value
    dr[in_k] = dr.get(in_k, 0.0) + value
    er[protocol] = er.get(protocol, 0.0) + value
    cls: tuple[str, str] | None = None
    if protocol == "http":
        if code == "-":
            cls = ("httpInNoResponse", "httpNoResponse")
        elif code[:1] in ("3", "4", "5") and code:
            cls = (f"httpIn{code[0]}xx", f"http{code[0]}xx")
    elif protocol == "grpc" and errors:
        if code == "-":
            cls = ("grpcInNoResponse", "grpcNoResponse")
        elif (code[0] in "45") if len(code) == 3 else (code != "0" and code != ""):
            cls = ("grpcInErr", "grpcErr")
    if cls is not None:
        dr[cls[0]] = dr.get(cls[0], 0.0) + value
        er[cls[1]] = er.get(cls[1], 0.0) + value
    rkey = code or "-"
    resp = edge.responses.get(rkey)
    if resp is None:
        resp = edge.responses[rkey] = {"flags": {}, "hosts": {}}
    fl, hs = resp["flags"], resp["hosts"]
    flags = flags or "-"
    fl[flags] = fl.get(flags, 0.0) + value
    hs[host] = hs.get(host, 0.0) + value


def add_outgoing(node: Node, edge: Edge) -> None:
    """Kiali's AddOutgoingEdgeToMetadata: count an edge's total in its source's `<proto>Out`."""
    total = edge.rates.get(edge.protocol, 0.0)
    if total:
        node.add_rate(edge.protocol + "Out", total)


def reset_outgoing(node: Node) -> None:
    """Kiali's ResetOutgoingMetadata."""
    for k in ("httpOut", "grpcOut", "tcpOut"):
        node.rates.pop(k, None)
