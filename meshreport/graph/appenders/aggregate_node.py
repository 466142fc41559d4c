"""aggregateNode: request aggregate nodes (Kiali graph/telemetry/istio/appender/aggregate_node.go).

For a metric label (`--aggregate`, default `request_operation`, Istio's request classification),
every classified request series puts an aggregate node between its source and its destination:
the source's edges to that destination are replaced by `source -> aggregate -> destination`. With
service nodes injected the destination is the service and the aggregate is the service's
(`agg_<cluster>_<ns>_<label>_<value>_<service>`, app and service set); without, the destination is
the workload or app node and the aggregate is the namespace's (`agg_<cluster>_<ns>_<label>_<value>`).
Only the aggregate node and the new edges get traffic; the other nodes keep theirs, as in Kiali.
With `--aggregate-value` only that value is drawn, for requests to the namespace's services (Kiali's
aggregate node graph). Not for service graphs, and requests only (no TCP or gRPC messages).

The series come from the snapshot (`snapshot --aggregate LABEL`); without them the appender adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.ids import node_id
from meshreport.graph.model import Node, TrafficGraph
from meshreport.graph.telemetry import RESOLVE_LABELS, resolve_key
from meshreport.graph.traffic import add_value, response_code
from meshreport.snapshot.keys import APPENDER_ROLES, aggregate_key


def aggregate_id(cluster: str, namespace: str, label: str, value: str, service: str) -> str:
    """Kiali's AggregateID."""
    if not service:
        return f"agg_{cluster}_{namespace}_{label}_{value}"
    return f"agg_{cluster}_{namespace}_{label}_{value}_{service}"


class AggregateNodeAppender:
    name = "aggregateNode"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        o = ctx.options
        if not graph.nodes or o.graph_type == "service":
            return
        if not ctx.http_requests and not ctx.grpc_requests:
            return
        for labels, value in self._series(ctx):
            self._inject(graph, ctx, labels, value)

    def _series(self, ctx: AppenderContext) -> Iterator[tuple[dict[str, str], float]]:
        """Kiali's queries in its order: callers outside the namespace, then inside. With a value, the
        node-graph form: that value, to the namespace's services (the same series, filtered)."""
        o = ctx.options
        label, wanted = o.aggregate, o.aggregate_value
        for role in APPENDER_ROLES:
            q = ctx.query(aggregate_key(label, role))
            if q is None:
                continue
            for s in q.series:
                lb = s.labels
                if wanted and (lb.get(label) != wanted or lb.get("destination_service_namespace") != ctx.namespace):
                    continue
                if s.value is None or s.value != s.value or s.value <= 0:
                    continue
                yield lb, float(s.value)

    def _inject(self, graph: TrafficGraph, ctx: AppenderContext, lb: dict[str, str], value: float) -> None:
        o = ctx.options
        label = o.aggregate
        aggregate = lb.get(label)
        if aggregate is None:
            return  # unset label (Kiali skips it)
        protocol = lb.get("request_protocol")
        if protocol is None or "response_flags" not in lb:
            return
        if (protocol == "http" and not ctx.http_requests) or (protocol == "grpc" and not ctx.grpc_requests):
            return
        ends = resolve_key(tuple(lb.get(k) for k in RESOLVE_LABELS), ctx.graph_type, ctx.inject_service_nodes)
        if ends is None:
            return
        gt = ctx.graph_type
        src = node_id(*ends.source, gt)
        if src is None or src[0] not in graph.nodes:
            return
        d_cluster, d_svc_ns, d_svc_name, d_wl_ns, _, d_app, _ = ends.dest
        if ctx.inject_service_nodes:
            dst = node_id(d_cluster, d_svc_ns, d_svc_name, "", "", "", "", gt)
        else:
            dst = node_id(*ends.dest, gt)
        if dst is None or dst[0] not in graph.nodes:
            return
        source, dest = graph.nodes[src[0]], graph.nodes[dst[0]]
        if ctx.inject_service_nodes:
            agg = _node(graph, d_cluster, d_svc_ns, label, aggregate, d_svc_name, d_app)
        else:
            agg = _node(graph, d_cluster, d_wl_ns, label, aggregate, "", "")
        # the unclassified edges from source to destination give way to the classified ones
        for k in [k for k in graph.edges if k[0] == source.id and k[1] == dest.id]:
            del graph.edges[k]
        code = response_code(lb, protocol)
        flags = lb.get("response_flags", "")
        host = ends.host
        # only the aggregate node and its edges are counted: the other nodes already hold their traffic
        add_value(_scratch(source), agg, graph.edge(source.id, agg.id, protocol), protocol, value, code, flags, host)
        add_value(agg, _scratch(dest), graph.edge(agg.id, dest.id, protocol), protocol, value, code, flags, host)


def _node(graph: TrafficGraph, cluster: str, namespace: str, label: str, value: str, service: str, app: str) -> Node:
    nid = aggregate_id(cluster, namespace, label, value, service)
    node = graph.nodes.get(nid)
    if node is None:
        node = graph.nodes[nid] = Node(
            id=nid,
            node_type="aggregate",
            cluster=cluster,
            namespace=namespace,
            app=app,
            service=service,
            metadata={"aggregate": label, "aggregateValue": value},
        )
    return node


def _scratch(like: Node) -> Node:
    """A stand-in whose rates are thrown away (Kiali passes nil metadata for the non-aggregate end)."""
    return Node(id=like.id, node_type=like.node_type, cluster=like.cluster, namespace=like.namespace)
