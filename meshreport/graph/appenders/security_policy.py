"""securityPolicy: edge `isMTLS` (% of traffic with connection_security_policy=mutual_tls) and
the source/destination principals, from destination-reported telemetry."""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.model import TrafficGraph
from meshreport.graph.vectorised import SeriesMapper
from meshreport.snapshot.keys import (
    REQUEST_MESSAGES,
    REQUESTS,
    RESPONSE_MESSAGES,
    TCP_RECEIVED,
    TCP_SENT,
    security_policy_key,
)

ROLES = ("incoming", "outgoing")
LABELS = ("connection_security_policy", "source_principal", "destination_principal")


def security_metrics(ctx: AppenderContext) -> list[str]:
    """The metrics Kiali ORs together for the enabled rates (TCP here is NOT swapped)."""
    o = ctx.options
    out = []
    if o.rate_http == "requests" or o.rate_grpc == "requests":
        out.append(REQUESTS)
    if o.rate_grpc in ("sent", "total"):
        out.append(REQUEST_MESSAGES)
    if o.rate_grpc in ("received", "total"):
        out.append(RESPONSE_MESSAGES)
    if o.rate_tcp in ("sent", "total"):
        out.append(TCP_SENT)
    if o.rate_tcp in ("received", "total"):
        out.append(TCP_RECEIVED)
    return out


class SecurityPolicyAppender:
    name = "securityPolicy"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        keys = [security_policy_key(metric, role) for metric in security_metrics(ctx) for role in ROLES]
        # Rate per (pair, policy), summed in series order; principals of each pair's first series.
        policies, principals = SeriesMapper(ctx).policies(keys, LABELS)
        if not policies and not principals:
            return
        for (src, dst, _protocol), e in graph.edges.items():
            key = (src, dst)
            d = policies.get(key)
            if d is not None:
                total = sum(d.values())
                mtls = d.get("mutual_tls", 0.0) / total * 100.0 if total > 0 else 0.0
                if mtls > 0:
                    e.metadata["isMTLS"] = mtls
            p = principals.get(key)
            if p is not None:
                if p[0]:
                    e.metadata["sourcePrincipal"] = p[0]
                if p[1]:
                    e.metadata["destPrincipal"] = p[1]
