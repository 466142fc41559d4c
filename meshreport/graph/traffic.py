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
        self.ids: dict[Raw, tuple[str, str] | None] = {} if ids is None else ids

    def resolve(self, raw: Raw) -> tuple[str, str] | None:
        try:
            return self.ids[raw]
        except KeyError:
            r = self.ids[raw] = node_id(*raw, self.graph_type)
            return r

    def get(self, graph: TrafficGraph, raw: Raw) -> Node | None:
        try:
            r = self.ids[raw]
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


class FlowWriter:
    """Applies series to one namespace graph (Kiali 1.5.9-1.5.10), remembering per flow its hops.

    A flow is one `Ends` (from a `Resolver`, which hands out one object per distinct value, so
    its identity stands for its value) and one protocol. Its nodes and edges are looked up once,
    at its first series; later series of the flow only add their values.

    Kiali hashes each series from its metric, both ends, code, flags and host and applies it
    once; the ends are the flow, so the hash is kept per flow as (metric, code, flags). With an
    injected service node both hops are applied together, so two workloads behind one service
    never collapse into one value on the injected edge.
    """

    def __init__(self, graph: TrafficGraph, nodes: NodeFactory) -> None:
        self.graph = graph
        self.nodes = nodes
        self._flows: dict[tuple[int, str], _Flow | None] = {}
        self._nodes: dict[int, tuple[Node | None, Node | None, Node | None]] = {}

    def add(
        self, ends: Ends, metric: str, protocol: str, value: float, code: str, flags: str, errors: bool = True
    ) -> None:
        key = (id(ends), protocol)
        try:
            flow = self._flows[key]
        except KeyError:
            flow = self._flows[key] = self._flow(ends, protocol)
        if flow is None:
            return
        seen = (metric, code, flags)
        if seen in flow.seen:
            return
        flow.seen.add(seen)
        if value > 0:
            for src, dst, edge in flow.hops:
                add_value(src, dst, edge, protocol, value, code, flags, ends.host, errors=errors)

    def _flow(self, ends: Ends, protocol: str) -> _Flow | None:
        """The flow's hops, creating its nodes (the source even when the dest resolves to no
        node, as Kiali does) and edges."""
        found = self._nodes.get(id(ends))
        if found is None:
            get, graph = self.nodes.get, self.graph
            src = get(graph, ends.source)
            dst = get(graph, ends.dest) if src is not None else None
            svc = get(graph, ends.service) if ends.service is not None and dst is not None else None
            found = self._nodes[id(ends)] = (src, dst, svc)
        src, dst, svc = found
        if src is None or dst is None:
            return None
        edge = self.graph.edge
        if ends.service is None:
            if ends.dest_service is not None:
                dst.dest_services.add(ends.dest_service)
            return _Flow([(src, dst, edge(src.id, dst.id, protocol))])
        if svc is None:
            return None
        svc.metadata["isInjected"] = True
        if ends.dest_service is not None:
            svc.dest_services.add(ends.dest_service)
            dst.dest_services.add(ends.dest_service)
        return _Flow([(src, svc, edge(src.id, svc.id, protocol)), (svc, dst, edge(svc.id, dst.id, protocol))])


class _Flow:
    __slots__ = ("hops", "seen")

    def __init__(self, hops: list[tuple[Node, Node, Edge]]) -> None:
        self.hops = hops
        self.seen: set[tuple[str, str, str]] = set()


_OUT_IN = {p: (p + "Out", p + "In") for p in ("http", "grpc", "tcp")}


def error_class(protocol: str, code: str, errors: bool = True) -> tuple[str, str] | None:
    """(dest node field, edge field) a response code counts in, or None (not an error class)."""
    if protocol == "http":
        if code == "-":
            return ("httpInNoResponse", "httpNoResponse")
        if code[:1] in ("3", "4", "5") and code:
            return (f"httpIn{code[0]}xx", f"http{code[0]}xx")
    elif protocol == "grpc" and errors:
        if code == "-":
            return ("grpcInNoResponse", "grpcNoResponse")
        if (code[0] in "45") if len(code) == 3 else (code != "0" and code != ""):
            return ("grpcInErr", "grpcErr")
    return None


#: (protocol, code, errors) -> (out field, in field, error_class): a mesh has few distinct codes.
_FIELDS: dict[tuple[str, str, bool], tuple[str, str, tuple[str, str] | None]] = {}


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
    try:
        out_k, in_k, cls = _FIELDS[(protocol, code, errors)]
    except KeyError:
        out_k, in_k = _OUT_IN.get(protocol) or (protocol + "Out", protocol + "In")
        cls = error_class(protocol, code, errors)
        if len(_FIELDS) < 4096:
            _FIELDS[(protocol, code, errors)] = (out_k, in_k, cls)
    sr, dr, er = src.rates, dst.rates, edge.rates
    sr[out_k] = sr.get(out_k, 0.0) + value
    dr[in_k] = dr.get(in_k, 0.0) + value
    er[protocol] = er.get(protocol, 0.0) + value
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
